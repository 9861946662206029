"""How an answer reads: confidence in words, the short answer marked, recognisable sources.

The /ask responses here are built in the contract the page renders (answer_span, the news fields
of a citation) from the served articles' own offsets, and handed to the page with page.route, so
each wording and each mark is checked on a known input.
"""

from __future__ import annotations

import json
from typing import Any

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


@pytest.mark.parametrize(
    ("confidence", "kind", "words"),
    [
        (0.84, "likely", "Likely answer (84\u00a0%)"),
        (0.5, "likely", "Likely answer (50\u00a0%)"),
        (0.45, "possible", "Possible answer (45\u00a0%) — check the source"),
    ],
)
def test_confidence_is_said_in_words_with_the_percentage_visible(
    page: Page, live: Live, confidence: float, kind: str, words: str
) -> None:
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


def test_the_source_card_shows_headline_outlet_date_and_a_link(page: Page, live: Live) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS, **NEWS)
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(page, ANSWERED)
    card = page.locator(".source-card.lead")
    expect(card.locator(".cite-title")).to_have_text("Chip makers expand")
    expect(card.locator(".cite-byline")).to_have_text("Example Times, 12 Mar 2025")
    link = card.get_by_role("link", name="Original on example.com (opens in a new tab)")
    expect(link).to_have_attribute("href", NEWS["url"])
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # Internal ids only in the details line, folded away until asked for.
    ids = f"doc_id chips · sentence_index {lead['sentence_index']}"
    expect(card.get_by_text(ids)).to_be_hidden()
    card.get_by_text("Details").click()
    expect(card.get_by_text(ids)).to_be_visible()
    assert "chips" not in (card.locator(".cite").text_content() or "")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "not a url", None])
def test_a_source_without_a_web_address_gets_no_link(
    page: Page, live: Live, url: str | None
) -> None:
    open_page(page, live)
    lead = cite(page, live, "chips", CHIPS, url=url, published=None, source=None)
    serve_ask(page, answer_response(ANSWERED, [lead], confidence=0.9))
    ask(page, ANSWERED)
    card = page.locator(".source-card.lead")
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
