"""Which articles a question may be answered from: chosen ids and a publication-date range.

A filter becomes a mask over the index's sentence rows, and the retriever draws candidates only
from those rows, so it applies before ranking (not by dropping ranked answers afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from qa.core.errors import QAError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.index.model import Index


class UnknownArticles(QAError, ValueError):
    """A filter names doc_ids the index does not have."""


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Only these `doc_ids` (None: any), published from `since` through `until` (inclusive).

    With a date bound, an article whose publication date is unknown is left out.
    """

    doc_ids: frozenset[str] | None = None
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return self.doc_ids is not None or self.since is not None or self.until is not None

    def matches(self, doc_id: str, day: date | None) -> bool:
        """Whether the article `doc_id`, published on `day` (`Index.published_days`), is kept."""
        if self.doc_ids is not None and doc_id not in self.doc_ids:
            return False
        if self.since is None and self.until is None:
            return True
        if day is None:
            return False
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


def allowed_rows(index: Index, where: ArticleFilter) -> NDArray[np.bool_]:
    """A mask over the index's sentence rows: True where the sentence's article matches.

    Raises UnknownArticles when `where.doc_ids` names an article the index does not have.
    """
    if where.doc_ids is not None:
        unknown = sorted(where.doc_ids - index.doc_pos.keys())
        if unknown:
            shown = ", ".join(repr(d) for d in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise UnknownArticles(f"unknown doc_ids {shown}{more}; see GET /documents")
    days = index.published_days
    if where.doc_ids is not None:  # look only at the chosen articles, not the whole corpus
        keep = np.zeros(len(index.documents), dtype=bool)
        for doc_id in where.doc_ids:
            pos = index.doc_pos[doc_id]
            keep[pos] = where.matches(doc_id, days[pos])
    else:
        keep = np.fromiter(
            (where.matches(d.doc_id, day) for d, day in zip(index.documents, days, strict=True)),
            dtype=bool,
            count=len(index.documents),
        )
    return keep[index.sentence_doc] if len(keep) else np.zeros(0, dtype=bool)
