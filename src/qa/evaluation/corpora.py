"""Corpora that look like real use, sampled from SQuAD-format sets at several sizes.

A person loads one article or thousands, and asks questions the articles answer, questions about
the same kind of thing that they do not answer, and questions about something else entirely. A
`SampledCorpus` is that: `size` articles drawn from one pool, the questions of those articles
(answerable, and SQuAD 2.0's own unanswerable ones), questions of the pool's articles that were
left out of the corpus (on-domain, often near-topic, and unanswerable here), and questions from
a pool of another domain (off-topic: squad2-dev-half and XQuAD are both Wikipedia and share
articles, so neither gives the other off-topic questions).

Every article of a pool is in one of two folds, by a hash of its id. A question belongs to the
fold of the article it was written about, so a model trained on fold-0 questions and tested on
fold-1 questions never saw a test article's questions, at any corpus size.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from qa.evaluation.datasets import DatasetError, EvalItem, load_squad, squad_contexts

FOLDS = 2
# Tags of the kinds of question in a sampled corpus.
ANSWERABLE = "answerable"
SQUAD_UNANSWERABLE = "unanswerable"  # SQuAD 2.0's own, written to look answerable
LEFT_OUT = "left-out"  # its article is not in the corpus
OFF_TOPIC = "off-topic"  # from another pool


@dataclass(frozen=True)
class Pool:
    """The articles and questions of one SQuAD-format set."""

    name: str
    texts: dict[str, str]
    items: list[EvalItem]  # every item's doc_id is a key of `texts`
    domain: str = ""  # off-topic questions come from pools of another domain

    def fold_of(self, doc_id: str) -> int:
        digest = hashlib.sha256(f"{self.name}/{doc_id}".encode()).digest()
        return digest[0] % FOLDS


@dataclass(frozen=True)
class SampledCorpus:
    """`size` articles of one pool and the questions asked against them."""

    pool: str
    size: int
    replicate: int
    texts: dict[str, str]
    items: list[EvalItem]  # tags say the kind; `extra["fold"]` the question's fold

    @property
    def name(self) -> str:
        return f"{self.pool}-{self.size}-r{self.replicate}"


def load_pool(
    name: str,
    path: Path,
    *,
    domain: str = "",
    per_paragraph: bool = False,
    exclude_contexts: frozenset[str] = frozenset(),
    max_articles: int | None = None,
) -> Pool:
    """A pool from a SQuAD-format file; `per_paragraph` makes each paragraph its own article
    (SQuADShifts Reddit: every post is a document)."""
    texts, items = load_squad(path, exclude_contexts=exclude_contexts, per_paragraph=per_paragraph)
    if max_articles is not None and len(texts) > max_articles:
        keep = set(sorted(texts, key=lambda d: _stable(name, d))[:max_articles])
        texts = {d: t for d, t in texts.items() if d in keep}
        items = [i for i in items if i.doc_id in keep]
    return Pool(name, texts, items, domain or name)


def _stable(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _tagged(item: EvalItem, pool: Pool, kind: str, answerable: bool) -> EvalItem:
    fold = pool.fold_of(item.doc_id or "")
    return replace(
        item,
        id=f"{pool.name}/{item.id}",
        answerable=answerable,
        tags=(kind, pool.name),
        extra={**item.extra, "fold": fold, "pool": pool.name, "kind": kind},
        spans=item.spans if answerable else (),
        doc_id=item.doc_id if answerable else None,
        region=item.region if answerable else None,
    )


def sample_corpus(
    pool: Pool,
    size: int,
    replicate: int,
    others: Sequence[Pool],
    *,
    max_answerable: int = 120,
    unanswerable_share: float = 0.5,
    left_out_share: float = 0.5,
    off_topic_share: float = 0.2,
) -> SampledCorpus:
    """One corpus of `size` articles of `pool` (deterministic in its arguments) and its
    questions: up to `max_answerable` answerable ones, then SQuAD's own unanswerable, left-out
    and off-topic ones as shares of the answerable count."""
    doc_ids = sorted(pool.texts)
    # Replicates of one size take consecutive windows of one shuffled order, so they hold
    # different articles while the pool has enough.
    order = sorted(doc_ids, key=lambda d: _stable(pool.name, str(size), d))
    size = min(size, len(order))
    first = (replicate * size) % len(order)
    chosen = set((order + order)[first : first + size])
    rng = random.Random(_stable(pool.name, str(size), str(replicate)))
    inside = [i for i in pool.items if i.doc_id in chosen]
    answerable = _pick(rng, [i for i in inside if i.answerable], max_answerable)
    n = max(1, len(answerable))
    own_unanswerable = _pick(
        rng, [i for i in inside if not i.answerable], round(n * unanswerable_share)
    )
    outside = [i for i in pool.items if i.doc_id not in chosen and i.answerable]
    left_out = _pick(rng, outside, round(n * left_out_share))
    foreign = [
        i for other in others if other.domain != pool.domain for i in other.items if i.answerable
    ]
    off_topic = _pick(rng, foreign, round(n * off_topic_share))
    items = (
        [_tagged(i, pool, ANSWERABLE, True) for i in answerable]
        + [_tagged(i, pool, SQUAD_UNANSWERABLE, False) for i in own_unanswerable]
        + [_tagged(i, pool, LEFT_OUT, False) for i in left_out]
        + [_tagged(i, _owner(i, others), OFF_TOPIC, False) for i in off_topic]
    )
    texts = {d: pool.texts[d] for d in doc_ids if d in chosen}
    return SampledCorpus(pool.name, len(texts), replicate, texts, items)


def _owner(item: EvalItem, pools: Sequence[Pool]) -> Pool:
    for pool in pools:
        if item.doc_id in pool.texts:
            return pool
    raise ValueError(f"no pool holds {item.doc_id}")


def _pick(rng: random.Random, items: list[EvalItem], n: int) -> list[EvalItem]:
    return items if n >= len(items) else rng.sample(items, n)


# How many corpora of each size to draw: small corpora vary most, so draw more of them.
DEFAULT_PLAN: dict[int, int] = {1: 6, 4: 3, 16: 2, 64: 1}


def sample_all(
    pools: Sequence[Pool], plan: dict[int, int] | None = None, **kwargs: float
) -> list[SampledCorpus]:
    """Corpora of every planned size from every pool (a size above the pool's article count is
    drawn once, as the whole pool)."""
    out: list[SampledCorpus] = []
    for pool in pools:
        others = [p for p in pools if p is not pool]
        seen_whole = False
        for size, replicates in sorted((plan or DEFAULT_PLAN).items()):
            if size >= len(pool.texts):
                if seen_whole:
                    continue
                seen_whole, replicates = True, 1
            for r in range(replicates):
                out.append(sample_corpus(pool, size, r, others, **kwargs))  # type: ignore[arg-type]
    return out


TRAIN_FOLD = 0  # questions the confidence model and threshold are fitted on
HELD_OUT_FOLD = 1  # questions only `qa eval --sizes` asks


def default_pools(datasets: Path) -> list[Pool]:
    """The four sets of `../shared/datasets`: SQuAD 2.0 (dev half), XQuAD English without the
    paragraphs it shares with SQuAD, and SQuADShifts Amazon reviews and Reddit posts (each
    capped, so a training run embeds minutes of text, not hours)."""
    squad = datasets / "squad2-dev-half" / "dev-v2.0.json"
    return [
        load_pool("squad", squad, domain="wikipedia"),
        load_pool(
            "xquad",
            datasets / "xquad-en" / "xquad.en.json",
            exclude_contexts=squad_contexts(squad),
            domain="wikipedia",
        ),
        load_pool(
            "amazon", datasets / "squadshifts-amazon" / "amazon_reviews_v1.0.json", max_articles=200
        ),
        load_pool(
            "reddit",
            datasets / "squadshifts-reddit" / "reddit_v1.0.json",
            per_paragraph=True,
            max_articles=400,
        ),
    ]


def gold_corpora(
    texts: dict[str, str], items: Sequence[EvalItem], distractors: Pool, sizes: Sequence[int]
) -> list[SampledCorpus]:
    """The seed articles asked the gold questions, alone and with `n` distractor articles from
    another pool for each `n` in `sizes` (0 = alone). Gold dev is the training fold, gold test
    the held-out one; the gold set's own tags (off-topic, near-topic) say the kind."""
    tagged = []
    for item in items:
        kind = (
            ANSWERABLE
            if item.answerable
            else next((t for t in item.tags if t in (OFF_TOPIC, "near-topic")), "unanswerable")
        )
        fold = TRAIN_FOLD if item.split == "dev" else HELD_OUT_FOLD
        tagged.append(
            replace(
                item,
                tags=(*item.tags, kind, "gold") if kind not in item.tags else (*item.tags, "gold"),
                extra={**item.extra, "fold": fold, "pool": "gold", "kind": kind},
            )
        )
    out = []
    for n in sizes:
        extra = distractor_texts(distractors, n)
        out.append(SampledCorpus("gold", len(texts) + len(extra), 0, {**texts, **extra}, tagged))
    return out


def distractor_texts(pool: Pool, n: int) -> dict[str, str]:
    """`n` articles of `pool`, always the same ones for the same `n` (and nested in larger n)."""
    order = sorted(pool.texts, key=lambda d: _stable("gold-distractors", d))
    return {d: pool.texts[d] for d in order[:n]}


def xquad_distractors(datasets: Path, n: int) -> dict[str, str]:
    """`n` XQuAD articles (Wikipedia, unrelated to the news seed) to stand beside the seeds."""
    return distractor_texts(load_pool("xquad", datasets / "xquad-en" / "xquad.en.json"), n)


def write_distractors(datasets: Path, n: int, path: Path) -> None:
    """Write `xquad_distractors(datasets, n)` to `path`: one JSON object (doc_id, text) a line,
    in the order that makes the first `m` lines the distractors for any `m <= n`.

    The gate's 16 are committed this way (eval/distractors/, CC BY-SA 4.0, attribution in its
    README), so a clone of the repository alone runs the `gold+16` gate."""
    lines = [
        json.dumps({"doc_id": doc_id, "text": text}, ensure_ascii=False)
        for doc_id, text in xquad_distractors(datasets, n).items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_distractors(path: Path, n: int) -> dict[str, str]:
    """The first `n` articles of a distractor file written by `write_distractors`."""
    texts: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines[:n]]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{path}: not a distractor file ({error})") from None
    for number, raw in enumerate(rows, 1):
        if not (
            isinstance(raw, dict)
            and isinstance(raw.get("doc_id"), str)
            and isinstance(raw.get("text"), str)
        ):
            raise DatasetError(f"{path}:{number}: not a distractor line (needs doc_id and text)")
        texts[raw["doc_id"]] = raw["text"]
    if len(texts) < n:
        raise DatasetError(f"{path} holds {len(texts)} distractor articles, not {n}")
    return texts


DISTRACTOR_SIZES = (0, 4, 16)  # the seed articles alone, and with 4 or 16 XQuAD articles


def build_corpora(datasets: Path, seeds_dir: Path, gold: Path) -> list[SampledCorpus]:
    """Every corpus the confidence model is fitted and evaluated on (deterministic)."""
    from qa.corpus.documents import read_corpus
    from qa.evaluation.datasets import load_gold

    pools = default_pools(datasets)
    documents, _ = read_corpus(seeds_dir)
    texts = {d.doc_id: d.text for d in documents}
    xquad = next(p for p in pools if p.name == "xquad")
    return sample_all(pools) + gold_corpora(texts, load_gold(gold, texts), xquad, DISTRACTOR_SIZES)
