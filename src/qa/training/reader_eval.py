"""Held-out figures of a reader, beside the bundled embedding's cosine as the baseline.

For each held-out question, the reader reads every sentence of its paragraph:

- within-paragraph: is the answer's sentence first (answerable questions)?
- AUROC of the best score in the paragraph, answerable against SQuAD 2.0 unanswerable
  questions (the sets that have them);
- span token F1 and exact match, when the reader is handed the answer's sentence.

`agreement` compares two readers on the same pairs (the int8 ONNX file against the torch model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.answer.reader import Reading
from qa.evaluation.span_metrics import exact_match, token_f1
from qa.training.reader_data import Embed, ReaderData, Record

if TYPE_CHECKING:
    from numpy.typing import NDArray


class PairReader(Protocol):
    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading: ...


@dataclass(frozen=True)
class Readings:
    """One reader's readings of the chosen records' paragraphs (and answer sentences)."""

    records: list[Record]
    paragraphs: list[Reading]


def choose(data: ReaderData, pool: str, limit: int | None) -> list[Record]:
    """Up to `limit` answerable and `limit` unanswerable records of `pool` (a stable choice)."""
    out: list[Record] = []
    for answerable in (True, False):
        records = [r for r in data.records if r.pool == pool and r.answerable == answerable]
        records.sort(key=lambda r: hashlib.sha256(f"{r.source}/{r.question}".encode()).digest())
        out += records[:limit] if limit else records
    return out


def read_all(
    data: ReaderData,
    records: list[Record],
    reader: PairReader,
    tick: Callable[[], None] = lambda: None,
) -> Readings:
    paragraphs = []
    for r in records:
        pairs = [(data.sentences[i].previous, data.sentences[i].text) for i in r.paragraph]
        paragraphs.append(reader.read(r.question, pairs))
        tick()
    return Readings(records, paragraphs)


def figures(data: ReaderData, readings: Readings, embed: Embed | None = None) -> dict[str, float]:
    """The held-out figures of `readings` (with the cosine baseline when `embed` is given)."""
    records = readings.records
    out: dict[str, float] = {}
    answerable = [k for k, r in enumerate(records) if r.answerable]
    unanswerable = [k for k, r in enumerate(records) if not r.answerable]
    best = np.array(
        [max((c.relevance for c in p.candidates), default=-1e9) for p in readings.paragraphs]
    )
    hits = [
        records[k].paragraph[
            int(np.argmax([c.relevance for c in readings.paragraphs[k].candidates]))
        ]
        in records[k].positives
        for k in answerable
    ]
    out["answerable"] = len(answerable)
    out["unanswerable"] = len(unanswerable)
    out["right_first"] = float(np.mean(hits)) if hits else float("nan")
    out["sentences_per_paragraph"] = float(np.mean([len(r.paragraph) for r in records]))
    if unanswerable and answerable:
        out["auroc"] = auroc(best[answerable], best[unanswerable])
    f1s, ems = [], []
    for k in answerable:
        r = records[k]
        if r.answer is None:
            continue
        position = r.paragraph.index(r.positives[0])
        c = readings.paragraphs[k].candidates[position]
        predicted = data.sentences[r.positives[0]].text[c.start : c.end]
        f1s.append(token_f1(predicted, r.answers))
        ems.append(exact_match(predicted, r.answers))
    out["span_questions"] = len(f1s)
    out["span_f1"] = float(np.mean(f1s)) if f1s else float("nan")
    out["span_em"] = float(np.mean(ems)) if ems else float("nan")
    if embed is not None:
        out.update(cosine_baseline(data, records, embed))
    return out


def cosine_baseline(data: ReaderData, records: list[Record], embed: Embed) -> dict[str, float]:
    """Right-sentence-first and AUROC of the bundled embedding's cosine, on the same records."""
    q = embed([r.question for r in records])
    sids = sorted({i for r in records for i in r.paragraph})
    vectors = embed([data.sentences[i].text for i in sids])
    row = {sid: k for k, sid in enumerate(sids)}
    best = np.zeros(len(records))
    hits = []
    for k, r in enumerate(records):
        sims = vectors[[row[i] for i in r.paragraph]] @ q[k]
        best[k] = float(sims.max())
        if r.answerable:
            hits.append(r.paragraph[int(np.argmax(sims))] in r.positives)
    answerable = [k for k, r in enumerate(records) if r.answerable]
    unanswerable = [k for k, r in enumerate(records) if not r.answerable]
    out = {"cosine_right_first": float(np.mean(hits)) if hits else float("nan")}
    if answerable and unanswerable:
        out["cosine_auroc"] = auroc(best[answerable], best[unanswerable])
    return out


def auroc(positive: NDArray[np.float64], negative: NDArray[np.float64]) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney)."""
    pos = np.asarray(positive, dtype=np.float64)[:, None]
    neg = np.asarray(negative, dtype=np.float64)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def agreement(a: Readings, b: Readings) -> dict[str, float]:
    """How closely reader b's relevance follows reader a's on the same pairs."""
    x = np.array([c.relevance for p in a.paragraphs for c in p.candidates])
    y = np.array([c.relevance for p in b.paragraphs for c in p.candidates])
    same_top = [
        int(np.argmax([c.relevance for c in p.candidates]))
        == int(np.argmax([c.relevance for c in q.candidates]))
        for p, q in zip(a.paragraphs, b.paragraphs, strict=True)
        if p.candidates
    ]
    same_span = [
        (c.start, c.end) == (d.start, d.end)
        for p, q in zip(a.paragraphs, b.paragraphs, strict=True)
        for c, d in zip(p.candidates, q.candidates, strict=True)
    ]
    return {
        "pairs": float(len(x)),
        "pearson": float(np.corrcoef(x, y)[0, 1]) if len(x) > 1 else float("nan"),
        "mean_abs_diff": float(np.abs(x - y).mean()) if len(x) else float("nan"),
        "max_abs_diff": float(np.abs(x - y).max()) if len(x) else float("nan"),
        "same_top": float(np.mean(same_top)) if same_top else float("nan"),
        "same_sign": float(np.mean((x > 0) == (y > 0))) if len(x) else float("nan"),
        "same_span": float(np.mean(same_span)) if same_span else float("nan"),
    }


HELD_OUT_SETS = ("squad", "xquad")


def held_out(
    held: ReaderData,
    shipped: PairReader,
    reference: PairReader,
    embed: Embed,
    limit: int | None,
    log: Callable[[str], None],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Figures of the shipped (int8 ONNX) and the reference (torch) reader on each held-out
    set, and their agreement."""
    rows: dict[str, dict[str, float]] = {}
    agree: dict[str, dict[str, float]] = {}
    for name in HELD_OUT_SETS:
        records = choose(held, name, limit)
        if not records:
            continue
        log(f"reader: reading {len(records)} held-out {name} questions")
        onnx_readings = read_all(held, records, shipped)
        torch_readings = read_all(held, records, reference)
        rows[f"{name} (int8 ONNX)"] = figures(held, onnx_readings, embed)
        rows[f"{name} (torch fp32)"] = figures(held, torch_readings)
        agree[name] = agreement(torch_readings, onnx_readings)
    return rows, agree
