"""POST / PUT /documents with a news page's URL or an .html upload; metadata everywhere after."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files
from tests.corpus.test_seeds import assert_consistent
from tests.fake_names import FakeNames
from tests.news_site import DATA, NewsSite
from tests.service.conftest import make_client
from tests.service.routes.test_articles import AUTH, TOKEN

BRIDGE = "/2025/03/12/harbour-bridge-reopens"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings, api_token=TOKEN, fetch_allow_private=True, fetch_timeout=5) as c:
        yield c


def test_post_url_stores_the_article_with_its_metadata(
    client: TestClient, settings: Settings, news_site: NewsSite
) -> None:
    r = client.post("/documents", json={"url": news_site.url(BRIDGE)}, headers=AUTH)
    assert r.status_code == 201, r.text
    stored = r.json()
    meta = {
        "title": "Harbour bridge reopens after two-year repair",
        "url": news_site.url(BRIDGE),  # the page's canonical URL is on another site
        "published": "2025-03-12",
        "source": "The Coastal Herald",
        "author": "Maria Lindqvist",
    }
    assert {k: stored[k] for k in meta} == meta
    doc_id = stored["doc_id"]
    (path,) = settings.seeds_dir.glob(f"{doc_id}.*")
    assert path.suffix == ".md" and path.read_text().startswith("---\ntitle: Harbour bridge")
    listed = {d["doc_id"]: d for d in client.get("/documents").json()}
    assert {k: listed[doc_id][k] for k in meta} == meta
    doc = client.get(f"/documents/{doc_id}").json()
    assert {k: doc[k] for k in meta} == meta
    assert not doc["text"].startswith("---") and "published:" not in doc["text"]
    body = client.post(
        "/ask", json={"question": "How many cables did engineers replace on the bridge?"}
    ).json()
    cite = body["citations"][0]
    assert cite["doc_id"] == doc_id
    assert "312 cables" in cite["text"]
    assert doc["text"][cite["start"] : cite["end"]] == cite["text"]
    assert (cite["title"], cite["url"], cite["published"], cite["source"]) == (
        meta["title"],
        meta["url"],
        meta["published"],
        meta["source"],
    )
    assert_consistent(settings)


def test_the_same_page_twice_is_a_conflict(client: TestClient, news_site: NewsSite) -> None:
    first = client.post("/documents", json={"url": news_site.url(BRIDGE)}, headers=AUTH)
    again = client.post("/documents", json={"url": news_site.url(BRIDGE)}, headers=AUTH)
    assert (first.status_code, again.status_code) == (201, 409)


def test_a_page_stored_under_another_doc_id_is_a_conflict(
    client: TestClient, news_site: NewsSite
) -> None:
    assert client.put(
        "/documents/bridge", json={"url": news_site.url(BRIDGE)}, headers=AUTH
    ).is_success
    again = client.post(
        "/documents", json={"url": news_site.url(BRIDGE) + "?utm_source=x"}, headers=AUTH
    )
    assert again.status_code == 409
    assert "already stored as doc_id 'bridge'" in again.json()["error"]


def test_put_url_creates_then_keeps_the_doc_id(client: TestClient, news_site: NewsSite) -> None:
    url = news_site.url("/markets/ecb-holds-rates")
    r = client.put("/documents/ecb", json={"url": url}, headers=AUTH)
    assert (r.status_code, r.json()["change"], r.json()["source"]) == (
        201,
        "created",
        "Daily Ledger",
    )
    r = client.put("/documents/ecb", json={"url": url}, headers=AUTH)
    assert (r.status_code, r.json()["change"]) == (200, "unchanged")


def test_html_upload_is_extracted(client: TestClient, settings: Settings) -> None:
    data = (DATA / "ecb-rates.html").read_bytes()
    files = {"file": ("ecb-holds.html", data, "text/html")}
    r = client.post("/documents", files=files, headers=AUTH)
    assert r.status_code == 201, r.text
    assert (r.json()["doc_id"], r.json()["title"], r.json()["published"]) == (
        "ecb-holds",
        "ECB holds interest rates steady as inflation cools",
        "2025-01-30",
    )
    text = client.get("/documents/ecb-holds").json()["text"]
    assert "Reader comments" not in text and "cookies" not in text
    assert (settings.seeds_dir / "ecb-holds.md").is_file()


def test_loopback_url_is_refused_without_the_setting_and_nothing_is_written(
    settings: Settings, news_site: NewsSite
) -> None:
    before = fingerprint_files(settings.seeds_dir)
    with make_client(settings, api_token=TOKEN) as client:
        r = client.post("/documents", json={"url": news_site.url(BRIDGE)}, headers=AUTH)
        assert r.status_code == 422
        assert "127.0.0.1" in r.json()["error"] and "QA_FETCH_ALLOW_PRIVATE" in r.json()["error"]
        r = client.put("/documents/x", json={"url": "http://169.254.169.254/latest"}, headers=AUTH)
        assert r.status_code == 422 and "169.254.169.254" in r.json()["error"]
    assert news_site.paths == []
    assert fingerprint_files(settings.seeds_dir) == before
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == sorted(before)


def test_a_host_name_that_does_not_resolve_in_time_is_422_and_leaves_nothing(
    settings: Settings, names: FakeNames
) -> None:
    names.answers["slow.test"] = ["127.0.0.1"]
    names.slow.add("slow.test")  # answers after 5 s
    before = fingerprint_files(settings.seeds_dir)
    with make_client(settings, api_token=TOKEN, fetch_allow_private=True, fetch_timeout=0.5) as c:
        began = time.monotonic()
        r = c.post("/documents", json={"url": "http://slow.test:9/a"}, headers=AUTH)
        assert time.monotonic() - began < 3  # a bound on a hang, not a speed test
    assert r.status_code == 422, r.text
    assert "'slow.test' did not resolve within 0.5 s (QA_FETCH_TIMEOUT)" in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/plain.txt", "is not an HTML page"),
        ("/photo.png", "is not an HTML page"),
        ("/empty", "no article text found"),
        ("/missing-story", "HTTP 404"),
        ("/to-ftp", "only http and https"),
    ],
)
def test_unusable_pages_are_422_naming_the_url_and_leave_nothing(
    client: TestClient, settings: Settings, news_site: NewsSite, path: str, fragment: str
) -> None:
    before = sorted(p.name for p in settings.seeds_dir.iterdir())
    r = client.post("/documents", json={"url": news_site.url(path)}, headers=AUTH)
    assert r.status_code == 422
    assert fragment in r.json()["error"]
    assert news_site.url(path) in r.json()["error"] or path == "/to-ftp"
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == before


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"url": "http://x.example/a", "text": "Some text."}, "not both"),
        ({}, '"text" or as a "url"'),
        ({"url": "http://x.example/a", "title": "T"}, "headline"),
        ({"url": ""}, "at least 1 character"),
        ({"url": "ftp://x.example/a"}, "only http and https"),
    ],
)
def test_bad_url_bodies_are_422(client: TestClient, body: dict[str, str], fragment: str) -> None:
    r = client.post("/documents", json=body, headers=AUTH)
    assert r.status_code == 422
    assert fragment in r.json()["error"]


def test_documents_are_listed_newest_first_unknown_dates_last(
    client: TestClient, news_site: NewsSite
) -> None:
    for path in ("/markets/ecb-holds-rates", "/climate/hottest-june-night", BRIDGE):
        assert client.post("/documents", json={"url": news_site.url(path)}, headers=AUTH).is_success
    listed = [(d["published"], d["title"]) for d in client.get("/documents").json()]
    assert listed == [
        ("2025-06-28", "Spain records its hottest June night"),
        ("2025-03-12", "Harbour bridge reopens after two-year repair"),
        ("2025-01-30", "ECB holds interest rates steady as inflation cools"),
        (None, "Chip makers expand"),
        (None, "The two leaders met in Tokyo on Friday."),
    ]


def test_pages_told_apart_by_a_query_parameter_are_different_articles(
    client: TestClient, news_site: NewsSite
) -> None:
    story = news_site.url("/article/story")
    one = client.post("/documents", json={"url": f"{story}?story=b1"}, headers=AUTH)
    two = client.post("/documents", json={"url": f"{story}?story=b2"}, headers=AUTH)
    assert (one.status_code, two.status_code) == (201, 201), two.text
    tracked = client.post("/documents", json={"url": f"{story}?story=b1&fbclid=x"}, headers=AUTH)
    assert tracked.status_code == 409
    # Another URL, the same text (the site ignores `page`): the same article.
    same = client.post("/documents", json={"url": f"{story}?story=b1&page=2"}, headers=AUTH)
    assert same.status_code == 409
    assert f"already stored as doc_id {one.json()['doc_id']!r}" in same.json()["error"]


def test_put_of_a_page_stored_under_another_doc_id_is_a_conflict(
    client: TestClient, settings: Settings, news_site: NewsSite
) -> None:
    url = news_site.url("/markets/ecb-holds-rates")
    assert client.put("/documents/ecb", json={"url": url}, headers=AUTH).status_code == 201
    before = fingerprint_files(settings.seeds_dir)
    again = client.put("/documents/ecb-2", json={"url": url}, headers=AUTH)
    assert again.status_code == 409, again.text
    assert "already stored as doc_id 'ecb'; PUT /documents/ecb replaces it" in again.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before
    # The article's own URL again is a replacement, not a conflict.
    same = client.put("/documents/ecb", json={"url": url}, headers=AUTH)
    assert (same.status_code, same.json()["change"]) == (200, "unchanged")


def test_a_page_cannot_claim_another_sites_url(client: TestClient, news_site: NewsSite) -> None:
    # /squat declares rel=canonical on www.reuters.com: it is stored under its own URL.
    r = client.post("/documents", json={"url": news_site.url("/squat")}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["url"] == news_site.url("/squat")
