"""The chat page in a real browser, over a real server with the fake embedder."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Request, expect

from qa.evaluation.feedback import export, read_feedback
from tests.browser.conftest import (
    ANSWERED,
    OFF_TOPIC,
    XSS_ARTICLE,
    XSS_DOC_ID,
    Live,
    PageWatch,
    answer_response,
    ask,
    cite,
    open_page,
    serve_ask,
)

pytestmark = pytest.mark.browser


def test_ask_shows_answer_confidence_and_citation(page: Page, live: Live) -> None:
    open_page(page, live)
    body = ask(page, ANSWERED)
    assert body["answer"] is not None, body
    bubble = page.locator(".bubble.answer").last
    question = page.get_by_label("Your question")  # on a desktop, ready for the next question
    expect(question).to_be_enabled()
    expect(question).to_be_focused()
    expect(question).to_have_value("")
    expect(page.locator(".bubble.user .question-text").last).to_have_text(ANSWERED)
    expect(bubble.locator(".answer-text")).to_have_text(body["answer"])
    # "Likely" from the server's high_confidence on, "Possible" between its threshold and that.
    config = page.request.get(f"{live.url}/config").json()
    percent = int(body["confidence"] * 100)
    expect(bubble.locator(".verdict")).to_have_text(
        f"Likely answer ({percent}\u00a0%)"
        if body["confidence"] >= config["high_confidence"]
        else f"Possible answer ({percent}\u00a0%) — check the source"
    )
    lead = body["citations"][0]
    expect(bubble.locator(".cite.source")).to_contain_text(lead["title"])
    if body["citations"][1:]:
        bubble.locator("details.related summary").click()
    for other in body["citations"][1:]:
        # By its text, not its title: an article without a heading is titled by its first
        # sentence, which may be the cited one.
        exact = re.compile(f"^{re.escape(other['text'])}$")
        expect(bubble.locator(".cite-text").filter(has_text=exact)).to_be_visible()


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
        page.locator(".bubble.answer details.related summary").last.click()
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
    percent = int(body["confidence"] * 100)
    expect(bubble.locator(".verdict")).to_have_text(
        f"The articles don't say (best match {percent}\u00a0%)"
    )
    expect(bubble.locator(".answer-text")).to_have_count(0)
    expect(bubble.get_by_role("button", name="Copy")).to_have_count(0)
    if body["citations"]:
        expect(bubble).to_contain_text("Closest sentences — not an answer")
        expect(bubble.locator(".not-answer-tag")).to_have_count(len(body["citations"]))
        bubble.locator(".cite").first.click()
        expect(page.locator("#panel mark")).to_have_text(body["citations"][0]["text"])


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
    for _ in range(16):  # back through feedback, Copy, the other citations to the source
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
    # The conversation is not read out as it grows; each answer is announced once, briefly.
    expect(page.locator("#log")).to_have_attribute("aria-live", "off")
    expect(page.get_by_role("log")).to_be_visible()
    expect(page.locator("#announce")).to_have_attribute("role", "status")
    ask(page, ANSWERED)
    expect(page.get_by_role("button", name="Helpful", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Not helpful")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Source: "))).to_be_visible()


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
    expect(page.locator(".bubble.user .question-text").last).to_have_text(
        "<img src=x onerror=alert(4)>"
    )
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
        "Feedback not saved: The service is not answering; try again."
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


def test_escape_from_the_article_list_does_not_jump_to_an_old_citation(
    page: Page, live: Live
) -> None:
    open_page(page, live)
    ask(page, ANSWERED)
    source = page.locator(".cite.source")
    source.click()
    expect(page.locator("#panel mark")).to_be_in_viewport()
    page.get_by_role("button", name="All articles").click()
    expect(page.locator(".doc-link")).to_have_count(3)
    expect(page.locator("#panel-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#panel-title")).to_be_focused()
    expect(source).not_to_have_attribute("aria-current", "true")


def test_a_not_an_answer_sentence_looks_and_reads_different_in_the_article(
    page: Page, live: Live
) -> None:
    open_page(page, live)
    sentence = "Semiconductor factories will open in Gujarat."
    lead = cite(page, live, "chips", sentence)
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(page, ANSWERED)
    page.locator(".bubble.answer .cite").click()
    answer_mark = page.locator("#panel mark")
    expect(answer_mark).to_have_text(sentence)
    expect(page.locator(".article-note")).to_have_text(
        "The highlighted sentence is where the answer comes from."
    )
    answer_bg = answer_mark.evaluate("m => getComputedStyle(m).backgroundColor")
    page.unroute("**/ask")
    serve_ask(page, {**answer_response(OFF_TOPIC, [lead], confidence=0.1), "answer": None})
    ask(page, OFF_TOPIC)
    page.locator(".bubble.abstained .cite").click()
    near = page.locator("#panel mark.not-answer")
    expect(near).to_have_text(sentence)
    expect(page.locator(".article-text .mark-tag")).to_have_text("Not an answer")
    expect(page.locator(".article-note")).to_have_text(
        "The outlined sentence is the closest the article comes: it does not answer your question."
    )
    assert near.evaluate("m => getComputedStyle(m).backgroundColor") != answer_bg
    assert near.evaluate("m => getComputedStyle(m).outlineStyle") == "dashed"


def test_dark_scheme_changes_the_colours(page: Page, live: Live) -> None:
    open_page(page, live)
    ask(page, ANSWERED)
    colours = """() => [document.documentElement, document.querySelector('.bubble.answer'),
                        document.querySelector('#question')]
                       .map(e => getComputedStyle(e).backgroundColor)"""
    page.emulate_media(color_scheme="light")
    light = page.evaluate(colours)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(colours)
    assert all(a != b for a, b in zip(light, dark, strict=True)), (light, dark)
    text = page.evaluate("getComputedStyle(document.documentElement).color")
    assert text != "rgb(27, 31, 36)"  # light ink on a dark background


def test_feedback_buttons_say_what_they_mean_in_text(page: Page, live: Live) -> None:
    open_page(page, live)
    ask(page, ANSWERED)
    votes = page.locator(".bubble.answer .vote")
    expect(votes).to_have_text(["Helpful", "Not helpful"])


def test_changing_a_vote_replaces_it_and_the_same_vote_is_not_sent_twice(
    page: Page, live: Live
) -> None:
    path = live.settings.feedback_path
    before = len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0
    open_page(page, live)
    ask(page, ANSWERED)
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/feedback") else None)
    bubble = page.locator(".bubble.answer")
    helpful = bubble.get_by_role("button", name="Helpful", exact=True)
    not_helpful = bubble.get_by_role("button", name="Not helpful")
    with page.expect_response("**/feedback"):
        helpful.click()
    expect(bubble.locator(".feedback-status")).to_have_text("Thanks, noted.")
    helpful.click()  # the same vote again: nothing to send
    with page.expect_response("**/feedback"):
        not_helpful.click()
    expect(bubble.locator(".feedback-status")).to_have_text("Vote changed.")
    expect(not_helpful).to_have_attribute("aria-pressed", "true")
    expect(helpful).to_have_attribute("aria-pressed", "false")
    assert [r.post_data_json["helpful"] for r in sent] == [True, False]
    records, problems = read_feedback(path)
    assert problems == [] and len(records) == before + 2
    result = export(records)
    assert [m["question"] for m in result.misses].count(ANSWERED) == 1
    assert ANSWERED not in [c["question"] for c in result.candidates]


def test_a_whole_session_requests_nothing_from_other_sites(page: Page, live: Live) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    open_page(page, live)
    lead = cite(page, live, "chips", "Semiconductor factories will open in Gujarat.")
    serve_ask(
        page, answer_response(ANSWERED, [{**lead, "url": "https://example.com/"}], confidence=0.9)
    )
    ask(page, ANSWERED)
    expect(page.locator(".original")).to_have_attribute("href", "https://example.com/")
    page.locator(".cite.source").click()
    expect(page.locator("#panel mark")).to_be_in_viewport()
    page.reload()
    expect(page.locator(".bubble.answer")).to_have_count(1)
    assert requested and all(url.startswith(live.url + "/") for url in requested), requested
