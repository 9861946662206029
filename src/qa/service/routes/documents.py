"""GET /documents and /documents/{doc_id}: the indexed articles, and one article's text."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, HTTPException

from qa.corpus.documents import Document
from qa.service.auth import Reader
from qa.service.deps import EngineDep
from qa.service.routes.responses import ERRORS, READ_ERRORS
from qa.service.schemas import DocumentOut, DocumentSummary, SentenceOut, article_meta

router = APIRouter()


@router.get(
    "/documents",
    response_model=list[DocumentSummary],
    responses=READ_ERRORS,
    dependencies=[Reader],
)
def documents(engine: EngineDep) -> list[DocumentSummary]:
    """Every indexed article, newest first (unknown dates last, then by title)."""
    return [
        DocumentSummary(**article_meta(d), sentences=len(d.sentences))
        for d in newest_first(engine.index.documents)
    ]


@router.get(
    "/documents/{doc_id}",
    response_model=DocumentOut,
    responses={**ERRORS, **READ_ERRORS},
    dependencies=[Reader],
)
def document(doc_id: str, engine: EngineDep) -> DocumentOut:
    """One article's full text and the offsets of its sentences."""
    index = engine.index
    pos = index.doc_pos.get(doc_id)
    if pos is None:
        raise HTTPException(404, f"no article with doc_id {doc_id!r}; see GET /documents")
    doc = index.documents[pos]
    return DocumentOut(
        **article_meta(doc),
        text=doc.text,
        sentences=[
            SentenceOut(index=i, start=s.start, end=s.end) for i, s in enumerate(doc.sentences)
        ],
    )


def newest_first(documents: Iterable[Document]) -> list[Document]:
    """Articles by publication date, newest first; those without a date last; ties by title."""
    by_title = sorted(documents, key=lambda d: (d.title.casefold(), d.doc_id))
    # A stable sort keeps the title order within a date; "" (unknown) sorts last in reverse.
    return sorted(by_title, key=lambda d: d.published or "", reverse=True)
