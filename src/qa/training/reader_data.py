"""What the reader is trained and tested on: questions, their paragraphs' sentences, negatives.

Articles are split into sentences by the service's own splitter (`split_sentences`), and each
candidate carries the sentence before it, as the service would show it. A question's record
holds the sentences of its paragraph, the one(s) overlapping a gold answer, the sentence of a
SQuAD 2.0 unanswerable question's `plausible_answers`, and negatives mined with the bundled
embedding: the sentences of the same pool that it ranks top for the question, from other
paragraphs and from other articles. Only articles of the requested folds take part, so a
training set never holds a held-out article's sentence or question (`Pool.fold_of`).

`qa.training.reader_lists` turns the records into listwise examples, epoch by epoch.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.corpus.documents import split_sentences
from qa.evaluation.corpora import Pool, load_pool
from qa.evaluation.datasets import squad_contexts

if TYPE_CHECKING:
    from numpy.typing import NDArray

NONE = -1  # the target of a list none of whose candidates answers


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of an article as the service splits it, with the sentence before it."""

    source: str  # "pool/doc_id"
    text: str
    previous: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate shown to the reader; `answer` is the gold span's characters in `sentence`."""

    previous: str
    sentence: str
    source: str
    answer: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class ReaderList:
    """A question and its candidates; `target` is the answering one's position, or NONE."""

    question: str
    candidates: tuple[Candidate, ...]
    target: int
    weight: float
    kind: str
    source: str  # "pool/doc_id" of the question


@dataclass
class Record:
    """A question with the sentence ids (into `ReaderData.sentences`) it is trained against."""

    question: str
    source: str
    pool: str
    domain: str
    answers: tuple[str, ...]
    paragraph: tuple[int, ...]
    positives: tuple[int, ...] = ()  # sentences overlapping a gold answer span
    answer: tuple[int, int] | None = None  # gold span inside positives[0], in its characters
    plausible: int | None = None  # sentence holding a SQuAD 2.0 plausible answer
    hard: tuple[int, ...] = ()  # mined: other paragraphs of the pool
    foreign: tuple[int, ...] = ()  # mined: other articles of the pool

    @property
    def answerable(self) -> bool:
        return bool(self.positives)


@dataclass
class ReaderData:
    """Every sentence of the chosen articles, and the question records over them."""

    sentences: list[Sentence] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {"sentences": len(self.sentences)}
        for r in self.records:
            key = f"{r.pool}-{'answerable' if r.answerable else 'unanswerable'}"
            out[key] = out.get(key, 0) + 1
        return out


@dataclass(frozen=True)
class SourcePool:
    """A pool and the `plausible_answers` of its unanswerable questions (id -> char spans)."""

    pool: Pool
    plausible: dict[str, tuple[tuple[int, int], ...]]


def read_plausible(path: Path) -> dict[str, tuple[tuple[int, int], ...]]:
    """`plausible_answers` spans of a SQuAD 2.0 file, by question id, in paragraph characters."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                spans = tuple(
                    (a["answer_start"], a["answer_start"] + len(a["text"]))
                    for a in qa.get("plausible_answers", [])
                )
                if spans:
                    out[qa["id"]] = spans
    return out


SQUAD_FILE = Path("squad2-dev-half/dev-v2.0.json")
XQUAD_FILE = Path("xquad-en/xquad.en.json")


def training_pools(datasets: Path) -> list[SourcePool]:
    """squad2-dev-half (with plausible answers), SQuADShifts Amazon and Reddit (each post its
    own article), uncapped: the folds, not a cap, keep held-out articles out."""
    squad = datasets / SQUAD_FILE
    return [
        SourcePool(load_pool("squad", squad, domain="wikipedia"), read_plausible(squad)),
        SourcePool(
            load_pool("amazon", datasets / "squadshifts-amazon" / "amazon_reviews_v1.0.json"), {}
        ),
        SourcePool(
            load_pool(
                "reddit", datasets / "squadshifts-reddit" / "reddit_v1.0.json", per_paragraph=True
            ),
            {},
        ),
    ]


def xquad_held_out(datasets: Path) -> SourcePool:
    """XQuAD English without the paragraphs it shares with squad2-dev-half: never trained on."""
    pool = load_pool(
        "xquad",
        datasets / XQUAD_FILE,
        exclude_contexts=squad_contexts(datasets / SQUAD_FILE),
        domain="wikipedia",
    )
    return SourcePool(pool, {})


def build_records(
    sources: Sequence[SourcePool],
    folds: dict[str, frozenset[int] | None],
    *,
    max_questions: int | None = None,
    max_articles: int | None = None,
) -> ReaderData:
    """Sentences and question records of the articles of `folds[pool name]` (None: every article
    of that pool; a pool missing from `folds` is left out). `max_questions` caps the answerable
    and the unanswerable questions per pool, `max_articles` its articles (stable choices)."""
    data = ReaderData()
    for source in sources:
        pool = source.pool
        if pool.name not in folds:
            continue
        wanted = folds[pool.name]
        doc_ids = [d for d in sorted(pool.texts) if wanted is None or pool.fold_of(d) in wanted]
        if max_articles is not None:
            doc_ids = sorted(sorted(doc_ids, key=lambda d: _stable(pool.name, d))[:max_articles])
        starts: dict[str, tuple[list[int], list[int], int]] = {}
        for doc_id in doc_ids:
            text = pool.texts[doc_id]
            spans = split_sentences(text)
            first = len(data.sentences)
            previous = ""
            for span in spans:
                sentence = text[span.start : span.end]
                data.sentences.append(Sentence(f"{pool.name}/{doc_id}", sentence, previous))
                previous = sentence
            starts[doc_id] = ([s.start for s in spans], [s.end for s in spans], first)
        chosen = set(doc_ids)
        items = [i for i in pool.items if i.doc_id in chosen and i.region is not None]
        if max_questions is not None:
            keep: set[str] = set()
            for kind in (True, False):
                same = sorted(
                    (i for i in items if i.answerable == kind),
                    key=lambda i: _stable(pool.name, i.id),
                )
                keep.update(i.id for i in same[:max_questions])
            items = [i for i in items if i.id in keep]
        for item in items:
            assert item.doc_id is not None and item.region is not None
            begin, end, first = starts[item.doc_id]
            lo = bisect.bisect_left(begin, item.region[0])
            hi = bisect.bisect_right(end, item.region[1])
            paragraph = tuple(range(first + lo, first + hi))
            if not paragraph:
                continue
            record = Record(
                item.question,
                f"{pool.name}/{item.doc_id}",
                pool.name,
                pool.domain,
                item.answers,
                paragraph,
            )
            if item.answerable:
                _locate_answer(record, item.spans, begin, end, first, data.sentences)
                if not record.positives:
                    continue
            else:
                region = item.region[0]
                plausible = [(region + a, region + b) for a, b in source.plausible.get(item.id, ())]
                holders = _overlapping(plausible[:1], begin, end, first)
                record.plausible = holders[0] if holders else None
            data.records.append(record)
    return data


def _locate_answer(
    record: Record,
    spans: Sequence[tuple[int, int]],
    begin: list[int],
    end: list[int],
    first: int,
    sentences: list[Sentence],
) -> None:
    record.positives = tuple(_overlapping(spans, begin, end, first))
    for a, b in spans:  # the first gold span that lies inside one sentence teaches the span head
        k = bisect.bisect_right(begin, a) - 1
        if k >= 0 and begin[k] <= a and b <= end[k]:
            sid = first + k
            record.positives = (sid, *(p for p in record.positives if p != sid))
            record.answer = (a - begin[k], b - begin[k])
            assert sentences[sid].text[record.answer[0] : record.answer[1]]
            return


def _overlapping(
    spans: Sequence[tuple[int, int]], begin: list[int], end: list[int], first: int
) -> list[int]:
    out: list[int] = []
    for a, b in spans:
        for k in range(max(0, bisect.bisect_right(begin, a) - 1), len(begin)):
            if begin[k] >= b:
                break
            if end[k] > a and first + k not in out:
                out.append(first + k)
    return out


def _stable(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


Embed = Callable[[list[str]], "NDArray[np.float32]"]


def mine_negatives(data: ReaderData, embed: Embed, k: int = 8) -> None:
    """Fill each record's `hard` (top `k` sentences of other paragraphs of its pool) and
    `foreign` (top `k` of other articles) by the cosine of unit vectors from `embed`. Sentences
    holding one of the question's short answers are skipped: they may well answer it."""
    by_pool: dict[str, list[int]] = {}
    for sid, s in enumerate(data.sentences):
        by_pool.setdefault(s.source.split("/", 1)[0], []).append(sid)
    for pool, sids in by_pool.items():
        records = [r for r in data.records if r.pool == pool]
        if not records:
            continue
        ids = np.asarray(sids)
        vectors = embed([data.sentences[i].text for i in sids])
        questions = embed([r.question for r in records])
        for lo in range(0, len(records), 256):
            sims = questions[lo : lo + 256] @ vectors.T
            order = np.argsort(-sims, axis=1, kind="stable")
            for record, row in zip(records[lo : lo + 256], order, strict=True):
                _fill(record, ids[row], data.sentences, k)


def _fill(record: Record, ranked: NDArray[np.int64], sentences: list[Sentence], k: int) -> None:
    own = set(record.paragraph)
    answers = [a.lower() for a in record.answers if a.strip()]
    hard: list[int] = []
    foreign: list[int] = []
    for sid in ranked.tolist():
        if len(hard) >= k and len(foreign) >= k:
            break
        if sid in own:
            continue
        s = sentences[sid]
        if any(a in s.text.lower() for a in answers):
            continue
        if len(hard) < k:
            hard.append(sid)
        if s.source != record.source and len(foreign) < k:
            foreign.append(sid)
    record.hard, record.foreign = tuple(hard), tuple(foreign)
