"""Browser tests: a real uvicorn server in a thread, driven by Debian's Chromium via Playwright.

`playwright install` cannot download browsers here, so Chromium comes from apt (.ci/run installs
it when /usr/bin/chromium is missing) and is launched by path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Route,
    ViewportSize,
    expect,
)

from qa.core.settings import Settings
from qa.engine.engine import Engine
from tests.conftest import ARTICLES, FakeEmbedder, serve_app

CHROMIUM = Path(os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 390, "height": 844}
LANDSCAPE: ViewportSize = {"width": 844, "height": 390}  # the same phone on its side

# An article full of markup (and a character outside the BMP before it, so offsets in code
# points and in UTF-16 units differ): the page must show all of it literally.
XSS_ARTICLE = (
    "# Markup <b>in</b> the news <img src=x onerror=alert(3)>\n\n"
    "Readers wrote in 😀 by the dozen. A reader sent this: <script>alert(1)</script> is a "
    "script tag. "
    "An image tag <img src=x onerror=alert(2)> can run code.\n"
)
# The questions the pages are asked over the small corpus (tests/conftest.py ARTICLES): one it
# answers with the chips article's first sentence, and one it cannot answer.
ANSWERED = "Where will semiconductor factories open?"
OFF_TOPIC = "What is the capital of France?"
CHIPS = "Semiconductor factories will open in Gujarat."
XSS_FILE = "markup.md"
XSS_DOC_ID = "markup"


@dataclass
class Live:
    """A running server: its base URL, its settings and (for tests that move its threshold)
    its engine."""

    url: str
    settings: Settings
    engine: Engine | None = field(default=None, repr=False)


@dataclass
class PageWatch:
    """What a page did that a test may need to refuse: dialogs, JS errors, CSP violations."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():  # a failure, never a skip: the chat page is part of the product
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def web_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web") / "seeds"
    folder.mkdir()
    for name, text in {**ARTICLES, XSS_FILE: XSS_ARTICLE}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def live(web_seeds: Path) -> Iterator[Live]:
    """The app over the small test corpus with the fast fake embedder."""
    work = web_seeds.parent
    settings = Settings(
        seeds_dir=web_seeds,
        index_dir=work / "index",
        feedback_path=work / "feedback.jsonl",
        ranker=lexical_confidence_ranker(work / "ranker.json"),
        abstain_threshold=0.5,
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with serve_app(settings, engine) as url:
        yield Live(url, settings, engine)


def lexical_confidence_ranker(path: Path) -> Path:
    """The packaged ranker with a confidence model that reads only lexical coverage.

    The fake embedder's vectors are hashes, so the packaged confidence model (fitted on the real
    model's similarities) cannot tell an off-topic question from an answerable one with them;
    word coverage can, and the page's behaviour is what these tests are about.
    """
    import json

    import numpy as np

    from qa.answer.ranker import ConfidenceModel, Linear, Ranker

    packaged = Ranker.load()
    confidence = ConfidenceModel(
        Linear(("window_coverage",), np.array([12.0]), -6.0),  # none of its words: ~0
        Linear(("coverage",), np.array([4.0]), -1.0),
    )
    ranker = Ranker(
        packaged.features, packaged.weights, packaged.bias, "lexical", confidence, packaged.meta
    )
    path.write_text(json.dumps(ranker.to_json()), encoding="utf-8")
    return path


def new_page(browser: Browser, viewport: ViewportSize) -> tuple[BrowserContext, Page, PageWatch]:
    """A fresh context and page that records dialogs, uncaught errors and CSP reports."""
    # Reduced motion: scrolling is instant, so what a test sees does not depend on timing.
    # A phone-sized page is a phone: touch, and the mobile viewport meta tag honoured.
    phone = viewport["width"] < DESKTOP["width"]
    context = browser.new_context(
        viewport=viewport, reduced_motion="reduce", has_touch=phone, is_mobile=phone
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = PageWatch()

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            watch.csp.append(message.text)

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("console", on_console)
    return context, page, watch


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, PageWatch]]:
    """A desktop-sized page; after the test, no JS error and no CSP violation may have occurred."""
    context, page, watch = new_page(browser, DESKTOP)
    yield page, watch
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.csp, watch.csp


@pytest.fixture
def page(watched: tuple[Page, PageWatch]) -> Page:
    return watched[0]


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page (390x844); after the test, no JS error and no CSP violation."""
    context, page, watch = new_page(browser, MOBILE)
    yield page
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.csp, watch.csp


def open_page(page: Page, live: Live) -> None:
    page.goto(live.url + "/")
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()
    expect(page.locator(".doc-link").first).to_be_attached()  # the page's script has started


def ask(page: Page, question: str) -> dict[str, Any]:
    """Type a question, press Enter, and return the /ask response the page received."""
    page.get_by_label("Your question").fill(question)
    with page.expect_response("**/ask") as response:
        page.get_by_label("Your question").press("Enter")
    body: dict[str, Any] = response.value.json()
    expect(page.locator(".bubble.thinking")).to_have_count(0)
    return body


def cite(page: Page, live: Live, doc_id: str, sentence: str, **extra: Any) -> dict[str, Any]:
    """A citation of `sentence` in the served article `doc_id`, as POST /ask gives it.

    Offsets are the server's own (code points), looked up from GET /documents/{doc_id};
    `extra` adds the news fields (url, published, source) or overrides any field.
    """
    doc = page.request.get(f"{live.url}/documents/{doc_id}").json()
    start = doc["text"].index(sentence)
    index = next(s["index"] for s in doc["sentences"] if s["start"] <= start < s["end"])
    return {
        "doc_id": doc_id,
        "title": doc["title"],
        "sentence_index": index,
        "start": start,
        "end": start + len(sentence),
        "text": sentence,
        "score": 0.9,
        **extra,
    }


def answer_response(
    question: str, citations: list[dict[str, Any]], *, confidence: float, **extra: Any
) -> dict[str, Any]:
    """A POST /ask body in the contract the page renders: the lead citation is the answer."""
    return {
        "question": question,
        "answer": citations[0]["text"] if citations else None,
        "confidence": confidence,
        "citations": citations,
        "took_ms": 1.0,
        **extra,
    }


def ask_and_hold(page: Page, question: str) -> list[Route]:
    """Ask `question` with its /ask held at the browser (continue the route to answer it)."""
    held: list[Route] = []
    page.route("**/ask", lambda route: held.append(route))
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")
    return held


def scroll_log_to_top(page: Page) -> None:
    """Scroll the conversation back to its start, as a reader going back to an old answer."""
    page.locator("#log").evaluate("log => log.scrollTo(0, 0)")
    page.wait_for_function("() => document.getElementById('log').scrollTop === 0")


def serve_ask(page: Page, body: dict[str, Any]) -> None:
    """Answer every POST /ask of this page with `body` (the UI's input, made deterministic)."""
    page.route("**/ask", lambda route: route.fulfill(status=200, json=body))
