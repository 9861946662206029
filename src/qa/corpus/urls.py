"""What a news URL says about its article: the key that tells whether it is stored already, and
the site it belongs to (whose pages alone may name its canonical URLs).

A query parameter often names the article itself (`?story=b2`, `?storyid=7`, `?t=3`), so only
parameters known to track the reader are dropped; two URLs that differ otherwise are two
articles unless their texts say they are one (see `ingest.article_keys`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Campaign, click and share trackers of the large ad and mail platforms; `utm_*` and the like
# are matched by prefix.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "ref_src",
        "ref_url",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "at_medium",
        "at_campaign",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__hs")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_key(url: str) -> str:
    """The form of `url` used to tell whether an article is already stored: scheme and host in
    lower case, default port, fragment and tracking parameters dropped, the other parameters
    kept (sorted)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL one can normalise: compare it as given
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking(name)
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def is_tracking(name: str) -> bool:
    """True for a query parameter that tracks the reader rather than naming the page."""
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def registrable_domain(url: str) -> str | None:
    """The part of `url`'s host that one owner registers (`bbc.co.uk` for `www.bbc.co.uk`,
    from the public suffix list bundled with `tld`, read offline); an IP address or a
    single-label host is its own; None without a host."""
    from tld import get_fld

    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    found = get_fld(host, fix_protocol=True, fail_silently=True)
    return str(found).lower() if found else host


def same_site(url: str, other: str) -> bool:
    """True when both URLs have a host and the same registrable domain."""
    domain = registrable_domain(url)
    return domain is not None and domain == registrable_domain(other)
