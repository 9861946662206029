"""Pydantic models of the HTTP API (the only place pydantic is used for data)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from qa.answer.filters import ArticleFilter
from qa.answer.followup import MAX_TURNS, Turn
from qa.corpus.documents import DOC_ID_PATTERN, Document

if TYPE_CHECKING:
    from qa.answer.answerer import Answer

MAX_QUESTION_CHARS = 1000


def _question_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("question must not be blank")
    return value


Title = Annotated[
    str, Field(description="Headline: front matter, a `# ` heading, or the first sentence.")
]
Url = Annotated[str | None, Field(description="The original article's address, when known.")]
Published = Annotated[
    str | None, Field(description="Publication date or date-time (ISO 8601), when known.")
]
Source = Annotated[str | None, Field(description="The site or outlet, when known.")]
Author = Annotated[str | None, Field(description="Who wrote it, when known.")]


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class TurnIn(BaseModel):
    """A previous question of the conversation and the article its answer cited."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ..., strict=True, min_length=1, max_length=MAX_QUESTION_CHARS, description="As asked."
    )
    doc_id: StrictStr | None = Field(
        ...,
        description="The doc_id of `citations[0]` of its answer; null when it had no answer. "
        "An id the index does not have (an article deleted since) is ignored.",
    )

    _not_blank = field_validator("question")(_question_not_blank)


class AskRequest(BaseModel):
    """A question about the articles."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        ...,
        strict=True,
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description="The question in plain language (1-1000 characters, not blank).",
        examples=["Who is the Prime Minister of Japan?"],
    )
    top_k: int = Field(3, ge=1, le=20, strict=True, description="How many citations to return.")
    doc_ids: list[StrictStr] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="Answer only from these articles (see GET /documents); unknown ids are a 422.",
    )
    since: date | None = Field(
        None,
        description="Only articles published on or after this date (YYYY-MM-DD); articles "
        "without a known date are left out.",
        examples=["2025-03-01"],
    )
    until: date | None = Field(
        None,
        description="Only articles published on or before this date (YYYY-MM-DD); articles "
        "without a known date are left out.",
    )
    history: list[TurnIn] | None = Field(
        None,
        max_length=MAX_TURNS,
        description="The previous turns, oldest first (at most 5): a follow-up ('how much did "
        "it cost?', 'what about Japan?') is answered about their subject.",
    )

    _not_blank = field_validator("question")(_question_not_blank)

    def article_filter(self) -> ArticleFilter:
        """The articles this question may be answered from."""
        chosen = frozenset(self.doc_ids) if self.doc_ids is not None else None
        return ArticleFilter(chosen, self.since, self.until)

    def turns(self) -> list[Turn]:
        return [Turn(t.question, t.doc_id) for t in self.history or ()]

    @field_validator("since", "until", mode="before")
    @classmethod
    def _date_string(cls, value: object) -> object:
        # pydantic alone would also take "1746403200" (a Unix time) and date-times at midnight.
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
            raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r:.40}")
        return value

    @model_validator(mode="after")
    def _range(self) -> AskRequest:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        return self


class CitationOut(BaseModel):
    """A verbatim span of one article: `text == article.text[start:end]`."""

    doc_id: str
    title: str
    url: Url
    published: Published
    source: Source
    sentence_index: int = Field(description="Number of the cited sentence within its article.")
    start: int = Field(description="Character offset where the span starts in the article.")
    end: int = Field(description="Character offset where the span ends (exclusive).")
    text: str
    score: float = Field(
        description="The ranker's share of belief (0-1, summing to 1 over all candidates) "
        "that this sentence is the answer."
    )


class AnswerSpanOut(BaseModel):
    """The short answer inside the answer's sentence: `text == article.text[start:end]`."""

    start: int = Field(description="Character offset where the short answer starts in the article.")
    end: int = Field(description="Character offset where it ends (exclusive).")
    text: str


class AskResponse(BaseModel):
    """The answer (verbatim from one article) or `answer: null` when the articles do not say."""

    question: str
    answer: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[CitationOut]
    answer_span: AnswerSpanOut | None = Field(
        None,
        description="The short answer (a name, date, figure or phrase) inside `citations[0]`, "
        "with offsets into the article like a citation's; null when there is no answer, when "
        "the question wants a whole sentence (why, how, what happened) or when no short answer "
        "is likely right.",
    )
    took_ms: float
    interpreted_as: str | None = Field(
        None,
        description="Null when the question was answered as it stands; for a follow-up, what "
        "it was answered as: the standalone question ('How much did the library cost?') or "
        "the question and the terms carried over from the history ('how much did it cost? "
        "(about: Harbour Bridge repair)').",
    )

    @classmethod
    def of(cls, answer: Answer) -> AskResponse:
        """The response for `answer` (read by attribute: `dataclasses.asdict` would deep-copy)."""
        span = answer.answer_span
        return cls(
            question=answer.question,
            answer=answer.text,
            confidence=answer.confidence,  # already CONFIDENCE_DIGITS decimals
            citations=[
                CitationOut.model_validate(c, from_attributes=True) for c in answer.citations
            ],
            answer_span=AnswerSpanOut.model_validate(span, from_attributes=True) if span else None,
            took_ms=answer.took_ms,
            interpreted_as=answer.interpreted_as,
        )


class ArticleMeta(BaseModel):
    # The fields every article response starts with (no docstring: it would become each
    # subclass's OpenAPI description).
    doc_id: str
    title: Title
    url: Url
    published: Published
    source: Source
    author: Author


def article_meta(doc: Document) -> dict[str, str | None]:
    """The `ArticleMeta` fields of `doc`."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "url": doc.url,
        "published": doc.published,
        "source": doc.source,
        "author": doc.author,
    }


class DocumentSummary(ArticleMeta):
    sentences: int


class SentenceOut(BaseModel):
    index: int
    start: int
    end: int


class DocumentOut(ArticleMeta):
    text: str = Field(
        description="The article's body (without its front matter); offsets index it."
    )
    sentences: list[SentenceOut]


class Health(BaseModel):
    status: str
    documents: int
    sentences: int
    model: str
    index_built_at: str


class ErrorOut(BaseModel):
    """Every error response: a message a person can act on, plus details when useful."""

    error: str
    detail: object | None = None


# An answer is one sentence of an article: a vote's answer longer than this is not one.
MAX_ANSWER_CHARS = 2_000


class FeedbackRequest(BaseModel):
    """A person's 👍 / 👎 on one answer (or on an abstention: `answer` and `doc_id` null)."""

    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: StrictStr | None = Field(
        None, max_length=MAX_ANSWER_CHARS, description="The answer shown; null for 'no answer'."
    )
    doc_id: StrictStr | None = Field(
        None, pattern=DOC_ID_PATTERN, description="Article of the answer's citation."
    )
    sentence_index: StrictInt | None = Field(
        None, ge=0, description="The cited sentence's number within its article."
    )
    helpful: StrictBool

    _not_blank = field_validator("question")(_question_not_blank)

    @model_validator(mode="after")
    def _cited(self) -> FeedbackRequest:
        if (self.doc_id is None) != (self.sentence_index is None):
            raise ValueError("doc_id and sentence_index go together: give both or neither")
        if self.answer is not None and self.doc_id is None:
            raise ValueError("an answer needs the doc_id and sentence_index it cites")
        return self


class FeedbackOut(BaseModel):
    saved: bool


class WebConfig(BaseModel):
    """What the chat page needs to know to describe answers in words."""

    abstain_threshold: float = Field(
        description="Answers are withheld when their confidence (the number shown) is lower."
    )
    high_confidence: float = Field(
        description="Where the page's 'Likely answer' starts (0.8, or the threshold if higher): "
        "held-out answers shown with 0.8-0.9 are right about 4 times in 5."
    )
    max_question_chars: int
    history_turns: int = Field(MAX_TURNS, description="Earlier turns POST /ask reads.")
