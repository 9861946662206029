"""The page on a phone (390x844, and 844x390 on its side): the article is a full-screen sheet,
the box stays in reach, the answer is what shows after asking, every target is thumb-sized."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import (
    ANSWERED,
    CHIPS,
    LANDSCAPE,
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

MORE = [
    "Who welcomed the plan?",
    "When did the two leaders meet?",
    "How much is the investment worth?",
    "Where did the leaders meet?",
    "What will happen next year?",
]


def assert_fits(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page is {overflow}px wider than the screen"


def test_a_tapped_source_opens_a_full_screen_sheet_with_the_sentence_in_view(
    phone: Page, live: Live
) -> None:
    open_page(phone, live)
    for question in MORE:  # a long conversation first, as in the report
        ask(phone, question)
    body = ask(phone, ANSWERED)
    source = phone.locator(".cite.source").last
    source.tap()
    sheet = phone.locator("#panel")
    expect(sheet).to_be_visible()
    box = sheet.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    expect(phone.locator("#panel-title")).to_be_in_viewport()
    expect(phone.locator("#panel mark")).to_have_text(body["citations"][0]["text"])
    expect(phone.locator("#panel mark")).to_be_in_viewport()
    back = phone.get_by_role("button", name="Back to answer")
    expect(back).to_be_in_viewport()
    assert_fits(phone)
    back.tap()
    expect(sheet).to_be_hidden()
    expect(source).to_be_focused()
    expect(source).to_be_in_viewport()


@pytest.mark.parametrize("how", ["Escape", "browser Back"])
def test_escape_and_browser_back_close_the_sheet(phone: Page, live: Live, how: str) -> None:
    open_page(phone, live)
    ask(phone, ANSWERED)
    source = phone.locator(".cite.source")
    source.tap()
    expect(phone.locator("#panel mark")).to_be_in_viewport()
    if how == "Escape":
        phone.keyboard.press("Escape")
    else:
        phone.go_back()
    expect(phone.locator("#panel")).to_be_hidden()
    expect(source).to_be_focused()
    # Closed once: the page is still there, and the sheet opens again.
    assert phone.url.rstrip("/") == live.url
    source.tap()
    expect(phone.locator("#panel mark")).to_be_in_viewport()


def test_the_question_box_stays_pinned_at_the_bottom(phone: Page, live: Live) -> None:
    open_page(phone, live)
    for question in [*MORE, ANSWERED, OFF_TOPIC]:
        ask(phone, question)
    box = phone.get_by_label("Your question")
    expect(box).to_be_in_viewport()
    bounds = phone.locator("#ask-form").bounding_box()
    assert bounds is not None and abs(bounds["y"] + bounds["height"] - 844) <= 1, bounds
    # A source card with a link to the original (its "opens in a new tab" text is hidden).
    lead = cite(phone, live, "chips", CHIPS, url="https://example.com/chips")
    serve_ask(phone, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(phone, ANSWERED)
    expect(phone.locator(".original")).to_have_count(1)
    # The conversation scrolls inside its own area; the page itself never does.
    assert phone.evaluate("document.scrollingElement.scrollTop") == 0
    assert phone.evaluate("document.scrollingElement.scrollHeight") == 844
    phone.locator("#log").evaluate("log => log.scrollTo(0, 0)")
    expect(box).to_be_in_viewport()
    assert_fits(phone)


def test_after_an_error_the_retry_and_the_box_are_on_screen(phone: Page, live: Live) -> None:
    open_page(phone, live)
    for question in MORE:
        ask(phone, question)
    phone.route("**/ask", lambda route: route.fulfill(status=500, json={"error": "boom"}))
    ask(phone, ANSWERED)
    expect(phone.locator(".bubble.error .retry")).to_be_in_viewport()
    expect(phone.get_by_label("Your question")).to_be_in_viewport()


def test_the_article_list_opens_only_once_it_has_loaded(phone: Page, live: Live) -> None:
    open_page(phone, live)
    held: list[Route] = []
    phone.route("**/documents", lambda route: held.append(route))
    phone.get_by_role("button", name="Articles").tap()
    expect(phone.locator("#panel")).to_be_visible()
    expect(phone.locator("#panel-body")).to_have_text("Loading the list of articles…")
    expect(phone.locator("#panel-title")).not_to_be_focused()
    assert len(held) == 1
    held[0].continue_()
    expect(phone.locator(".doc-link")).to_have_count(3)
    expect(phone.locator("#panel-title")).to_be_focused()
    expect(phone.locator("#panel-title")).to_be_in_viewport()
    expect(phone.locator(".doc-link").first).to_be_in_viewport()
    expect(phone.get_by_role("button", name="Back to chat")).to_be_in_viewport()
    phone.locator(".doc-link", has_text="Chip makers expand").tap()
    expect(phone.locator(".article-text")).to_contain_text("Semiconductor factories")
    phone.keyboard.press("Escape")
    expect(phone.locator("#panel")).to_be_hidden()
    expect(phone.get_by_role("button", name="Articles")).to_be_focused()


def test_no_horizontal_scroll_with_long_unbroken_text(phone: Page, live: Live) -> None:
    open_page(phone, live)
    long_word = "x" * 300
    phone.route(
        "**/documents",
        lambda route: route.fulfill(
            response=route.fetch(),
            body=json.dumps([{"doc_id": "chips", "title": long_word, "sentences": 2}]),
        ),
    )
    ask(phone, long_word)
    ask(phone, ANSWERED)
    assert_fits(phone)
    phone.get_by_role("button", name="Articles").tap()
    expect(phone.locator(".doc-link")).to_have_count(1)
    assert_fits(phone)


def news_answer(page: Page, live: Live, *, confidence: float = 0.9) -> dict[str, Any]:
    """An answer with a short answer, a source with outlet, date and link, and two related
    sentences from two articles: the fullest card there is."""
    news = {"url": "https://example.com/chips", "published": "2025-03-12", "source": "Example"}
    lead = cite(page, live, "chips", CHIPS, **news)
    start = lead["start"] + CHIPS.index("Gujarat")
    span = {"start": start, "end": start + len("Gujarat"), "text": "Gujarat"}
    others = [
        cite(
            page, live, "quad", "The two leaders met in Tokyo on Friday.", url="https://q.example/"
        ),
        cite(page, live, "chips", "The investment is worth 10 billion dollars.", **news),
    ]
    return answer_response(ANSWERED, [lead, *others], confidence=confidence, answer_span=span)


def test_after_an_answer_the_phone_shows_it_from_its_start_with_its_buttons(
    phone: Page, live: Live
) -> None:
    open_page(phone, live)
    for question in MORE:
        ask(phone, question)
    serve_ask(phone, news_answer(phone, live))
    ask(phone, ANSWERED)
    answer = phone.locator(".bubble.answer").last
    # No on-screen keyboard over the answer: the focus is on the answer, not in the box.
    expect(phone.get_by_label("Your question")).not_to_be_focused()
    expect(answer).to_be_focused()
    # The view starts at the answer (or its question just above it), or shows it whole.
    log = phone.locator("#log").bounding_box()
    box = answer.bounding_box()
    assert log and box and box["y"] >= log["y"] - 1, (log, box)
    whole = box["y"] + box["height"] <= log["y"] + log["height"] + 1
    assert whole or box["y"] <= log["y"] + 0.25 * log["height"], (log, box)
    # Verdict, short answer, quote, source, Copy and the vote on the first screen.
    for part in [".verdict", ".short-answer-lead", ".answer-text", ".source-line .cite"]:
        expect(answer.locator(part)).to_be_in_viewport(ratio=1)
    for name in ["Copy the answer and its source", "Helpful", "Not helpful"]:
        expect(answer.get_by_role("button", name=name, exact=True)).to_be_in_viewport(ratio=1)
    expect(answer.locator("details.related")).not_to_have_attribute("open", "")
    assert_fits(phone)


def test_a_long_question_is_clamped_with_show_all(phone: Page, live: Live) -> None:
    open_page(phone, live)
    long = "Where exactly will the new semiconductor factories open, and when? " * 8
    ask(phone, long)
    asked = phone.locator(".bubble.user").last
    text = asked.locator(".question-text")
    line = text.evaluate("t => parseFloat(getComputedStyle(t).lineHeight)")
    clamped = text.bounding_box()
    assert clamped and clamped["height"] <= 4 * line + 2, (clamped, line)
    more = asked.get_by_role("button", name="Show all")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.tap()
    expect(asked.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    opened = text.bounding_box()
    assert opened and opened["height"] > 6 * line, opened
    expect(text).to_have_text(long)  # clamped on screen, never cut
    ask(phone, "Where will factories open?")  # a short one gets no button
    expect(phone.locator(".bubble.user").last.locator(".show-all")).to_have_count(0)


def test_on_its_side_the_box_shrinks_and_the_keyboard_hint_goes(
    browser: Browser, live: Live
) -> None:
    context, page, watch = new_page(browser, LANDSCAPE)
    try:
        open_page(page, live)
        expect(page.locator("#question-hint")).to_be_hidden()
        form = page.locator("#ask-form").bounding_box()
        assert form and form["height"] <= 0.25 * LANDSCAPE["height"], form
        serve_ask(page, news_answer(page, live))
        ask(page, ANSWERED)
        answer = page.locator(".bubble.answer")
        expect(answer.locator(".verdict")).to_be_in_viewport(ratio=1)
        expect(answer.locator(".short-answer-lead")).to_be_in_viewport(ratio=1)
        expect(page.get_by_label("Your question")).not_to_be_focused()
        assert_fits(page)
        assert not watch.errors and not watch.csp
    finally:
        context.close()


TARGETS = """root => [...root.querySelectorAll('button, a[href], summary, textarea')]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .filter(e => !e.closest('.visually-hidden, [hidden]'))
    .map(e => { const r = e.getBoundingClientRect();
                return [e.textContent.trim().slice(0, 30) || e.id, r.width, r.height]; })"""


def test_every_touch_target_is_at_least_44px(phone: Page, live: Live) -> None:
    open_page(phone, live)
    serve_ask(phone, news_answer(phone, live))
    ask(phone, ANSWERED)
    phone.locator(".bubble.answer details.related summary").tap()
    phone.unroute("**/ask")
    ask(phone, OFF_TOPIC)  # an abstention: its cards and their Details too
    targets = phone.locator("body").evaluate(TARGETS)
    names = [t[0] for t in targets]
    assert "Details" in names and "Copy" in names, names
    assert any(n.startswith("Original on example.com") for n in names), names
    small = [t for t in targets if t[1] < 44 or t[2] < 44]
    assert small == [], small
