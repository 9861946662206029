"""Browser tests: a real uvicorn server in a thread, driven by Debian's Chromium via Playwright.

`playwright install` cannot download browsers here, so Chromium comes from apt (.ci/run installs
it when /usr/bin/chromium is missing) and is launched by path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    ViewportSize,
)

from qa.config import Settings
from qa.engine import Engine
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
MOBILE: ViewportSize = {"width": 375, "height": 740}

# An article full of markup (and a character outside the BMP before it, so offsets in code
# points and in UTF-16 units differ): the page must show all of it literally.
XSS_ARTICLE = (
    "# Markup <b>in</b> the news <img src=x onerror=alert(3)>\n\n"
    "Readers wrote in 😀 by the dozen. A reader sent this: <script>alert(1)</script> is a "
    "script tag. "
    "An image tag <img src=x onerror=alert(2)> can run code.\n"
)
XSS_FILE = "markup.md"
XSS_DOC_ID = "markup"


@dataclass
class Live:
    """A running server: its base URL and its settings."""

    url: str
    settings: Settings


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
    # The threshold is pinned: the fake embedder's confidences are not the real model's.
    settings = Settings(
        seeds_dir=web_seeds,
        index_dir=work / "index",
        feedback_path=work / "feedback.jsonl",
        abstain_threshold=0.7,
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with serve_app(settings, engine) as url:
        yield Live(url, settings)


def new_page(browser: Browser, viewport: ViewportSize) -> tuple[BrowserContext, Page, PageWatch]:
    """A fresh context and page that records dialogs, uncaught errors and CSP reports."""
    # Reduced motion: scrolling is instant, so what a test sees does not depend on timing.
    context = browser.new_context(viewport=viewport, reduced_motion="reduce")
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
