"""Pick the answering sentence, cite it to the character, or abstain."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.answer.candidate import Candidate
from qa.answer.retrieval import Retriever
from qa.index.model import Index

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from qa.answer.reader import ReadCandidate

# A sentence opening with one of these leans on the sentence before it ("They have held regular
# meetings since then."), so the answer carries that sentence too.
_ANAPHORIC = re.compile(
    r"^[\"“‘']?(they|them|their|it|its|this|these|those|he|she|such)\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Citation:
    """A verbatim span of one article: `article.text[start:end] == text`."""

    doc_id: str
    title: str
    sentence_index: int
    start: int
    end: int
    text: str
    score: float
    url: str | None = None
    published: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerSpan:
    """The short answer inside the answer's sentence: `article.text[start:end] == text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """An extractive answer, or `text is None` when the articles do not answer the question."""

    question: str
    text: str | None
    confidence: float
    citations: list[Citation]
    took_ms: float
    answer_span: AnswerSpan | None = None  # inside citations[0]; only with an answer
    interpreted_as: str | None = None  # what a follow-up was answered as (qa.answer.followup)


# The confidence is given to this many decimals (POST /ask), and the value given is the value
# that decides: a threshold with more digits than that must not pass an answer whose shown
# confidence lies below it.
CONFIDENCE_DIGITS = 4
DEFAULT_SPAN_THRESHOLD = -1.0  # log-probability of the reader's span (about 37 %)


def reader_span(
    question: str, sentence: str, reading: ReadCandidate, threshold: float
) -> tuple[int, int] | None:
    """The reader's short answer in `sentence`, given only when it is the kind of thing the
    question asks for (a who-question marks a name, a when-question a date, ...), adds
    something the question does not already say, and the reader is sure enough of it."""
    from qa.answer.cues import answer_type, is_answer_of_kind, question_words

    if reading.span_score < threshold or reading.end <= reading.start:
        return None
    text = sentence[reading.start : reading.end]
    words = question_words(question)
    if not is_answer_of_kind(answer_type(question), text, words):
        return None
    if set(re.findall(r"[\w’'-]+", text.lower())) <= words:
        return None  # only repeats the question
    if len(text) > 0.8 * len(sentence.strip()):
        return None  # the whole sentence is no short answer
    return reading.start, reading.end


def needs_context(sentence: str) -> bool:
    """True when a sentence cannot stand alone and should be read with the one before it."""
    return bool(_ANAPHORIC.match(sentence.strip()))


class Answerer:
    """Turns retrieved candidates into an `Answer` with citations."""

    def __init__(
        self,
        index: Index,
        retriever: Retriever,
        abstain_threshold: float = 0.5,
        span_threshold: float = DEFAULT_SPAN_THRESHOLD,
    ) -> None:
        self.index = index
        self.retriever = retriever
        self.abstain_threshold = abstain_threshold
        self.span_threshold = span_threshold

    def ask(
        self, question: str, top_k: int = 3, allowed: NDArray[np.bool_] | None = None
    ) -> Answer:
        return self.ask_detailed(question, top_k, allowed)[0]

    def ask_detailed(
        self, question: str, top_k: int = 3, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[Answer, list[Candidate]]:
        """The answer and every candidate behind it, best first (for evaluation); with
        `allowed`, only from those sentence rows (see qa.answer.filters)."""
        started = time.perf_counter()
        candidates, question_values = self.retriever.retrieve_detailed(question, allowed)
        return self._answer(question, candidates, question_values, top_k, started), candidates

    def _answer(
        self,
        question: str,
        candidates: list[Candidate],
        question_values: dict[str, float],
        top_k: int,
        started: float,
    ) -> Answer:
        if not candidates:
            return Answer(question, None, 0.0, [], _ms(started))
        best = candidates[0]
        confidence = round(self.probabilities(candidates, question_values)[0], CONFIDENCE_DIGITS)
        shares = _softmax([c.score for c in candidates])
        # One number decides and is shown: the answer is withheld when its confidence (the
        # calibrated probability that the quoted sentence answers the question) is below the
        # threshold, so no answer is ever shown with a confidence under it (the rounded value
        # decides, as it is the one shown).
        if confidence < self.abstain_threshold:
            citations = [self._cite(c, p) for c, p in zip(candidates[:top_k], shares, strict=False)]
            return Answer(question, None, confidence, citations, _ms(started))
        lead = self._cite(best, shares[0], context=True)
        citations = [lead]
        for cand, share in zip(candidates[1:], shares[1:], strict=True):
            if len(citations) >= top_k:
                break
            cite = self._cite(cand, share)
            if cite.doc_id == lead.doc_id and cite.start < lead.end and lead.start < cite.end:
                continue  # already inside the answer
            citations.append(cite)
        span = self._short_answer(question, best)
        return Answer(question, lead.text, confidence, citations, _ms(started), span)

    def _short_answer(self, question: str, cand: Candidate) -> AnswerSpan | None:
        """The short answer inside the answering sentence itself (not the context before it):
        the reader's span when it read the sentence, else the span scorer's."""
        from qa.answer.spans import best_span

        doc, span, _ = self.index.span(cand.row)
        sentence = doc.text[span.start : span.end]
        if cand.reading is not None:
            got = reader_span(question, sentence, cand.reading, self.span_threshold)
        else:
            found = best_span(sentence, question)
            got = (found.start, found.end) if found is not None else None
        if got is None:
            return None
        start, end = span.start + got[0], span.start + got[1]
        return AnswerSpan(start, end, doc.text[start:end])

    def probabilities(
        self, candidates: list[Candidate], question_values: dict[str, float] | None = None
    ) -> tuple[float, float]:
        """Probability that the best candidate answers the question, and that the articles
        answer it at all."""
        from qa.answer.features import ALL_FEATURES

        best = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else None
        values = {**dict(zip(ALL_FEATURES, best.features, strict=True)), **(question_values or {})}
        return self.retriever.ranker.answer_probabilities(values, best.score, runner_up)

    def _cite(self, cand: Candidate, share: float, *, context: bool = False) -> Citation:
        """A candidate's sentence; with `context`, extended back to the previous sentence when
        it leans on it (the answer's own citation)."""
        doc, span, local = self.index.span(cand.row)
        start = span.start
        if context and local > 0 and needs_context(doc.text[span.start : span.end]):
            start = doc.sentences[local - 1].start
        return Citation(
            doc.doc_id,
            doc.title,
            local,
            start,
            span.end,
            doc.text[start : span.end],
            round(share, 4),
            doc.url,
            doc.published,
            doc.source,
        )


def _softmax(scores: list[float]) -> list[float]:
    """The ranker's share of belief in each candidate (sums to 1 over the candidates)."""
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
