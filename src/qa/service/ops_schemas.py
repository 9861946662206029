"""Pydantic models of the write, health and feed routes (the question routes' are in
`qa.service.schemas`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

from qa.corpus.documents import DOC_ID_PATTERN
from qa.service.schemas import ArticleMeta


class ArticleIn(BaseModel):
    """An article's new content (PUT /documents/{doc_id}): its `text`, or the `url` of a news
    page to fetch and extract."""

    model_config = ConfigDict(extra="forbid")

    title: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=300,
        description="One line; stored as a Markdown `# ` heading above the text (a .md file). "
        "Without it the title is the text's own `# ` heading or its first sentence. Only "
        "with `text`.",
    )
    text: StrictStr | None = Field(
        None,
        min_length=1,
        description="The article, plain text or Markdown; served back exactly as sent.",
    )
    url: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="An http(s) news page: fetched by the server, its article and metadata "
        "extracted (only public addresses unless QA_FETCH_ALLOW_PRIVATE).",
        examples=["https://news.example.com/2025/03/12/harbour-bridge-reopens"],
    )

    @model_validator(mode="after")
    def _text_or_url(self) -> ArticleIn:
        if (self.text is None) == (self.url is None):
            raise ValueError('give the article as "text" or as a "url" to fetch, not both')
        if self.url is not None and self.title is not None:
            raise ValueError('"title" goes with "text"; a page\'s headline is its title')
        return self

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        # Every line break str.splitlines knows (\v, \f, U+0085, U+2028, ...), not only \n.
        if value is not None and len(f"x{value}x".splitlines()) > 1:
            raise ValueError("title must be one line, without line breaks of any kind")
        return value


class NewArticle(ArticleIn):
    """An article to add (POST /documents)."""

    doc_id: StrictStr | None = Field(
        None,
        pattern=DOC_ID_PATTERN,
        description="1-128 letters, digits, '.', '_' or '-', not starting with '.'; default: "
        "a slug of the title or first line plus a hash of the text (of the page's canonical "
        "URL for a `url`).",
        examples=["tokyo-summit-2025"],
    )


class ArticleStored(ArticleMeta):
    """An article as stored and indexed."""

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


class FeedFailure(BaseModel):
    link: str
    reason: str


class FeedOut(BaseModel):
    """A followed feed (QA_FEEDS, `qa serve --feed`) and its last poll."""

    url: str
    last_poll: str | None = Field(description="When it was last polled (ISO 8601, UTC).")
    last_success: str | None = Field(description="When a poll last did not fail.")
    next_poll_in: float = Field(description="Seconds until the next poll (0: due now).")
    result: Literal["ok", "not_modified", "failed"] | None = Field(
        description="The last poll: read and its new articles stored (`ok`), unchanged since "
        "the poll before (`not_modified`, a 304), or not read (`failed`); null before the first."
    )
    added: int = Field(description="Articles the last poll stored.")
    present: int = Field(description="Links of the last poll already stored (not fetched).")
    failed: int = Field(description="Links of the last poll that could not be added.")
    error: str | None = Field(description="Why the last poll could not read the feed.")
    failures: list[FeedFailure] = Field(description="The links that failed and why (20 at most).")
    polls: int = Field(description="Polls since the server started.")
