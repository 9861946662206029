"""Chunks: runs of consecutive sentences of one article, embedded and searched beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.corpus.documents import Document


@dataclass(frozen=True, slots=True)
class Chunking:
    """Chunks are `size` consecutive sentences of one article; neighbours share `overlap`."""

    size: int = 3
    overlap: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> Chunking:
        """The chunking `settings` ask for (`QA_CHUNK_SIZE`, `QA_CHUNK_OVERLAP`)."""
        return cls(settings.chunk_size, settings.chunk_overlap)

    def bounds(self, n: int) -> list[tuple[int, int]]:
        """[first, last) sentence numbers of each chunk of an article with `n` sentences."""
        stride = self.size - self.overlap
        out: list[tuple[int, int]] = []
        start = 0
        while start < n:
            end = min(start + self.size, n)
            out.append((start, end))
            if end == n:
                break
            start += stride
        return out

    def spans(self, doc: Document) -> list[tuple[int, int]]:
        """(start, end) character offsets of each chunk of `doc`."""
        return [
            (doc.sentences[a].start, doc.sentences[b - 1].end)
            for a, b in self.bounds(len(doc.sentences))
        ]
