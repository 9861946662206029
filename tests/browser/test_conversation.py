"""Conversation basics: errors and Retry, waiting and Stop, history, New chat and Undo, Copy,
the limit, answers that come while the reader is elsewhere, other languages, the empty chat."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.conftest import (
    ANSWERED,
    CHIPS,
    OFF_TOPIC,
    Live,
    PageWatch,
    answer_response,
    ask,
    ask_and_hold,
    cite,
    open_page,
    scroll_log_to_top,
    serve_ask,
)

pytestmark = pytest.mark.browser


def fail_ask(page: Page) -> None:
    page.route(
        "**/ask",
        lambda route: route.fulfill(
            status=500, json={"error": "internal error; the server log has the details"}
        ),
    )


def test_server_error_is_shown_with_a_retry_that_asks_again_in_place(
    page: Page, live: Live
) -> None:
    open_page(page, live)
    fail_ask(page)
    ask(page, ANSWERED)
    error = page.locator(".bubble.error")
    # Said to the reader, not the operator: no server log, no status code.
    expect(error.locator(".error-message")).to_have_text("The service is not answering; try again.")
    expect(error).not_to_contain_text("log")
    retry = error.get_by_role("button", name=f"Retry: {ANSWERED}")
    retry.click()  # fails again: still one question, one error
    expect(page.locator(".bubble.error")).to_have_count(1)
    expect(page.locator(".bubble.user")).to_have_count(1)
    page.unroute("**/ask")
    with page.expect_response("**/ask"):
        page.locator(".bubble.error .retry").click()
    expect(page.locator(".bubble.answer")).to_have_count(1)
    expect(page.locator(".bubble.error")).to_have_count(0)
    expect(page.locator(".bubble.user .question-text")).to_have_text([ANSWERED])
    expect(page.get_by_label("Your question")).to_be_focused()


def test_asking_the_failed_question_again_from_the_box_does_not_repeat_it(
    page: Page, live: Live
) -> None:
    open_page(page, live)
    fail_ask(page)
    ask(page, ANSWERED)
    ask(page, ANSWERED)
    expect(page.locator(".bubble.error")).to_have_count(1)
    page.unroute("**/ask")
    ask(page, ANSWERED)
    expect(page.locator(".bubble.user .question-text")).to_have_text([ANSWERED])
    expect(page.locator(".bubble.answer")).to_have_count(1)
    expect(page.locator(".bubble.error")).to_have_count(0)


def test_unreachable_server_is_shown(page: Page, live: Live) -> None:
    open_page(page, live)
    page.route("**/ask", lambda route: route.abort("connectionrefused"))
    page.get_by_label("Your question").fill(ANSWERED)
    page.get_by_role("button", name="Ask").click()
    expect(page.locator(".bubble.error .error-message")).to_have_text(
        "The service is not answering; try again."
    )
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()


def test_the_box_stays_editable_while_waiting(page: Page, live: Live) -> None:
    open_page(page, live)
    held: list[Route] = []
    page.route("**/ask", lambda route: held.append(route))
    question = page.get_by_label("Your question")
    question.fill(ANSWERED)
    question.press("Enter")
    expect(page.locator(".bubble.thinking")).to_contain_text("Thinking")
    expect(page.locator("#log")).to_have_attribute("aria-busy", "true")
    expect(question).to_be_editable()
    expect(question).to_be_focused()
    question.press_sequentially("next question")
    question.press("Enter")  # not sent while waiting: said so, and kept in the box
    expect(page.locator("#ask-status")).to_have_text(
        "Still waiting for the last answer: press Stop to ask something else."
    )
    expect(question).to_have_value("next question")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator(".bubble.answer")).to_have_count(1)
    expect(page.locator(".bubble.thinking")).to_have_count(0)
    expect(page.get_by_role("button", name="Ask")).to_be_visible()
    expect(question).to_have_value("next question")


def test_stop_aborts_the_request(page: Page, live: Live) -> None:
    open_page(page, live)
    held: list[Route] = []
    page.route("**/ask", lambda route: held.append(route))
    failed: list[Request] = []
    page.on("requestfailed", lambda request: failed.append(request))
    page.get_by_label("Your question").fill(ANSWERED)
    page.get_by_label("Your question").press("Enter")
    expect(page.locator(".bubble.thinking")).to_be_visible()
    with page.expect_event("requestfailed") as aborted:
        page.get_by_role("button", name="Stop").click()
    assert aborted.value.url.endswith("/ask")
    expect(page.locator(".bubble.thinking")).to_have_count(0)
    expect(page.locator(".bubble.error.stopped")).to_contain_text("You stopped this question.")
    expect(page.get_by_role("button", name="Ask")).to_be_visible()
    expect(page.locator("#log")).to_have_attribute("aria-busy", "false")
    page.unroute("**/ask")
    with page.expect_response("**/ask"):
        page.locator(".bubble.error .retry").click()
    expect(page.locator(".bubble.answer")).to_have_count(1)
    expect(page.locator(".bubble.user")).to_have_count(1)


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
    ask(page, ANSWERED)  # a real question goes out, and it is the only one that did
    assert [r.post_data_json["question"] for r in sent] == [ANSWERED]


def test_a_reload_keeps_the_conversation_and_new_chat_clears_it(page: Page, live: Live) -> None:
    open_page(page, live)
    first = ask(page, ANSWERED)
    ask(page, OFF_TOPIC)
    page.locator(".bubble.answer").get_by_role("button", name="Helpful", exact=True).click()
    expect(page.locator(".bubble.answer .feedback-status")).to_have_text("Thanks, noted.")
    page.reload()
    expect(page.locator(".bubble.user .question-text")).to_have_text([ANSWERED, OFF_TOPIC])
    expect(page.locator(".bubble.answer .answer-text")).to_have_text(first["answer"])
    expect(page.locator(".bubble.abstained")).to_have_count(1)
    expect(
        page.locator(".bubble.answer").get_by_role("button", name="Helpful", exact=True)
    ).to_have_attribute("aria-pressed", "true")
    # The restored answer still opens its source.
    page.locator(".bubble.answer .cite.source").click()
    expect(page.locator("#panel mark")).to_have_text(first["citations"][0]["text"])
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".bubble.user")).to_have_count(0)
    expect(page.locator(".bubble.intro")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()
    page.reload()
    expect(page.locator(".bubble.intro")).to_be_visible()
    expect(page.locator(".bubble.user")).to_have_count(0)


def test_copy_puts_the_answer_its_headline_and_link_on_the_clipboard(
    watched: tuple[Page, PageWatch], live: Live
) -> None:
    page, watch = watched
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    open_page(page, live)
    lead = cite(
        page,
        live,
        "chips",
        "Semiconductor factories will open in Gujarat.",
        url="https://example.com/chips",
        published="2025-03-12",
        source="Example Times",
    )
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(page, ANSWERED)
    page.get_by_role("button", name="Copy the answer and its source").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        "Semiconductor factories will open in Gujarat.\n\n"
        "Source: Chip makers expand — Example Times, 12 Mar 2025\n"
        "https://example.com/chips"
    )
    assert not watch.errors and not watch.csp


def test_a_counter_shows_near_the_limit_and_a_long_question_is_never_cut(
    page: Page, live: Live
) -> None:
    open_page(page, live)
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/ask") else None)
    question = page.get_by_label("Your question")
    count = page.locator("#question-count")
    question.fill("word " * 100)
    expect(count).to_be_hidden()
    question.fill("word " * 190)  # 950 characters
    expect(count).to_have_text("950 / 1000 characters")
    expect(question).to_have_attribute("aria-invalid", "false")
    long = "word " * 201  # 1005 characters, pasted whole
    question.fill(long)
    expect(question).to_have_value(long)
    expect(count).to_have_text("1005 / 1000 characters: 5 too many")
    expect(question).to_have_attribute("aria-invalid", "true")
    question.press("Enter")
    expect(page.locator("#ask-status")).to_have_text(
        "The question is 5 characters too long: shorten it to send it."
    )
    expect(question).to_have_value(long)
    assert sent == []
    expect(page.locator(".bubble.user")).to_have_count(0)


def test_an_odd_stored_conversation_does_not_break_the_page(page: Page, live: Live) -> None:
    open_page(page, live)
    turns = [
        {"id": 1, "question": "failed", "status": "failed", "error": {"message": "x"}},
        {"id": 2, "question": "no response", "status": "answered", "response": None},
        {"id": 3, "question": 42, "status": "answered"},
        {
            "id": 4,
            "question": "odd citations",
            "status": "answered",
            "response": {"answer": "a", "confidence": 0.9, "citations": [None]},
        },
    ]
    page.evaluate(
        "turns => sessionStorage.setItem('qa-chat', JSON.stringify({version: 1, turns}))", turns
    )
    page.reload()
    expect(page.locator(".bubble.user .question-text")).to_have_text(
        ["failed", "no response", "odd citations"]
    )
    expect(page.locator(".bubble.error")).to_have_count(2)
    ask(page, ANSWERED)  # and the page still works (the fixture checks for JS errors too)
    expect(page.locator(".bubble.answer")).to_have_count(2)


def test_copy_of_an_answer_below_likely_carries_its_caveat(
    watched: tuple[Page, PageWatch], live: Live
) -> None:
    page, _ = watched
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS, source="Example Times")
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.62))
    ask(page, ANSWERED)
    page.get_by_role("button", name="Copy the answer and its source").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "Possible answer (62\u00a0%) — check the source\n\n"
        f"{CHIPS}\n\n"
        "Source: Chip makers expand — Example Times"
    )


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (500, "The service is not answering; try again."),
        (502, "The service is not answering; try again."),
        (503, "The service is starting up; try again in a few seconds."),
        (429, "Too many requests at once; wait a moment and try again."),
    ],
)
def test_errors_speak_to_the_reader_not_the_operator(
    page: Page, live: Live, status: int, said: str
) -> None:
    open_page(page, live)
    operator = "upstream worker pid 4242 crashed; see /var/log/qa/server.log (QA_WORKERS)"
    page.route("**/ask", lambda route: route.fulfill(status=status, json={"error": operator}))
    ask(page, ANSWERED)
    expect(page.locator(".bubble.error .error-message")).to_have_text(said)
    expect(page.locator("#announce")).to_have_text(f"Sorry, that did not work: {said}")


def test_stopped_is_said_plainly_not_as_an_error(page: Page, live: Live) -> None:
    open_page(page, live)
    page.route("**/ask", lambda route: None)  # never answered
    page.get_by_label("Your question").fill(ANSWERED)
    page.get_by_label("Your question").press("Enter")
    page.get_by_role("button", name="Stop").click()
    status = page.locator("#ask-status")
    expect(status).to_have_text("Stopped.")
    colour = "e => getComputedStyle(e).color"
    error_ink = page.locator("#question-count").evaluate(
        "c => { c.hidden = false; c.classList.add('over'); return getComputedStyle(c).color; }"
    )
    assert status.evaluate(colour) != error_ink
    assert status.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    assert page.locator(".bubble.error.stopped").evaluate(colour) != error_ink


def test_an_answer_does_not_yank_a_reader_who_scrolled_up(page: Page, live: Live) -> None:
    open_page(page, live)
    for _ in range(4):
        ask(page, ANSWERED)
    held = ask_and_hold(page, OFF_TOPIC)
    expect(page.locator(".bubble.thinking")).to_be_in_viewport()
    log = page.locator("#log")
    scroll_log_to_top(page)  # back up, to read the first answer again
    held[0].continue_()
    expect(page.locator(".bubble.abstained")).to_have_count(1)
    pill = page.get_by_role("button", name="New answer ↓")
    expect(pill).to_be_visible()
    assert log.evaluate("log => log.scrollTop") == 0
    expect(page.locator(".bubble.intro")).to_be_in_viewport()
    pill.click()
    expect(page.locator(".bubble.abstained .verdict")).to_be_in_viewport()
    expect(pill).to_be_hidden()
    # A reader who stayed with the question gets no pill: the view goes to the answer.
    page.unroute("**/ask")
    ask(page, ANSWERED)
    expect(page.locator(".bubble.answer").last.locator(".verdict")).to_be_in_viewport()
    expect(pill).to_be_hidden()


def test_new_chat_can_be_undone(page: Page, live: Live) -> None:
    open_page(page, live)
    first = ask(page, ANSWERED)
    ask(page, OFF_TOPIC)
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".bubble.user")).to_have_count(0)
    expect(page.locator("#announce")).to_contain_text("The chat was cleared.")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".bubble.user .question-text")).to_have_text([ANSWERED, OFF_TOPIC])
    expect(page.locator(".bubble.answer .answer-text")).to_have_text(first["answer"])
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    page.reload()  # and it is kept again
    expect(page.locator(".bubble.user .question-text")).to_have_text([ANSWERED, OFF_TOPIC])
    # Once a new question is asked, the cleared chat is gone for good.
    page.get_by_role("button", name="New chat").click()
    ask(page, ANSWERED)
    expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    expect(page.locator(".bubble.user")).to_have_count(1)


@pytest.mark.parametrize(
    "question",
    [
        "¿Dónde abrirán las fábricas de semiconductores?",
        "Wo werden die Fabriken gebaut?",
        "半導体工場はどこに開設されますか？",
    ],
    ids=["spanish", "german", "japanese"],
)
def test_a_question_not_in_english_is_told_the_articles_are_searched_in_english(
    page: Page, live: Live, question: str
) -> None:
    open_page(page, live)
    ask(page, question)
    note = page.locator(".bubble.answer, .bubble.abstained").last.locator(".language-note")
    expect(note).to_have_text("The articles are searched in English: asking in English finds more.")
    ask(page, ANSWERED)
    expect(page.locator(".bubble.answer").last.locator(".language-note")).to_have_count(0)


def _newest(route: Route) -> None:
    docs = [
        {
            "doc_id": "bridge",
            "title": "Harbour bridge reopens after two-year repair",
            "published": "2025-03-14",
            "sentences": 9,
        },
        {
            "doc_id": "rates",
            "title": "The bank kept its rate at 4 percent on Thursday.",
            "published": "2025-03-13",
            "sentences": 5,
        },  # a first sentence, not a headline
        {
            "doc_id": "chips",
            "title": "Chip makers expand",
            "published": "2025-03-12",
            "sentences": 2,
        },
        {
            "doc_id": "floods",
            "title": "Floods close the coast road",
            "published": "2025-03-11",
            "sentences": 4,
        },
        {"doc_id": "old", "title": "An older story", "published": "2024-01-01", "sentences": 3},
    ]
    route.fulfill(json=docs)


def test_the_empty_chat_offers_questions_from_the_newest_headlines(page: Page, live: Live) -> None:
    page.route("**/documents", _newest)
    page.goto(live.url + "/")
    examples = page.locator("#examples").get_by_role("button")
    expect(examples).to_have_text(
        [
            "What does “Harbour bridge reopens after two-year repair” say?",
            "What does “Chip makers expand” say?",
            "What does “Floods close the coast road” say?",
        ]
    )
    with page.expect_response("**/ask"):
        examples.nth(1).click()
    expect(page.locator(".bubble.user .question-text")).to_have_text(
        ["What does “Chip makers expand” say?"]
    )
    expect(page.locator("#examples")).to_be_hidden()
    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#examples")).to_be_visible()
