"""Writes: what storing or deleting articles does to the seeds folder, and the index rebuilt
from it.

`Engine.write` and `Engine.remove` run these steps in this order, all under one lock shared by
every process on the index folder: the article file is made durable in the seeds folder first
(`store`, `delete`), then a new index is built incrementally (only changed articles are embedded)
and published (`rebuild`), then the engine serves it, and only then does the call return. A
crash at any point leaves the seeds folder as the truth, and the next start-up
(`qa.engine.startup.prepare_index`) brings the index back in line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from qa.core.errors import QAError
from qa.corpus.seeds import ArticleFile, read_seeds, remove_seeds, seed_files, write_seed
from qa.embed.model import Embedder
from qa.engine.startup import current_version
from qa.index.build import build, embed_articles
from qa.index.chunking import Chunking
from qa.index.embed_corpus import Reusable
from qa.index.model import Index
from qa.index.storage import publish
from qa.index.stores.registry import configured

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.corpus.documents import Document


class DocIdTaken(QAError, ValueError):
    """POST of an article whose doc_id already exists."""


class IndexUpdateFailed(QAError, RuntimeError):
    """The seeds folder was changed but the index could not be rebuilt from it."""


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What a write did to one article."""

    doc_id: str
    change: Literal["created", "replaced", "unchanged", "removed", "missing"]
    document: Document | None = None


def embed(
    articles: Sequence[ArticleFile], embedder: Embedder, settings: Settings, index: Index
) -> Reusable:
    """The vectors of `articles` that `index` does not already hold."""
    return embed_articles(
        [a.document for a in articles],
        embedder,
        Chunking.from_settings(settings),
        index,
        settings.batch_size,
    )


def refuse_taken(seeds_dir: Path, articles: Sequence[ArticleFile], index: Index) -> None:
    """DocIdTaken when an article's doc_id is in the seeds folder or the index already."""
    for article in articles:
        if seed_files(seeds_dir, article.doc_id) or article.doc_id in index.doc_pos:
            raise DocIdTaken(
                f"doc_id {article.doc_id!r} already exists; "
                f"PUT /documents/{article.doc_id} replaces it"
            )


def store(seeds_dir: Path, articles: Sequence[ArticleFile]) -> list[WriteOutcome]:
    """Write each article's file durably into the seeds folder (unless it holds those bytes)."""
    outcomes = []
    for article in articles:
        existing = seed_files(seeds_dir, article.doc_id)
        if len(existing) == 1 and _same_bytes(existing[0], article.data):
            change: Literal["created", "replaced", "unchanged"] = "unchanged"
        else:
            write_seed(seeds_dir, article)
            change = "replaced" if existing else "created"
        outcomes.append(WriteOutcome(article.doc_id, change, article.document))
    return outcomes


def delete(seeds_dir: Path, doc_ids: Sequence[str], index: Index) -> list[WriteOutcome]:
    """Delete the articles' files durably from the seeds folder."""
    outcomes = []
    for doc_id in doc_ids:
        files = seed_files(seeds_dir, doc_id)
        known = bool(files) or doc_id in index.doc_pos
        remove_seeds(seeds_dir, files)
        outcomes.append(WriteOutcome(doc_id, "removed" if known else "missing"))
    return outcomes


def rebuild(
    settings: Settings,
    embedder: Embedder,
    current: Index,
    version: str | None,
    known: Mapping[str, Document],
    fresh: Reusable | None = None,
) -> tuple[Index, str] | None:
    """A new index built from the seeds folder and published, with its version; None when
    `current` (published as `version`) already matches the seeds folder.

    `known` documents and those of `current` are reused when their file is unchanged, `fresh`
    vectors (see `embed`) as well. Raises IndexUpdateFailed when it cannot build or publish.
    """
    reusable = {d.doc_id: d for d in current.documents} | dict(known)
    corpus = read_seeds(settings.seeds_dir, reusable)
    if corpus.sources == current.manifest.sources and version == (
        current_version(settings.index_dir)
    ):
        return None
    try:
        index = build(
            corpus.documents,
            embedder,
            Chunking.from_settings(settings),
            previous=current,
            sources=corpus.sources,
            skipped=corpus.problems,
            batch_size=settings.batch_size,
            store=configured(settings),
            fresh=fresh,
        )
        published = publish(index, settings.index_dir)
    except Exception as err:
        raise IndexUpdateFailed(
            f"the seeds folder was updated but the index could not be ({err}); the change "
            "is kept and will be indexed by the next write or start-up"
        ) from err
    return index, published.name


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
