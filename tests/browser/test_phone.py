"""The page on a phone (390x844): the article is a full-screen sheet, the box stays in reach."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import (
    ANSWERED,
    CHIPS,
    OFF_TOPIC,
    Live,
    answer_response,
    ask,
    cite,
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
