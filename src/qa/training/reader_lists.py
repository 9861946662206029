"""One epoch of the reader's listwise examples, drawn from the question records.

Deterministic in (seed, epoch): the same data and seed give the same lists in the same order,
which is what lets a stopped training run resume exactly (`qa.training.reader_train`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.training.reader_data import NONE, Candidate, ReaderData, ReaderList, Record


@dataclass(frozen=True)
class Mix:
    """How one epoch's lists are drawn (see `epoch_lists`)."""

    max_candidates: int = 4
    other_article_share: float = 0.25
    off_topic_share: float = 0.1
    unanswerable_weight: float = 1.0
    other_article_weight: float = 0.5
    off_topic_weight: float = 0.3


def epoch_lists(data: ReaderData, seed: int, epoch: int, mix: Mix = Mix()) -> list[ReaderList]:
    """One epoch of listwise examples, in a shuffled order fixed by (seed, epoch).

    Every list holds 1 to `mix.max_candidates` candidates, so the none option is learned at
    every list size:

    - each answerable question: its answer's sentence among other sentences of its paragraph
      and mined hard negatives (target: the answer), weight 1;
    - a share of them again, with mined sentences of other articles only (target none);
    - each SQuAD 2.0 unanswerable question: the sentence of its plausible answer and others of
      its paragraph (target none);
    - off-topic questions (another domain's) against sentences of one of this pool's
      paragraphs (target none).

    The none examples are weighted below the answerable ones where they are easy (other
    articles, off-topic), so they teach abstention without drowning out reading.
    """
    rng = np.random.default_rng([seed, epoch])
    out: list[ReaderList] = []
    top = mix.max_candidates
    for r in data.records:
        size = int(rng.integers(1, top + 1))
        if r.answerable:
            others = _interleave(rng, _without(r.paragraph, r.positives), _without(r.hard, ()))
            picked = [r.positives[0], *others[: size - 1]]
            out.append(_make(rng, data, r, picked, 0, 1.0, "answerable"))
            if rng.random() < mix.other_article_share and r.foreign:
                n = min(int(rng.integers(1, top + 1)), len(r.foreign))
                chosen = rng.choice(len(r.foreign), n, replace=False)
                foreign = [r.foreign[i] for i in sorted(chosen.tolist())]
                out.append(_make(rng, data, r, foreign, NONE, mix.other_article_weight, "other"))
        else:
            rest = _interleave(
                rng, _without(r.paragraph, (r.plausible,) if r.plausible is not None else ()), []
            )
            picked = ([r.plausible] if r.plausible is not None else []) + rest
            weight = mix.unanswerable_weight
            out.append(_make(rng, data, r, picked[:size], NONE, weight, "unanswerable"))
    out += _off_topic(rng, data, mix)
    order = rng.permutation(len(out))
    return [out[i] for i in order.tolist()]


def _without(ids: Sequence[int], drop: Sequence[int]) -> list[int]:
    return [i for i in ids if i not in drop]


def _interleave(rng: np.random.Generator, a: list[int], b: list[int]) -> list[int]:
    """Both lists shuffled, then taken in turn (a paragraph sentence, a mined one, ...)."""
    a = [a[i] for i in rng.permutation(len(a)).tolist()]
    b = [b[i] for i in rng.permutation(len(b)).tolist()]
    out: list[int] = []
    for i in range(max(len(a), len(b))):
        out += a[i : i + 1] + b[i : i + 1]
    return list(dict.fromkeys(out))


def _make(
    rng: np.random.Generator,
    data: ReaderData,
    record: Record,
    sids: list[int],
    target: int,
    weight: float,
    kind: str,
) -> ReaderList:
    """A list of `sids` in random order; `target` 0 means sids[0] answers."""
    order = rng.permutation(len(sids)).tolist()
    candidates = []
    for i in order:
        s = data.sentences[sids[i]]
        answer = record.answer if (target == 0 and i == 0) else None
        candidates.append(Candidate(s.previous, s.text, s.source, answer))
    position = order.index(0) if target == 0 else NONE
    return ReaderList(record.question, tuple(candidates), position, weight, kind, record.source)


def _off_topic(rng: np.random.Generator, data: ReaderData, mix: Mix) -> list[ReaderList]:
    out: list[ReaderList] = []
    pools = sorted({r.pool for r in data.records})
    for pool in pools:
        own = [r for r in data.records if r.pool == pool]
        foreign = [r for r in data.records if r.domain != own[0].domain and r.answerable]
        n = round(mix.off_topic_share * sum(r.answerable for r in own))
        if not foreign or not n:
            continue
        for _ in range(n):
            asker = foreign[int(rng.integers(len(foreign)))]
            host = own[int(rng.integers(len(own)))]
            size = min(int(rng.integers(1, mix.max_candidates + 1)), len(host.paragraph))
            start = int(rng.integers(0, len(host.paragraph) - size + 1))
            sids = list(host.paragraph[start : start + size])
            off = Record(asker.question, asker.source, asker.pool, asker.domain, (), tuple(sids))
            out.append(_make(rng, data, off, sids, NONE, mix.off_topic_weight, "off-topic"))
    return out
