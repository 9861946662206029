"""The chat page's HTTP side: GET /, static files with a strict CSP, GET /config, POST /feedback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import FakeEmbedder

STATIC = resources.files("qa.service") / "static"
STYLESHEETS = ("page.css", "chat.css", "panel.css", "narrow.css")


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    return engine


@pytest.fixture
def feedback_path(tmp_path: Path) -> Path:
    return tmp_path / "fb" / "feedback.jsonl"  # its folder does not exist yet


@pytest.fixture
def client(settings: Settings, engine: Engine, feedback_path: Path) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"feedback_path": feedback_path})
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c


def feedback_lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_page_is_served_with_a_strict_csp(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/static/app.js"' in r.text


def test_head_of_the_page_is_200_with_the_headers_of_get_and_no_body(client: TestClient) -> None:
    get = client.get("/")
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
    assert head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("app.js", "javascript"),
        ("api.js", "javascript"),
        ("dom.js", "javascript"),
        ("panel.js", "javascript"),
        ("words.js", "javascript"),
        ("bubbles.js", "javascript"),
        ("page.css", "text/css"),
        ("chat.css", "text/css"),
        ("panel.css", "text/css"),
        ("narrow.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
        ("index.html", "text/html"),
    ],
)
def test_static_files_are_served_with_the_same_headers(
    client: TestClient, name: str, media_type: str
) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 200
    assert media_type in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_missing_static_file_is_a_json_404(client: TestClient) -> None:
    r = client.get("/static/nope.js")
    assert r.status_code == 404
    assert "error" in r.json()


def test_static_files_are_package_data() -> None:
    for name in (
        "index.html",
        "app.js",
        "api.js",
        "dom.js",
        "panel.js",
        "words.js",
        "bubbles.js",
        "page.css",
        "chat.css",
        "panel.css",
        "narrow.css",
        "favicon.svg",
    ):
        assert (STATIC / name).is_file(), name


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.script_srcs: list[str] = []
        self.style_blocks = 0
        self.bad_attrs: list[str] = []
        self.external: list[str] = []
        self.stylesheets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.bad_attrs.append(f"<{tag} {name}>")
            if name in ("src", "href") and value and re.match(r"(https?:)?//", value):
                self.external.append(value)
        if tag == "script":
            self._in_script = True
            if values.get("src"):
                self.script_srcs.append(values["src"] or "")
        if tag == "style":
            self.style_blocks += 1
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def test_page_has_nothing_the_csp_would_block_and_fetches_nothing_from_elsewhere() -> None:
    parser = _Markup()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    assert parser.script_srcs == ["/static/app.js"]
    assert parser.inline_scripts == []
    assert parser.style_blocks == 0
    assert parser.bad_attrs == []
    assert parser.external == []
    # Every stylesheet, in cascade order (later files override earlier ones), and no other.
    assert parser.stylesheets == [f"/static/{name}" for name in STYLESHEETS]
    assert sorted(p.name for p in STATIC.glob("*.css")) == sorted(STYLESHEETS)
    for name in STYLESHEETS:
        css = (STATIC / name).read_text(encoding="utf-8")
        assert "@import" not in css and "url(" not in css, name


@pytest.mark.parametrize("script", sorted(p.name for p in STATIC.glob("*.js")))
def test_script_never_parses_server_text_as_html(script: str) -> None:
    js = (STATIC / script).read_text(encoding="utf-8")
    code = "\n".join(line for line in js.splitlines() if not line.strip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, sink
    assert "http://" not in code and "https://" not in code
    # Modules import only each other, by relative path: nothing from another origin.
    for target in re.findall(r"^import .* from \"([^\"]+)\";$", code, flags=re.MULTILINE):
        assert target.startswith("./") and (STATIC / target[2:]).is_file(), target


@pytest.mark.parametrize(("threshold", "high"), [(0.5, 0.8), (0.3, 0.8), (0.9, 0.9), (0.0, 0.8)])
def test_config_tells_the_page_how_to_word_confidence(
    seeds_dir: Path, tmp_path: Path, threshold: float, high: float
) -> None:
    settings = Settings(
        seeds_dir=seeds_dir, index_dir=tmp_path / "index", abstain_threshold=threshold
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with TestClient(create_app(settings, engine)) as c:
        body = c.get("/config").json()
    assert body == {
        "abstain_threshold": threshold,
        "high_confidence": high,
        "max_question_chars": 1000,
        "history_turns": 5,
    }


def test_feedback_on_an_answer_is_appended_with_its_evidence(
    client: TestClient, feedback_path: Path
) -> None:
    answer = client.post("/ask", json={"question": "Who welcomed the plan?"}).json()
    assert answer["answer"] is not None
    lead = answer["citations"][0]
    payload = {
        "question": "Who welcomed the plan?",
        "answer": answer["answer"],
        "doc_id": lead["doc_id"],
        "sentence_index": lead["sentence_index"],
        "helpful": True,
    }
    r = client.post("/feedback", json=payload)
    assert r.status_code == 201, r.text
    assert r.json() == {"saved": True}
    [line] = feedback_lines(feedback_path)
    assert {k: line[k] for k in payload} == payload
    assert line["evidence"] == "Prime Minister Shigeru Ishiba welcomed the plan."
    assert isinstance(line["time"], str) and line["time"].endswith("+00:00")


def test_feedback_on_an_abstention_has_no_citation(client: TestClient, feedback_path: Path) -> None:
    r = client.post(
        "/feedback",
        json={"question": "What is the capital of France?", "answer": None, "helpful": True},
    )
    assert r.status_code == 201
    [line] = feedback_lines(feedback_path)
    assert line["answer"] is None and line["doc_id"] is None and line["evidence"] is None


GOOD = {"question": "q?", "answer": "a.", "doc_id": "quad", "sentence_index": 0, "helpful": True}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "blank"),
        ({"question": "x" * 1001}, "1000"),
        ({"question": 3}, "question"),
        ({"helpful": "yes"}, "helpful"),
        ({"helpful": 1}, "helpful"),
        ({"helpful": None}, "helpful"),
        ({"sentence_index": -1}, "sentence_index"),
        ({"sentence_index": "0"}, "sentence_index"),
        ({"doc_id": "../etc/passwd"}, "doc_id"),
        ({"doc_id": None}, "together"),
        ({"doc_id": None, "sentence_index": None}, "needs the doc_id"),
        ({"answer": "x" * 2_001}, "answer"),
        ({"extra": 1}, "extra"),
        ({"doc_id": "nope"}, "nope"),
        ({"sentence_index": 99}, "99"),
    ],
)
def test_bad_feedback_is_422_with_a_message(
    client: TestClient, feedback_path: Path, change: dict[str, object], fragment: str
) -> None:
    r = client.post("/feedback", json={**GOOD, **change})
    assert r.status_code == 422, r.text
    assert fragment in r.json()["error"]
    assert feedback_lines(feedback_path) == []


def test_feedback_without_helpful_or_with_bad_json_is_422(client: TestClient) -> None:
    r = client.post("/feedback", json={"question": "q?"})
    assert r.status_code == 422 and "helpful" in r.json()["error"]
    r = client.post("/feedback", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["error"]


def test_feedback_that_cannot_be_written_is_a_500_with_a_message(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-directory"
    blocked.mkdir()
    settings = settings.model_copy(update={"feedback_path": blocked})
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        r = c.post("/feedback", json={"question": "q?", "helpful": False})
    assert r.status_code == 500
    assert "feedback could not be saved" in r.json()["error"]


def test_feedback_path_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_FEEDBACK_PATH", str(tmp_path / "votes.jsonl"))
    assert Settings().feedback_path == tmp_path / "votes.jsonl"
    monkeypatch.delenv("QA_FEEDBACK_PATH")
    assert Settings().feedback_path == Path("feedback.jsonl")


def test_web_routes_are_documented_but_the_page_is_not(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/feedback" in paths and "/config" in paths
    assert "/" not in paths
