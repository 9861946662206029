"""Pydantic models of the HTTP API (the only place pydantic is used for data)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 1000


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

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question must not be blank")
        return value


class CitationOut(BaseModel):
    """A verbatim span of one article: `text == article.text[start:end]`."""

    doc_id: str
    title: str
    sentence_index: int = Field(description="Number of the cited sentence within its article.")
    start: int = Field(description="Character offset where the span starts in the article.")
    end: int = Field(description="Character offset where the span ends (exclusive).")
    text: str
    score: float = Field(description="Estimated probability that this sentence answers.")


class AskResponse(BaseModel):
    """The answer (verbatim from one article) or `answer: null` when the articles do not say."""

    question: str
    answer: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[CitationOut]
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
