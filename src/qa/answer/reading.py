"""The second stage of ranking: the reader reads the ranker's best few candidates.

The ranker orders every candidate by similarity and overlap; it cannot tell a sentence that
mentions the question's subject from one that answers it. The reader (`qa.answer.reader`) reads
the top `k` (each with the sentence before it) and gives each a relevance, its logit minus the
"none of these" logit. Those `k` are re-ordered by `relevance + ranker_weight x ranker logit`;
the others keep the ranker's order below them, scored as if the reader found them no better than
the worst one it read (they ranked below all of those, so nothing says otherwise).

What the confidence model reads of the reading (`READER_VALUES`): the best candidate's relevance,
its margin over the next read candidate, and the none logit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qa.answer.candidate import Candidate
    from qa.answer.reader import Reading
    from qa.index.model import Index

READER = "reader"
READER_MARGIN = "reader_margin"
READER_NONE = "reader_none"
READER_VALUES = (READER, READER_MARGIN, READER_NONE)
NO_RUNNER_UP = 10.0  # the margin when only one candidate was read (capped, as the ranker's)
DEFAULT_K = 4
DEFAULT_RANKER_WEIGHT = 0.0


class Reads(Protocol):
    """What reads candidates: `qa.answer.reader.Reader`, or a fake in tests."""

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading: ...


@dataclass(frozen=True)
class ReaderStage:
    """Reads the ranker's top `k` and re-orders them (see the module docstring)."""

    reader: Reads
    k: int = DEFAULT_K
    ranker_weight: float = DEFAULT_RANKER_WEIGHT

    def rerank(
        self, index: Index, question: str, candidates: list[Candidate]
    ) -> tuple[list[Candidate], dict[str, float]]:
        """`candidates` (ranker order) re-ordered by the reading, each read one carrying its
        reading, and the values the confidence model reads."""
        if not candidates:
            return candidates, {READER: -NO_RUNNER_UP, READER_MARGIN: 0.0, READER_NONE: 0.0}
        head, tail = candidates[: self.k], candidates[self.k :]
        reading = self.reader.read(question, [context(index, c.row) for c in head])
        read = [
            replace(c, score=r.relevance + self.ranker_weight * c.score, reading=r)
            for c, r in zip(head, reading.candidates, strict=True)
        ]
        floor = min(r.relevance for r in reading.candidates)
        rest = [replace(c, score=floor + self.ranker_weight * c.score) for c in tail]
        ordered = sorted(read, key=lambda c: (-c.score, c.row)) + rest
        best = ordered[0].reading
        assert best is not None
        others = [c.reading.relevance for c in ordered[1:] if c.reading is not None]
        margin = best.relevance - max(others) if others else NO_RUNNER_UP
        values = {
            READER: best.relevance,
            READER_MARGIN: min(margin, NO_RUNNER_UP),
            READER_NONE: reading.none,
        }
        return ordered, values


def context(index: Index, row: int) -> tuple[str, str]:
    """The sentence at `row` and the one before it in its article ("" for the first)."""
    doc, span, local = index.span(row)
    previous = doc.sentences[local - 1] if local > 0 else None
    before = doc.text[previous.start : previous.end] if previous is not None else ""
    return before, doc.text[span.start : span.end]
