"""How an answer reads: confidence in words, the short answer marked, recognisable sources.

The /ask responses here are built in the contract the page renders (answer_span, the news fields
of a citation) from the served articles' own offsets, and handed to the page with page.route, so
each wording and each mark is checked on a known input.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import (
    ANSWERED,
    CHIPS,
    XSS_ARTICLE,
    XSS_DOC_ID,
    Live,
    answer_response,
    ask,
    cite,
    open_page,
    serve_ask,
)

pytestmark = pytest.mark.browser

NEWS = {
    "url": "https://example.com/news/chips-gujarat",
    "published": "2025-03-12T08:30:00+05:30",
    "source": "Example Times",
}


# The test server's threshold is 0.5 and its high_confidence 0.8 (GET /config).
@pytest.mark.parametrize(
    ("confidence", "kind", "words"),
    [
        (0.84, "likely", "Likely answer (84\u00a0%)"),
        (0.8, "likely", "Likely answer (80\u00a0%)"),
        (0.79, "possible", "Possible answer (79\u00a0%) — check the source"),
        (0.5, "possible", "Possible answer (50\u00a0%) — check the source"),
    ],
)
def test_likely_starts_at_the_servers_high_confidence_and_possible_at_its_threshold(
    page: Page, live: Live, confidence: float, kind: str, words: str
) -> None:
    config = page.request.get(f"{live.url}/config").json()
    assert (config["abstain_threshold"], config["high_confidence"]) == (0.5, 0.8)
    open_page(page, live)
    serve_ask(
        page, answer_response(ANSWERED, [cite(page, live, "chips", CHIPS)], confidence=confidence)
    )
    ask(page, ANSWERED)
    verdict = page.locator(".bubble.answer .verdict")
    expect(verdict).to_have_text(words)
    expect(verdict).to_have_class(f"verdict {kind}")
    expect(verdict).to_be_visible()
    expect(page.locator(".bubble.answer")).not_to_contain_text("medium")


def test_likely_follows_high_confidence_from_config(page: Page, live: Live) -> None:
    def config(route: Route) -> None:
        body = route.fetch().json()
        route.fulfill(json={**body, "abstain_threshold": 0.1, "high_confidence": 0.9})

    page.route("**/config", config)
    open_page(page, live)
    serve_ask(page, answer_response(ANSWERED, [cite(page, live, "chips", CHIPS)], confidence=0.85))
    ask(page, ANSWERED)
    expect(page.locator(".bubble.answer .verdict")).to_have_text(
        "Possible answer (85\u00a0%) — check the source"
    )


def test_an_answer_below_the_threshold_is_never_shown(page: Page, live: Live) -> None:
    # A response that carries an answer with a confidence under /config's threshold (an older
    # or misconfigured server): the page words it as the abstention it is.
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS)
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.4999))
    ask(page, ANSWERED)
    bubble = page.locator(".bubble.abstained")
    expect(bubble.locator(".verdict")).to_have_text("The articles don't say (best match 49\u00a0%)")
    expect(page.locator(".bubble.answer")).to_have_count(0)
    expect(bubble.locator(".answer-text")).to_have_count(0)
    expect(bubble.get_by_role("button", name=re.compile("^Copy"))).to_have_count(0)
    expect(bubble.locator(".not-answer-tag")).to_have_text("Not an answer")


@pytest.mark.parametrize("side", ["at", "just below"])
def test_server_and_page_agree_at_the_threshold(live: Live, page: Page, side: str) -> None:
    """The real server, its threshold set to the confidence of a real answer: at it, the answer
    is given and shown; a hair above it, the server withholds it and the page says so."""
    engine = live.engine
    assert engine is not None
    confidence = engine.ask(ANSWERED).confidence
    threshold = confidence if side == "at" else float(np.nextafter(confidence, 1.0))
    before = engine.abstain_threshold
    engine.abstain_threshold = engine.state.answerer.abstain_threshold = threshold
    try:
        config = page.request.get(f"{live.url}/config").json()
        assert config["abstain_threshold"] == threshold
        open_page(page, live)
        body = ask(page, ANSWERED)
        assert body["confidence"] == confidence
        pct = f"{int(confidence * 100)}\u00a0%"
        if side == "at":
            assert body["answer"] is not None
            expect(page.locator(".bubble.answer .verdict")).to_contain_text(f"({pct})")
            expect(page.locator(".bubble.answer .answer-text")).to_have_text(body["answer"])
        else:
            assert body["answer"] is None
            expect(page.locator(".bubble.abstained .verdict")).to_have_text(
                f"The articles don't say (best match {pct})"
            )
    finally:
        engine.abstain_threshold = engine.state.answerer.abstain_threshold = before


def test_an_abstention_says_the_articles_dont_say_with_the_closest_sentences(
    page: Page, live: Live
) -> None:
    open_page(page, live)
    near = cite(page, live, "chips", CHIPS)
    serve_ask(
        page, {**answer_response("Capital of France?", [near], confidence=0.12), "answer": None}
    )
    ask(page, "Capital of France?")
    bubble = page.locator(".bubble.abstained")
    expect(bubble.locator(".verdict")).to_have_text("The articles don't say (best match 12\u00a0%)")
    expect(bubble).to_contain_text("Closest sentences — not an answer")
    expect(bubble.locator(".cite-text")).to_have_text(CHIPS)
    expect(bubble.locator(".not-answer-tag")).to_have_text("Not an answer")


def test_the_short_answer_is_marked_inside_the_quoted_sentence(page: Page, live: Live) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS)
    start = lead["start"] + CHIPS.index("Gujarat")
    span = {"start": start, "end": start + len("Gujarat"), "text": "Gujarat"}
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9, answer_span=span))
    ask(page, ANSWERED)
    quote = page.locator(".bubble.answer .answer-text")
    expect(quote).to_have_text(CHIPS)  # the whole sentence stays, for context
    expect(quote.locator("mark")).to_have_count(1)
    expect(quote.locator("mark")).to_have_text(span["text"])


def test_the_mark_counts_code_points_like_the_server(page: Page, live: Live) -> None:
    # An emoji (two UTF-16 units, one code point) inside the sentence, before the short answer:
    # offsets taken as UTF-16 units would mark "he dozen." instead.
    sentence = "Readers wrote in 😀 by the dozen."
    open_page(page, live)
    lead = cite(page, live, XSS_DOC_ID, sentence)
    start = XSS_ARTICLE.index("the dozen")
    span = {"start": start, "end": start + len("the dozen"), "text": "the dozen"}
    serve_ask(page, answer_response("Who wrote in?", [lead], confidence=0.9, answer_span=span))
    ask(page, "Who wrote in?")
    expect(page.locator(".answer-text mark")).to_have_text("the dozen")


@pytest.mark.parametrize(
    "span",
    [None, {"start": 0, "end": 3, "text": "Sem"}, {"start": 10**6, "end": 10**6 + 1, "text": "x"}],
    ids=["absent", "outside-the-sentence", "beyond-the-article"],
)
def test_a_missing_or_inconsistent_span_shows_the_sentence_unmarked(
    page: Page, live: Live, span: dict[str, Any] | None
) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS)
    body = answer_response(ANSWERED, [lead], confidence=0.9, answer_span=span)
    if span is None:
        del body["answer_span"]
    serve_ask(page, body)
    ask(page, ANSWERED)
    expect(page.locator(".answer-text")).to_have_text(CHIPS)
    expect(page.locator(".answer-text mark")).to_have_count(0)


def test_the_card_reads_short_answer_quote_then_one_source_line(page: Page, live: Live) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS, **NEWS)
    start = lead["start"] + CHIPS.index("Gujarat")
    span = {"start": start, "end": start + len("Gujarat"), "text": "Gujarat"}
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9, answer_span=span))
    ask(page, ANSWERED)
    card = page.locator(".bubble.answer")
    short = card.locator(".short-answer-lead")
    expect(short).to_have_text("Gujarat")
    quote = card.locator(".answer-text")
    expect(quote.locator("mark")).to_have_text("Gujarat")
    source = card.locator(".source-line .cite.source")
    expect(source).to_have_text("Source: Chip makers expand · Example Times · 12 Mar 2025")
    expect(source).to_have_accessible_name(
        "Source: Chip makers expand · Example Times · 12 Mar 2025; show it in the article"
    )
    # In reading order and on screen in that order: verdict, short answer (larger than the
    # quote), quote, source line, then Copy and the vote.
    parts = [".verdict", ".short-answer-lead", ".answer-text", ".source-line", ".actions"]
    tops = [card.locator(p).bounding_box()["y"] for p in parts]  # type: ignore[index]
    assert tops == sorted(tops), tops
    size = "e => parseFloat(getComputedStyle(e).fontSize)"
    assert short.evaluate(size) >= 1.3 * quote.evaluate(size)
    link = card.get_by_role("link", name="Original on example.com (opens in a new tab)")
    expect(link).to_have_attribute("href", NEWS["url"])
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # Internal ids only in the details line, folded away until asked for.
    ids = f"doc_id chips · sentence_index {lead['sentence_index']}"
    expect(card.get_by_text(ids)).to_be_hidden()
    card.get_by_text("Details").click()
    expect(card.get_by_text(ids)).to_be_visible()
    assert "chips" not in (source.text_content() or "")


@pytest.mark.parametrize(
    ("news", "line"),
    [
        ({"source": None}, "Chip makers expand · 12 Mar 2025"),
        ({"published": None}, "Chip makers expand · Example Times"),
        ({"source": " ", "published": "not a date"}, "Chip makers expand"),
    ],
    ids=["no-outlet", "no-date", "neither"],
)
def test_the_source_line_leaves_out_what_is_unknown(
    page: Page, live: Live, news: dict[str, Any], line: str
) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS, **{**NEWS, **news})
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(page, ANSWERED)
    expect(page.locator(".source-line .cite.source")).to_have_text(f"Source: {line}")


def test_also_related_is_grouped_by_article_behind_a_disclosure(page: Page, live: Live) -> None:
    open_page(page, live)
    worth = "The investment is worth 10 billion dollars."
    met = "The two leaders met in Tokyo on Friday."
    citations = [
        cite(page, live, "chips", CHIPS, **NEWS),
        cite(page, live, "quad", met, source="Quad Daily"),
        cite(page, live, "chips", worth, **NEWS),
    ]
    serve_ask(page, answer_response(ANSWERED, citations, confidence=0.9))
    ask(page, ANSWERED)
    related = page.locator(".bubble.answer details.related")
    summary = related.locator("summary")
    expect(summary).to_have_text("Also related: 2 sentences from 2 articles")
    expect(page.get_by_text(worth)).to_be_hidden()
    summary.click()
    groups = related.locator(".related-article")  # in the order of their best sentence
    expect(groups.locator(".related-title")).to_have_text(
        [
            f"{citations[1]['title']} · Quad Daily",
            "Chip makers expand · Example Times · 12 Mar 2025",
        ]
    )
    expect(groups.nth(1).locator(".cite")).to_have_count(1)
    # Each button says its sentence, not only where it is from.
    button = related.get_by_role("button", name=re.compile(re.escape(worth)))
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#panel mark")).to_have_text(worth)


def test_a_who_question_without_a_span_leaves_the_quote_unmarked(page: Page, live: Live) -> None:
    # The server gives no answer_span when its short answer is not the kind asked for (a date
    # for a who-question); the page shows the quote as it is and never finds a span itself.
    open_page(page, live)
    met = "The two leaders met in Tokyo on Friday."
    serve_ask(
        page,
        answer_response(
            "Who met on Friday?", [cite(page, live, "quad", met)], confidence=0.9, answer_span=None
        ),
    )
    ask(page, "Who met on Friday?")
    expect(page.locator(".answer-text")).to_have_text(met)
    expect(page.locator(".answer-text mark")).to_have_count(0)
    expect(page.locator(".short-answer-lead")).to_have_count(0)


def test_the_question_as_the_server_read_it_is_shown(page: Page, live: Live) -> None:
    open_page(page, live)
    lead = cite(page, live, "quad", "The two leaders met in Tokyo on Friday.")
    serve_ask(
        page,
        answer_response(
            "and when?",
            [lead],
            confidence=0.9,
            interpreted_as="When did the two leaders meet in Tokyo?",
        ),
    )
    ask(page, "and when?")
    expect(page.locator(".bubble.answer .interpreted")).to_have_text(
        "Answered as: When did the two leaders meet in Tokyo?"
    )
    serve_ask(page, answer_response("Where?", [lead], confidence=0.9, interpreted_as=None))
    ask(page, "Where?")
    expect(page.locator(".bubble.answer .interpreted")).to_have_count(1)


@pytest.mark.parametrize("turns", [0, 5])
def test_history_is_sent_only_to_a_server_that_reads_it(page: Page, live: Live, turns: int) -> None:
    def config(route: Route) -> None:
        body = route.fetch().json()
        route.fulfill(json={**body, "history_turns": turns})

    page.route("**/config", config)
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/ask") else None)
    open_page(page, live)
    lead = cite(page, live, "quad", "The two leaders met in Tokyo on Friday.")
    serve_ask(page, answer_response("Where did the leaders meet?", [lead], confidence=0.9))
    ask(page, "Where did the leaders meet?")
    page.unroute("**/ask")
    serve_ask(page, {**answer_response("Who?", [lead], confidence=0.1), "answer": None})
    ask(page, "Who?")
    ask(page, "and when did that happen?")
    if turns:
        assert sent[0] == {"question": "Where did the leaders meet?"}
        assert sent[2]["history"] == [
            {"question": "Where did the leaders meet?", "doc_id": "quad"},
            {"question": "Who?", "doc_id": None},
        ]
    else:
        assert all("history" not in body for body in sent), sent


def test_a_follow_up_goes_to_the_server_with_the_chat_and_says_how_it_was_read(
    page: Page, live: Live
) -> None:
    # No mock: the real /config says the server reads 5 turns, the real /ask resolves them.
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/ask") else None)
    open_page(page, live)
    first = ask(page, "Where did the two leaders meet?")
    second = ask(page, "and when?")
    lead = first["citations"][0]["doc_id"] if first.get("answer") else None
    assert sent[1]["history"] == [{"question": "Where did the two leaders meet?", "doc_id": lead}]
    assert second["interpreted_as"] == "and when? (about: two leaders meet)"
    how = "Answered as" if second["answer"] else "Searched as"  # this fake corpus abstains
    expect(page.locator(".bubble.bot .interpreted").last).to_have_text(
        f"{how}: and when? (about: two leaders meet)"
    )


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "not a url", None])
def test_a_source_without_a_web_address_gets_no_link(
    page: Page, live: Live, url: str | None
) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS, url=url, published=None, source=None)
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(page, ANSWERED)
    card = page.locator(".source-line")
    expect(card.locator(".cite-title")).to_have_text("Chip makers expand")
    expect(card.locator("a")).to_have_count(0)
    expect(card.locator(".cite-byline")).to_have_count(0)


def _with_news(route: Route) -> None:
    """GET /documents and /documents/{id} as they will be: the news fields, newest first."""
    response = route.fetch()
    body = response.json()
    news = {**NEWS, "title": "Chips: factories for Gujarat", "author": "A. Writer"}
    if isinstance(body, list):
        body = [{**d, **news} if d["doc_id"] == "chips" else d for d in body]
    elif body.get("doc_id") == "chips":
        body = {**body, **news}
    route.fulfill(response=response, body=json.dumps(body))


def test_the_article_list_and_article_show_outlet_date_and_link(page: Page, live: Live) -> None:
    page.route("**/documents**", _with_news)
    open_page(page, live)
    link = page.locator(".doc-link", has_text="Chips: factories for Gujarat")
    expect(link.locator(".doc-meta")).to_have_text("Example Times, 12 Mar 2025")
    link.click()
    meta = page.locator(".article-meta")
    expect(meta).to_contain_text("By A. Writer · Example Times, 12 Mar 2025")
    original = meta.get_by_role("link", name="Read the original (opens in a new tab)")
    expect(original).to_have_attribute("href", NEWS["url"])
    expect(original).to_have_attribute("rel", "noopener noreferrer")


def test_a_slow_config_neither_repeats_turns_nor_leaves_old_verdicts(
    page: Page, live: Live
) -> None:
    held: list[Route] = []
    page.route("**/config", lambda route: held.append(route))
    open_page(page, live)
    serve_ask(page, answer_response(ANSWERED, [cite(page, live, "chips", CHIPS)], confidence=0.62))
    question = page.get_by_label("Your question")
    question.fill(ANSWERED)
    with page.expect_response("**/ask"):
        question.press("Enter")
    assert len(held) == 1
    body = held[0].fetch().json()
    held[0].fulfill(json={**body, "high_confidence": 0.6})
    expect(page.locator(".bubble.answer .verdict")).to_have_text("Likely answer (62\u00a0%)")
    expect(page.locator(".bubble.user")).to_have_count(1)
    # A reload draws the stored answer at once, then again with the server's levels.
    held.clear()
    page.reload()
    expect(page.locator(".bubble.answer .verdict")).to_have_text(
        "Possible answer (62\u00a0%) — check the source"  # the page's default level, 0.8
    )
    held[0].fulfill(json={**body, "high_confidence": 0.6})
    expect(page.locator(".bubble.answer .verdict")).to_have_text("Likely answer (62\u00a0%)")
    expect(page.locator(".bubble.user")).to_have_count(1)
