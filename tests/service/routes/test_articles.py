"""POST / PUT / DELETE /documents over HTTP: tokens, limits, bad input, path traversal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files
from tests.corpus.test_seeds import assert_consistent
from tests.service.conftest import make_client

TOKEN = "write-token-0123456789"
READ_TOKEN = "read-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ZEBRA = "Zebras crossed the road in Nairobi on Monday. Officials counted forty of them."


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings, api_token=TOKEN, max_article_bytes=10_000) as c:
        yield c


def test_post_json_is_stored_indexed_and_answerable(client: TestClient, settings: Settings):
    r = client.post("/documents", json={"doc_id": "zebra", "text": ZEBRA}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "doc_id": "zebra",
        "title": "Zebras crossed the road in Nairobi on Monday.",
        "url": None,
        "published": None,
        "source": None,
        "author": None,
        "sentences": 2,
        "sha256": r.json()["sha256"],
        "change": "created",
    }
    assert (settings.seeds_dir / "zebra.txt").read_text() == ZEBRA
    body = client.post("/ask", json={"question": "How many zebras did officials count?"}).json()
    assert body["citations"][0]["doc_id"] == "zebra"
    assert body["citations"][0]["text"] == "Officials counted forty of them."
    assert_consistent(settings)


def test_post_without_doc_id_derives_one_and_title_becomes_a_heading(client: TestClient):
    r = client.post("/documents", json={"title": "Zebra census", "text": ZEBRA}, headers=AUTH)
    assert r.status_code == 201
    doc_id = r.json()["doc_id"]
    assert doc_id.startswith("zebra-census-")
    doc = client.get(f"/documents/{doc_id}").json()
    assert doc["title"] == "Zebra census"
    assert doc["text"] == f"# Zebra census\n\n{ZEBRA}"


def test_post_of_an_existing_doc_id_is_409_and_changes_nothing(
    client: TestClient, settings: Settings
):
    before = fingerprint_files(settings.seeds_dir)
    r = client.post("/documents", json={"doc_id": "quad", "text": ZEBRA}, headers=AUTH)
    assert r.status_code == 409 and "PUT /documents/quad" in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before


def test_multipart_upload(client: TestClient, settings: Settings):
    files = {"file": ("census.md", b"# Census\n\nForty zebras were counted.", "text/markdown")}
    r = client.post("/documents", files=files, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.json()["doc_id"] == "census" and r.json()["title"] == "Census"
    assert (settings.seeds_dir / "census.md").exists()


def test_put_replaces_creates_and_never_leaves_a_twin(client: TestClient, settings: Settings):
    r = client.put("/documents/chips", json={"text": "Chips are now made in Assam."}, headers=AUTH)
    assert r.status_code == 200 and r.json()["change"] == "replaced"
    assert [p.name for p in settings.seeds_dir.glob("chips.*")] == ["chips.md"]
    assert client.get("/documents/chips").json()["text"] == "Chips are now made in Assam."
    r = client.put("/documents/fresh", json={"text": "A fresh article."}, headers=AUTH)
    assert r.status_code == 201 and r.json()["change"] == "created"
    r = client.put("/documents/fresh", json={"text": "A fresh article."}, headers=AUTH)
    assert r.status_code == 200 and r.json()["change"] == "unchanged"
    upload = {"file": ("whatever.txt", b"Uploaded replacement.", "text/plain")}
    r = client.put("/documents/fresh", files=upload, headers=AUTH)
    assert r.status_code == 200 and r.json()["doc_id"] == "fresh"
    assert_consistent(settings)


def test_put_with_doc_id_in_body_is_422(client: TestClient):
    r = client.put("/documents/quad", json={"doc_id": "other", "text": "x y."}, headers=AUTH)
    assert r.status_code == 422 and "doc_id" in r.json()["error"]


def test_delete(client: TestClient, settings: Settings):
    assert client.delete("/documents/quad", headers=AUTH).status_code == 204
    assert client.get("/documents/quad").status_code == 404
    assert not (settings.seeds_dir / "quad.txt").exists()
    r = client.delete("/documents/quad", headers=AUTH)
    assert r.status_code == 404 and "quad" in r.json()["error"]
    assert_consistent(settings)


# ------------------------------------------------------------------------------------ auth


WRITES = [
    ("post", "/documents", {"json": {"doc_id": "x", "text": ZEBRA}}),
    ("put", "/documents/quad", {"json": {"text": ZEBRA}}),
    ("delete", "/documents/quad", {}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), WRITES)
@pytest.mark.parametrize(
    ("headers", "status", "fragment"),
    [
        ({}, 401, "Authorization: Bearer"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "malformed"),
        ({"Authorization": "Bearer"}, 401, "Authorization: Bearer"),
        ({"Authorization": "Bearer wrong-token-0123456789"}, 403, "wrong token"),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403, "wrong token"),
        ({"Authorization": "Bearer ключ".encode()}, 403, "wrong token"),
    ],
)
def test_writes_without_the_right_token_change_nothing(
    client: TestClient, settings: Settings, method, url, kwargs, headers, status, fragment
):
    before = fingerprint_files(settings.seeds_dir)
    version = (settings.index_dir / "current").readlink()
    r = client.request(method.upper(), url, headers=headers, **kwargs)
    assert r.status_code == status and fragment in r.json()["error"]
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    assert fingerprint_files(settings.seeds_dir) == before
    assert (settings.index_dir / "current").readlink() == version


@pytest.mark.parametrize(("method", "url", "kwargs"), WRITES)
def test_writes_are_off_without_a_configured_token(settings: Settings, method, url, kwargs):
    with make_client(settings) as c:
        r = c.request(method.upper(), url, headers=AUTH, **kwargs)
    assert r.status_code == 403
    assert "set QA_API_TOKEN to enable writes" in r.json()["error"]


def test_read_token_guards_reads_but_not_probes(settings: Settings):
    with make_client(settings, api_token=TOKEN, read_token=READ_TOKEN) as c:
        for url in ("/documents", "/documents/quad", "/health", "/metrics"):
            assert c.get(url).status_code == 401, url
            assert c.get(url, headers={"Authorization": "Bearer nope"}).status_code == 403
            assert c.get(url, headers={"Authorization": f"Bearer {READ_TOKEN}"}).status_code == 200
            assert c.get(url, headers=AUTH).status_code == 200  # the write token reads too
        assert c.post("/ask", json={"question": "Who met?"}).status_code == 401
        feedback = {"question": "q", "helpful": True}
        assert c.post("/feedback", json=feedback).status_code == 401
        for url in ("/livez", "/readyz", "/", "/config"):
            assert c.get(url).status_code == 200, url
        # The read token does not write.
        r = c.delete("/documents/quad", headers={"Authorization": f"Bearer {READ_TOKEN}"})
        assert r.status_code == 403


# ------------------------------------------------------------------------ traversal and input


@pytest.mark.parametrize(
    "path",
    [
        "/documents/..%2F..%2Fetc%2Fpasswd",
        "/documents/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/documents/..%252F..%252Fetc%252Fpasswd",
        "/documents/....//....//etc/passwd",
        "/documents/..\\..\\etc\\passwd",
        "/documents/%2e%2e",
        "/documents/.passwd",
        "/documents/%00",
    ],
)
def test_path_traversal_never_leaves_the_seeds_folder(
    client: TestClient, settings: Settings, path: str
):
    before = fingerprint_files(settings.seeds_dir)
    for method in ("GET", "PUT", "DELETE"):
        r = client.request(method, path, json={"text": "root:x:0:0"}, headers=AUTH)
        assert r.status_code in (404, 405, 422), (method, path, r.status_code)
        assert "root:" not in r.text
        assert r.headers["content-type"].startswith("application/json")
    assert fingerprint_files(settings.seeds_dir) == before
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == ["chips.md", "quad.txt"]


def test_path_traversal_in_upload_names_and_json_doc_ids(client: TestClient):
    for name in ("../../etc/passwd.txt", "..\\..\\x.txt", "/etc/passwd.md"):
        r = client.post("/documents", files={"file": (name, b"Text.")}, headers=AUTH)
        assert r.status_code == 422, name
    for doc_id in ("../../etc/passwd", "..", "a/b"):
        r = client.post("/documents", json={"doc_id": doc_id, "text": "T."}, headers=AUTH)
        assert r.status_code == 422, doc_id


def test_html_and_script_come_back_verbatim_as_text(client: TestClient):
    payload = (
        '<script>alert("x")</script> The <b>council</b> met & voted.\n'
        "<img src=x onerror=alert(1)> It passed 5 > 3.\n"
    )
    r = client.post("/documents", json={"doc_id": "html", "text": payload}, headers=AUTH)
    assert r.status_code == 201
    got = client.get("/documents/html")
    assert got.headers["content-type"] == "application/json"
    assert got.json()["text"] == payload
    cited = client.post("/ask", json={"question": "What did the council do?", "top_k": 20})
    for c in cited.json()["citations"]:
        if c["doc_id"] == "html":
            assert payload[c["start"] : c["end"]] == c["text"]


@pytest.mark.parametrize(
    ("kwargs", "status", "fragment"),
    [
        ({"json": {"text": ""}}, 422, "text"),
        ({"json": {"text": "  \n "}}, 422, "empty"),
        ({"json": {"text": "a\x00b"}}, 422, "binary"),
        ({"json": {"text": 42}}, 422, "text"),
        ({"json": {"text": "ok.", "extra": 1}}, 422, "extra"),
        ({"json": {"text": "ok.", "title": "two\nlines"}}, 422, "one line"),
        ({"json": {"text": "ok.", "title": "two\u2028lines"}}, 422, "one line"),
        ({"json": {"text": "ok.", "title": "two\x85lines"}}, 422, "one line"),
        ({"json": {"text": "ok.", "title": "two\vlines"}}, 422, "one line"),
        ({"json": {"text": "ok.", "title": "two\x1clines"}}, 422, "one line"),
        ({"json": {"doc_id": ".x", "text": "ok."}}, 422, "doc_id"),
        ({"content": b'{"text": "\\ud800"}'}, 422, "JSON"),
        ({"content": b"{not json"}, 422, "JSON"),
        ({"content": b"\xff\xfe"}, 422, "JSON"),
        ({"files": {"file": ("a.txt", b"\x00\x01binary")}}, 422, "binary"),
        ({"files": {"file": ("a.txt", "café".encode("latin-1"))}}, 422, "UTF-8"),
        ({"files": {"file": ("a.txt", b"")}}, 422, "empty"),
        ({"files": {"file": ("a.exe", b"MZ")}}, 422, ".txt or .md"),
        ({"files": {"other": ("a.txt", b"text")}}, 422, '"file"'),
        ({"json": {"text": "x" * 10_001}}, 413, "QA_MAX_ARTICLE_BYTES"),
        ({"files": {"file": ("big.txt", b"y" * 10_001)}}, 413, "QA_MAX_ARTICLE_BYTES"),
        ({"content": b"text=1", "headers": {"content-type": "text/plain"}}, 415, "json"),
    ],
)
def test_bad_articles_get_json_errors(
    client: TestClient, settings: Settings, kwargs: dict, status: int, fragment: str
):
    before = fingerprint_files(settings.seeds_dir)
    headers = {**AUTH, **kwargs.pop("headers", {})}
    if "content" in kwargs and "content-type" not in headers:
        headers["content-type"] = "application/json"
    r = client.post("/documents", headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert fragment in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before


def test_body_limits(client: TestClient, settings: Settings):
    big = b'{"question": "' + b"x" * (1024 * 1024) + b'"}'
    r = client.post("/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "QA_MAX_BODY_BYTES" in r.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    r = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "QA_MAX_BODY_BYTES" in r.json()["error"]


def test_article_over_its_limit_is_413_and_changes_nothing(client: TestClient, settings: Settings):
    before = fingerprint_files(settings.seeds_dir)
    huge = b'{"text": "' + b"z" * 30_000 + b'"}'
    r = client.post(
        "/documents", content=huge, headers={**AUTH, "content-type": "application/json"}
    )
    assert r.status_code == 413 and "QA_MAX_ARTICLE_BYTES" in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before


# The fixture's articles may have 10,000 bytes; an upload body 2 x 10,000 + 64 KiB (JSON escaping,
# multipart framing). A small article padded with JSON whitespace past that is refused by the
# body limit alone: the article itself is within its limit.
UPLOAD_LIMIT = 2 * 10_000 + 64 * 1024


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_upload_body_over_its_limit_is_413_although_the_article_is_small(
    client: TestClient, settings: Settings, streamed: bool
):
    def padded(size: int) -> bytes:
        head = b'{"doc_id": "padded", "text": "A small article."'
        return head + b" " * (size - len(head) - 1) + b"}"

    headers = {**AUTH, "content-type": "application/json"}
    before = fingerprint_files(settings.seeds_dir)
    body = padded(UPLOAD_LIMIT + 1)
    content = iter([body[:40_000], body[40_000:]]) if streamed else body
    r = client.post("/documents", content=content, headers=headers)
    assert r.status_code == 413, r.text
    assert f"request body is over {UPLOAD_LIMIT:,} bytes" in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before
    # One byte less is within the limit: the same article is stored.
    r = client.post("/documents", content=padded(UPLOAD_LIMIT), headers=headers)
    assert r.status_code == 201, r.text


def test_question_limits_still_hold(client: TestClient):
    assert client.post("/ask", json={"question": "x" * 1001}).status_code == 422
    assert client.post("/ask", json={"question": "hi", "top_k": 21}).status_code == 422
    assert client.post("/ask", json={"question": "hi", "top_k": 0}).status_code == 422


def test_openapi_documents_the_write_api(client: TestClient):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/documents"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"201", "401", "403", "409", "413", "422"} <= set(post["responses"])
    assert {"put", "delete", "get"} <= set(spec["paths"]["/documents/{doc_id}"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_seeds_folder_holds_no_temp_files_after_writes(client: TestClient, settings: Settings):
    for i in range(3):
        client.put(f"/documents/a{i}", json={"text": f"Article {i}."}, headers=AUTH)
    assert not [p for p in Path(settings.seeds_dir).iterdir() if p.name.startswith(".")]


def test_a_full_disk_is_503_and_changes_nothing(
    client: TestClient, settings: Settings, monkeypatch
):
    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa.engine.updates.write_seed", full)
    before = fingerprint_files(settings.seeds_dir)
    r = client.post("/documents", json={"doc_id": "z", "text": ZEBRA}, headers=AUTH)
    assert r.status_code == 503 and "No space left on device" in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before
