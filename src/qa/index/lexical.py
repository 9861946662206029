"""Lexical retrieval: BM25 over sentences (bm25s) and IDF-weighted coverage of question terms.

Dense vectors miss rare exact words (names, figures, acronyms); BM25 does not. Both scores
here are made comparable across questions, so they can also say "nothing here answers":
BM25 is divided by the best score the question could reach, and coverage is the IDF-weighted
share of the question's terms that a sentence contains (a term no article uses counts fully
against every sentence, which is what a question about something never stated looks like).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

BM25_DIR = "bm25"
K1 = 1.5


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


# bm25s's (and scikit-learn's) word pattern.
_WORDS = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed word tokens for each text.

    The same tokens as `bm25s.tokenize(texts, stopwords="en", stemmer=..., return_ids=False)`
    (its pattern, stop words and stemmer; a test holds them equal), without its progress bars
    and vocabulary bookkeeping, which cost more than the tokens of one question (0.1 ms).
    """
    stop, stem = _stopwords(), _stemmer().stemWords
    return [stem([w for w in _WORDS.findall(text.lower()) if w not in stop]) for text in texts]


class Lexical:
    """BM25 scores and term statistics for one list of texts (the index's sentences)."""

    def __init__(self, bm25: Any, doc_freq: dict[str, int], num_docs: int) -> None:
        self._bm25 = bm25
        self.doc_freq = doc_freq
        self.num_docs = num_docs

    @classmethod
    def build(cls, texts: Sequence[str]) -> Lexical:
        import bm25s

        tokens = tokenize(texts)
        bm25 = bm25s.BM25(k1=K1)
        doc_freq: dict[str, int] = {}
        for toks in tokens:
            for tok in set(toks):
                doc_freq[tok] = doc_freq.get(tok, 0) + 1
        if texts:
            bm25.index(tokens, show_progress=False)
        return cls(bm25, doc_freq, len(texts))

    def idf(self, token: str) -> float:
        """BM25's IDF; a term no text contains gets the largest possible value."""
        df = self.doc_freq.get(token, 0)
        return math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5))

    def scores(self, tokens: list[str]) -> NDArray[np.float32]:
        """BM25 of every text for the question tokens, divided by the best reachable score."""
        distinct = sorted(set(tokens))
        known = [t for t in distinct if t in self.doc_freq]
        if not known or self.num_docs == 0:
            return np.zeros(self.num_docs, dtype=np.float32)
        raw = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        # A term found once in a sentence of average length scores about its IDF, so the sum of
        # the question's IDFs (unknown terms included) is what a full match reaches.
        ceiling = sum(self.idf(t) for t in distinct)
        return raw / max(ceiling, 1e-6)

    def coverage(self, tokens: list[str], text_tokens: frozenset[str]) -> float:
        """IDF-weighted share of the question's distinct terms found in `text_tokens`."""
        return self.coverage_of(tokens)(text_tokens)

    def coverage_of(self, tokens: list[str]) -> Callable[[frozenset[str]], float]:
        """`coverage` for one question, its term weights computed once (a question is scored
        against dozens of sentences and windows)."""
        weights = {t: self.idf(t) for t in sorted(set(tokens))}
        total = sum(weights.values())

        def cover(text_tokens: frozenset[str]) -> float:
            if total <= 0:
                return 0.0
            return sum(w for t, w in weights.items() if t in text_tokens) / total

        return cover

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.num_docs:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "doc_freq.json").write_text(
            json.dumps({"num_docs": self.num_docs, "doc_freq": self.doc_freq}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        import bm25s

        meta = json.loads((folder / "doc_freq.json").read_text(encoding="utf-8"))
        bm25 = (
            bm25s.BM25.load(str(folder), show_progress=False)
            if meta["num_docs"]
            else bm25s.BM25(k1=K1)
        )
        return cls(bm25, meta["doc_freq"], meta["num_docs"])
