"""The chat page in a real browser, over a real server with the fake embedder."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from tests.browser.conftest import MOBILE, XSS_ARTICLE, XSS_DOC_ID, Live, PageWatch, new_page

pytestmark = pytest.mark.browser

ANSWERED = "Where will semiconductor factories open?"
OFF_TOPIC = "What is the capital of France?"


def ask(page: Page, question: str) -> dict[str, Any]:
    """Type a question, press Enter, and return the /ask response the page received."""
    page.get_by_label("Your question").fill(question)
    with page.expect_response("**/ask") as response:
        page.get_by_label("Your question").press("Enter")
    body: dict[str, Any] = response.value.json()
    return body


def open_page(page: Page, live: Live) -> None:
    page.goto(live.url + "/")
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()


def test_ask_shows_answer_confidence_and_citation(page: Page, live: Live) -> None:
    open_page(page, live)
    body = ask(page, ANSWERED)
    assert body["answer"] is not None, body
    bubble = page.locator(".bubble.answer").last
    expect(page.locator(".bubble.user").last).to_have_text(ANSWERED)
    expect(bubble.locator(".answer-text")).to_have_text(body["answer"])
    expect(bubble.locator(".confidence")).to_have_text(re.compile(r"^Confidence: (high|medium)$"))
    lead = body["citations"][0]
    expect(bubble.locator(".cite.source")).to_contain_text(lead["title"])
    for other in body["citations"][1:]:
        expect(bubble.get_by_text(other["text"], exact=True)).to_be_visible()
    question = page.get_by_label("Your question")
    expect(question).to_be_enabled()
    expect(question).to_be_focused()
    expect(question).to_have_value("")


def test_citation_opens_article_with_sentence_highlighted(page: Page, live: Live) -> None:
    open_page(page, live)
    body = ask(page, ANSWERED)
    lead = body["citations"][0]
    page.locator(".bubble.answer .cite.source").last.click()
    mark = page.locator("#panel mark")
    expect(mark).to_have_count(1)
    expect(mark).to_be_in_viewport()
    expect(mark).to_have_text(lead["text"])
    assert mark.text_content() == lead["text"] == body["answer"]
    expect(page.locator("#panel-title")).to_have_text(lead["title"])
    # Any other citation highlights its own sentence.
    if len(body["citations"]) > 1:
        other = body["citations"][1]
        page.locator(".bubble.answer").last.locator(".cite").nth(1).click()
        expect(page.locator("#panel-title")).to_have_text(other["title"])
        expect(mark).to_have_text(other["text"])
        expect(mark).to_be_in_viewport()


def test_article_list_opens_an_article(page: Page, live: Live) -> None:
    open_page(page, live)
    page.get_by_role("button", name=re.compile("^Articles")).click()
    link = page.locator(".doc-link", has_text="Chip makers expand")
    link.click()
    expect(page.locator("#panel-title")).to_have_text("Chip makers expand")
    expect(page.locator(".article-text")).to_contain_text("Semiconductor factories")
    expect(page.locator("#panel mark")).to_have_count(0)
    page.get_by_role("button", name="All articles").click()
    expect(page.locator(".doc-link")).to_have_count(3)


def test_off_topic_question_abstains_honestly(page: Page, live: Live) -> None:
    open_page(page, live)
    body = ask(page, OFF_TOPIC)
    assert body["answer"] is None, body
    bubble = page.locator(".bubble.abstained").last
    expect(bubble).to_contain_text("The articles hold no answer to this question.")
    expect(bubble.locator(".answer-text")).to_have_count(0)
    expect(bubble.locator(".confidence")).to_have_text("Confidence: low")
    if body["citations"]:
        expect(bubble).to_contain_text("Closest sentences — not an answer")
        expect(bubble.locator(".not-answer-tag")).to_have_count(len(body["citations"]))
        bubble.locator(".cite").first.click()
        expect(page.locator("#panel mark")).to_have_text(body["citations"][0]["text"])


def test_server_error_is_shown_and_the_page_recovers(page: Page, live: Live) -> None:
    open_page(page, live)
    page.route(
        "**/ask",
        lambda route: route.fulfill(
            status=500, json={"error": "internal error; the server log has the details"}
        ),
    )
    page.get_by_label("Your question").fill(ANSWERED)
    page.get_by_label("Your question").press("Enter")
    error = page.locator(".bubble.error")
    expect(error).to_contain_text("internal error; the server log has the details")
    question = page.get_by_label("Your question")
    expect(question).to_be_enabled()
    expect(question).to_have_value(ANSWERED)  # given back, ready to retry
    page.unroute("**/ask")
    question.press("Enter")
    expect(page.locator(".bubble.answer")).to_have_count(1)


def test_unreachable_server_is_shown(page: Page, live: Live) -> None:
    open_page(page, live)
    page.route("**/ask", lambda route: route.abort("connectionrefused"))
    page.get_by_label("Your question").fill(ANSWERED)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator(".bubble.error")).to_contain_text("could not be reached")
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()


def test_thinking_state_disables_input_while_waiting(page: Page, live: Live) -> None:
    open_page(page, live)
    held: list[Route] = []
    page.route("**/ask", lambda route: held.append(route))
    page.get_by_label("Your question").fill(ANSWERED)
    page.get_by_label("Your question").press("Enter")
    expect(page.locator(".bubble.thinking")).to_be_visible()
    expect(page.locator(".bubble.thinking")).to_contain_text("Thinking")
    expect(page.get_by_label("Your question")).to_be_disabled()
    expect(page.get_by_role("button", name="Ask")).to_be_disabled()
    expect(page.locator("#log")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator(".bubble.answer")).to_have_count(1)
    expect(page.locator(".bubble.thinking")).to_have_count(0)
    expect(page.get_by_label("Your question")).to_be_enabled()


def test_blank_input_is_not_sent_and_shift_enter_is_a_new_line(page: Page, live: Live) -> None:
    open_page(page, live)
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/ask") else None)
    question = page.get_by_label("Your question")
    question.fill("   ")
    question.press("Enter")
    page.get_by_role("button", name="Ask").click()
    question.fill("")
    question.press_sequentially("first line")
    question.press("Shift+Enter")
    question.press_sequentially("second line")
    expect(question).to_have_value("first line\nsecond line")
    expect(page.locator(".bubble.user")).to_have_count(0)
    # The positive signal that the page handled every key and click above: the next Enter sends
    # this question and its reply arrives. Requests go out in order, so a blank question or a
    # Shift+Enter sent earlier would be among them: the only one is the two-line question.
    with page.expect_response("**/ask"):
        question.press("Enter")
    expect(page.locator(".bubble.answer")).to_have_count(1)
    assert [json.loads(r.post_data or "{}")["question"] for r in sent] == [
        "first line\nsecond line"
    ]
    expect(page.locator(".bubble.user")).to_have_count(1)


def test_keyboard_only_use(page: Page, live: Live) -> None:
    open_page(page, live)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the question box")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your question")).to_be_focused()
    page.keyboard.type(ANSWERED)
    page.keyboard.press("Enter")
    expect(page.locator(".bubble.answer")).to_have_count(1)
    expect(page.get_by_label("Your question")).to_be_focused()
    source = page.locator(".cite.source")
    for _ in range(8):  # back through 👎, 👍, the other citations to the source
        page.keyboard.press("Shift+Tab")
        if source.evaluate("el => el === document.activeElement"):
            break
    expect(source).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#panel mark")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(source).to_be_focused()


def test_accessible_names_and_live_region(page: Page, live: Live) -> None:
    open_page(page, live)
    expect(page.get_by_label("Your question")).to_be_visible()
    expect(page.locator("#log")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("log")).to_be_visible()
    ask(page, ANSWERED)
    expect(page.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Not helpful")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Source from"))).to_be_visible()


def test_markup_in_articles_is_shown_literally(watched: tuple[Page, PageWatch], live: Live) -> None:
    page, watch = watched
    open_page(page, live)
    # Through the list: title and text of the article.
    page.get_by_role("button", name=re.compile("^Articles")).click()
    page.locator(".doc-link", has_text="<img src=x onerror=alert(3)>").click()
    expect(page.locator("#panel-title")).to_have_text(
        "Markup <b>in</b> the news <img src=x onerror=alert(3)>"
    )
    text = page.locator(".article-text")
    expect(text).to_contain_text("<script>alert(1)</script>")
    expect(text).to_contain_text("<img src=x onerror=alert(2)>")
    # Through an answer whose strings are all markup (served by a stand-in /ask).
    start = XSS_ARTICLE.index("A reader")
    end = XSS_ARTICLE.index("script tag.") + len("script tag.")
    sentence = XSS_ARTICLE[start:end]
    title = "Markup <b>in</b> the news <img src=x onerror=alert(3)>"
    citation = {
        "doc_id": XSS_DOC_ID,
        "title": title,
        "sentence_index": 0,
        "start": start,
        "end": end,
        "text": sentence,
        "score": 0.9,
    }
    fake = {
        "question": "<img src=x onerror=alert(4)>",
        "answer": sentence,
        "confidence": 0.9,
        "citations": [citation],
        "took_ms": 1.0,
    }
    page.route("**/ask", lambda route: route.fulfill(status=200, json=fake))
    ask(page, "<img src=x onerror=alert(4)>")
    expect(page.locator(".bubble.user").last).to_have_text("<img src=x onerror=alert(4)>")
    expect(page.locator(".answer-text")).to_have_text(sentence)
    page.locator(".cite.source").click()
    # The mark holds exactly the sentence, although an emoji (two UTF-16 units) precedes it.
    expect(page.locator("#panel mark")).to_have_text(sentence)
    # No waiting for a dialog that might come: a dialog needs an element carrying code, and the
    # rendered page (answer and article shown above) holds none; the CSP forbids inline handlers
    # besides (a violation fails the test through the fixture).
    assert watch.dialogs == []
    assert page.locator("main img").count() == 0
    assert page.locator("main script, main b").count() == 0
    assert page.locator("script").count() == 1  # app.js only


def test_narrow_phone_screen_has_no_horizontal_scroll(browser: Browser, live: Live) -> None:
    context, page, watch = new_page(browser, MOBILE)
    try:
        open_page(page, live)

        def assert_fits() -> None:
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"page is {overflow}px wider than the screen"

        assert_fits()
        ask(page, ANSWERED)
        expect(page.locator(".bubble.answer")).to_have_count(1)
        assert_fits()
        ask(page, OFF_TOPIC)
        expect(page.locator(".bubble.abstained")).to_have_count(1)
        assert_fits()
        page.locator(".cite.source").click()
        expect(page.locator("#panel mark")).to_be_in_viewport()
        assert_fits()
        # The article panel sits below the chat on a phone.
        chat = page.locator(".chat").bounding_box()
        panel = page.locator("#panel").bounding_box()
        assert chat and panel and panel["y"] >= chat["y"] + chat["height"]
        page.get_by_role("button", name="All articles").click()
        assert_fits()
        assert not watch.errors and not watch.csp
    finally:
        context.close()


def test_desktop_puts_the_article_beside_the_chat(page: Page, live: Live) -> None:
    open_page(page, live)
    chat = page.locator(".chat").bounding_box()
    panel = page.locator("#panel").bounding_box()
    assert chat and panel and panel["x"] >= chat["x"] + chat["width"]


def test_feedback_reaches_the_file(page: Page, live: Live) -> None:
    open_page(page, live)
    body = ask(page, ANSWERED)
    bubble = page.locator(".bubble.answer").last
    with page.expect_response("**/feedback") as response:
        bubble.get_by_role("button", name="Helpful", exact=True).click()
    assert response.value.status == 201
    expect(bubble.locator(".feedback-status")).to_have_text("Thanks, noted.")
    expect(bubble.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    ask(page, OFF_TOPIC)
    abstained = page.locator(".bubble.abstained").last
    with page.expect_response("**/feedback"):
        abstained.get_by_role("button", name="Not helpful").click()
    expect(abstained.locator(".feedback-status")).to_have_text("Thanks, noted.")

    lines = live.settings.feedback_path.read_text(encoding="utf-8").splitlines()
    records = {r["question"]: r for r in map(json.loads, lines)}
    lead = body["citations"][0]
    up = records[ANSWERED]
    assert up["helpful"] is True
    assert up["answer"] == body["answer"]
    assert (up["doc_id"], up["sentence_index"]) == (lead["doc_id"], lead["sentence_index"])
    assert up["evidence"] in body["answer"]
    down = records[OFF_TOPIC]
    assert down["helpful"] is False
    assert down["answer"] is None and down["doc_id"] is None


def test_feedback_failure_is_shown(page: Page, live: Live) -> None:
    open_page(page, live)
    ask(page, ANSWERED)
    page.route(
        "**/feedback",
        lambda route: route.fulfill(status=500, json={"error": "the feedback could not be saved"}),
    )
    bubble = page.locator(".bubble.answer").last
    bubble.get_by_role("button", name="Not helpful").click()
    expect(bubble.locator(".feedback-status")).to_have_text(
        "Feedback not saved: the feedback could not be saved"
    )
    expect(bubble.get_by_role("button", name="Not helpful")).to_be_enabled()


def test_page_is_sent_with_a_strict_csp(page: Page, live: Live) -> None:
    response = page.goto(live.url + "/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    # The page's own script did run under that policy.
    expect(page.locator(".doc-link")).to_have_count(3)
