"""The characters of a web page's bytes: by its byte-order mark, else the charset its HTTP
header declares, else the one its `<meta>` declares, else UTF-8 when the bytes are valid UTF-8;
otherwise the caller leaves the guess to detection (trafilatura's).

The header comes before the page, as in browsers (the WHATWG encoding sniffing order): a
server that converts pages says so in its header, and the page's own `<meta>` is then stale.
"""

from __future__ import annotations

import codecs
import re
from email.message import Message

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# `<meta charset="...">` or `<meta http-equiv="Content-Type" content="text/html; charset=...">`,
# within the first bytes, where the HTML standard requires it.
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_META_WINDOW = 4096
# Browsers read pages labelled Latin-1 or ASCII as windows-1252 (which servers really send).
_AS_WINDOWS_1252 = frozenset({"iso8859-1", "ascii"})


def header_charset(content_type: str) -> str | None:
    """The `charset` parameter of a Content-Type header value, if any."""
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return (charset.strip() or None) if isinstance(charset, str) else None


def decode_page(data: bytes, declared: str | None = None) -> str | None:
    """The text of an HTML page whose HTTP header declares the charset `declared`, or None when
    neither a byte-order mark, the header, a `<meta>` nor UTF-8 gives it (leave it to detection).
    A declared charset that is unknown or does not decode the bytes is passed over."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, "replace")
    meta = _META_CHARSET.search(data[:_META_WINDOW])
    for name in (declared, meta.group(1).decode("ascii") if meta else None, "utf-8"):
        text = _decode(data, name) if name else None
        if text is not None:
            return text
    return None


def _decode(data: bytes, name: str) -> str | None:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    candidates = ("cp1252", codec) if codec in _AS_WINDOWS_1252 else (codec,)
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return None
