"""axe-core (bundled by axe-playwright-python) over the page's main states, desktop and phone.

No serious or critical violation may appear on the empty page, an answer, an abstention, an
article open, or an error; axe runs inside the page and fetches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Request, ViewportSize, expect

from tests.browser.conftest import (
    ANSWERED,
    CHIPS,
    DESKTOP,
    MOBILE,
    OFF_TOPIC,
    Live,
    answer_response,
    ask,
    cite,
    new_page,
    open_page,
    serve_ask,
)

pytestmark = pytest.mark.browser


def empty(page: Page, live: Live) -> None:
    expect(page.locator(".bubble.intro")).to_be_visible()


def answered(page: Page, live: Live) -> None:
    lead = cite(
        page,
        live,
        "chips",
        CHIPS,
        url="https://example.com/chips",
        published="2025-03-12",
        source="Example Times",
    )
    start = lead["start"] + CHIPS.index("Gujarat")
    span = {"start": start, "end": start + len("Gujarat"), "text": "Gujarat"}
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.45, answer_span=span))
    ask(page, ANSWERED)
    expect(page.locator(".answer-text mark")).to_be_visible()


def abstained(page: Page, live: Live) -> None:
    ask(page, OFF_TOPIC)
    expect(page.locator(".bubble.abstained")).to_be_visible()


def article_open(page: Page, live: Live) -> None:
    ask(page, OFF_TOPIC)
    page.locator(".bubble.abstained .cite").first.click()
    expect(page.locator("#panel mark")).to_be_in_viewport()


def error(page: Page, live: Live) -> None:
    page.route("**/ask", lambda route: route.fulfill(status=500, json={"error": "boom"}))
    ask(page, ANSWERED)
    expect(page.locator(".bubble.error .retry")).to_be_visible()


STATES: dict[str, Callable[[Page, Live], None]] = {
    "empty": empty,
    "answered": answered,
    "abstained": abstained,
    "article-open": article_open,
    "error": error,
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_accessibility_violations(
    browser: Browser, live: Live, state: str, viewport: ViewportSize, scheme: str
) -> None:
    context, page, watch = new_page(browser, viewport)
    try:
        page.emulate_media(color_scheme=scheme)
        open_page(page, live)
        STATES[state](page, live)
        requests: list[Request] = []
        page.on("request", lambda request: requests.append(request))
        results: dict[str, Any] = Axe().run(page).response
        assert results["testEngine"]["name"] == "axe-core"
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"])
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == []
        assert [r.url for r in requests] == []  # axe ran inside the page, fetching nothing
        assert not watch.errors and not watch.csp
    finally:
        context.close()
