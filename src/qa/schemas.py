"""Pydantic models of the HTTP API (the only place pydantic is used for data)."""

from __future__ import annotations

from typing import Literal

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

MAX_QUESTION_CHARS = 1000


def _question_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("question must not be blank")
    return value


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

    _not_blank = field_validator("question")(_question_not_blank)


class CitationOut(BaseModel):
    """A verbatim span of one article: `text == article.text[start:end]`."""

    doc_id: str
    title: str
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


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    sentences: int


class SentenceOut(BaseModel):
    index: int
    start: int
    end: int


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    text: str
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


MAX_ANSWER_CHARS = 10_000


class FeedbackRequest(BaseModel):
    """A person's 👍 / 👎 on one answer (or on an abstention: `answer` and `doc_id` null)."""

    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: StrictStr | None = Field(
        None, max_length=MAX_ANSWER_CHARS, description="The answer shown; null for 'no answer'."
    )
    doc_id: StrictStr | None = Field(
        None, pattern=r"^[A-Za-z0-9._-]{1,128}$", description="Article of the answer's citation."
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

    abstain_threshold: float = Field(description="Lower confidences are withheld: 'low'.")
    high_confidence: float = Field(description="From here on, confidence is called 'high'.")
    max_question_chars: int


# ------------------------------------------------------------------------- writes and ops

DOC_ID_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$"


class ArticleIn(BaseModel):
    """An article's new content (PUT /documents/{doc_id})."""

    model_config = ConfigDict(extra="forbid")

    title: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=300,
        description="One line; stored as a Markdown `# ` heading above the text (a .md file). "
        "Without it the title is the text's own `# ` heading or the doc_id.",
    )
    text: StrictStr = Field(
        ...,
        min_length=1,
        description="The article, plain text or Markdown; served back exactly as sent.",
    )


class NewArticle(ArticleIn):
    """An article to add (POST /documents)."""

    doc_id: StrictStr | None = Field(
        None,
        pattern=DOC_ID_PATTERN,
        description="1-128 letters, digits, '.', '_' or '-', not starting with '.'; default: "
        "a slug of the title or first line plus a hash of the text.",
        examples=["tokyo-summit-2025"],
    )


class ArticleStored(BaseModel):
    """An article as stored and indexed."""

    doc_id: str
    title: str
    sentences: int
    sha256: str = Field(description="sha256 of the article's file in the seeds folder.")
    change: Literal["created", "replaced", "unchanged"]


class Live(BaseModel):
    status: Literal["alive"]


class Ready(BaseModel):
    status: Literal["ready"]
    documents: int
    index_version: str | None = Field(description="The index folder being served.")
    index_loaded_at: str
