"""axe-core (bundled by axe-playwright-python) over the page's main states, desktop and phone.

No serious or critical violation may appear on the empty page, an answer, an abstention, an
article open, or an error; axe runs inside the page and fetches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Request, ViewportSize, expect

from tests.browser.conftest import (
    ANSWERED,
    CHIPS,
    DESKTOP,
    LANDSCAPE,
    MOBILE,
    OFF_TOPIC,
    Live,
    answer_response,
    ask,
    ask_and_hold,
    cite,
    new_page,
    open_page,
    scroll_log_to_top,
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
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.62, answer_span=span))
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


def related_open(page: Page, live: Live) -> None:
    lead = cite(page, live, "chips", CHIPS, url="https://example.com/chips", source="Example")
    other = cite(page, live, "quad", "The two leaders met in Tokyo on Friday.")
    serve_ask(page, answer_response(ANSWERED, [lead, other], confidence=0.9))
    ask(page, ANSWERED)
    page.locator("details.related summary").click()
    page.locator(".bubble.answer .ids summary").click()
    expect(page.locator(".related-article")).to_be_visible()


def stopped_and_cleared(page: Page, live: Live) -> None:
    ask(page, ANSWERED)
    page.route("**/ask", lambda route: None)  # held: never answered
    page.get_by_label("Your question").fill(OFF_TOPIC)
    page.get_by_label("Your question").press("Enter")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#ask-status")).to_have_text("Stopped.")
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()


def new_answer_pill(page: Page, live: Live) -> None:
    for _ in range(4):
        ask(page, ANSWERED)
    held = ask_and_hold(page, OFF_TOPIC)
    expect(page.locator(".bubble.thinking")).to_be_visible()
    scroll_log_to_top(page)
    held[0].continue_()
    expect(page.get_by_role("button", name="New answer ↓")).to_be_visible()


STATES: dict[str, Callable[[Page, Live], None]] = {
    "empty": empty,
    "answered": answered,
    "related-open": related_open,
    "stopped-and-cleared": stopped_and_cleared,
    "new-answer-pill": new_answer_pill,
    "abstained": abstained,
    "article-open": article_open,
    "error": error,
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    "viewport", [DESKTOP, MOBILE, LANDSCAPE], ids=["desktop", "phone", "landscape"]
)
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


# ---- screen readers ------------------------------------------------------------------------


def test_each_answer_is_announced_once_in_a_few_words(page: Page, live: Live) -> None:
    open_page(page, live)
    answered(page, live)
    # The card is not inside a live region (it would be read out whole); one status says it.
    card = page.locator(".bubble.answer")
    assert card.evaluate("c => c.closest('[aria-live]:not([aria-live=\"off\"])')") is None
    assert card.evaluate("c => c.closest('[role=log]').getAttribute('aria-live')") == "off"
    expect(page.locator("#announce")).to_have_text(
        "Possible answer (62\u00a0%): Gujarat. Check the source: Chip makers expand."
    )
    page.unroute("**/ask")
    ask(page, OFF_TOPIC)
    expect(page.locator("#announce")).to_have_text(
        re.compile(r"^The articles don't say \(best match \d+\u00a0%\)\.$")
    )


def test_question_bubbles_say_you_asked(page: Page, live: Live) -> None:
    open_page(page, live)
    ask(page, ANSWERED)
    asked = page.locator(".bubble.user")
    assert asked.text_content() == f"You asked: {ANSWERED}"  # read in the flow, not a label
    expect(asked.locator(".visually-hidden")).to_have_text("You asked: ")
    expect(asked.locator(".question-text")).to_have_text(ANSWERED)


def test_source_buttons_keep_the_sentence_in_their_names(page: Page, live: Live) -> None:
    open_page(page, live)
    met = "The two leaders met in Tokyo on Friday."
    lead = cite(page, live, "chips", CHIPS)
    serve_ask(
        page, answer_response(ANSWERED, [lead, cite(page, live, "quad", met)], confidence=0.9)
    )
    ask(page, ANSWERED)
    page.locator("details.related summary").click()
    related = page.locator(".bubble.answer details.related")
    expect(related.get_by_role("button", name=re.compile(re.escape(met)))).to_have_count(1)
    page.unroute("**/ask")
    serve_ask(page, {**answer_response(OFF_TOPIC, [lead], confidence=0.1), "answer": None})
    ask(page, OFF_TOPIC)
    near = page.locator(".bubble.abstained").get_by_role("button", name=re.compile(CHIPS))
    expect(near).to_have_count(1)
    expect(near).to_have_accessible_name(re.compile("^Not an answer: "))


CLIPPED = """e => { const s = getComputedStyle(e);
    const grow = parseFloat(s.outlineWidth) + Math.max(0, parseFloat(s.outlineOffset));
    const r = e.getBoundingClientRect();
    const ring = {l: r.left - grow, t: r.top - grow, r: r.right + grow, b: r.bottom + grow};
    const cut = [];
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a);
      if (o.overflowX === 'visible' && o.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (ring.l < b.left || ring.r > b.right || ring.t < b.top || ring.b > b.bottom)
        cut.push(a.className || a.tagName);
    }
    return [s.outlineStyle, grow, cut]; }"""


@pytest.mark.parametrize("which", ["source", "not-answer"])
def test_a_focused_source_shows_its_whole_focus_ring(page: Page, live: Live, which: str) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS)
    body = answer_response(ANSWERED, [lead], confidence=0.9)
    serve_ask(page, body if which == "source" else {**body, "answer": None})
    ask(page, ANSWERED)
    button = page.locator(".cite").first
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focused by the keyboard, so :focus-visible applies
    expect(button).to_be_focused()
    style, grow, cut = button.evaluate(CLIPPED)
    assert style != "none" and grow > 0
    assert cut == [], cut
