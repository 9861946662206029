"""The markdown report of a `qa train-reader` run (eval/reports/reader.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from qa.training.reader_data import ReaderData
    from qa.training.reader_train import TrainConfig, TrainResult


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:  # NaN
        return "–"
    return f"{value:.{digits}f}"


def markdown(
    command: str,
    out: Path,
    config: TrainConfig,
    data: ReaderData,
    result: TrainResult,
    info: dict[str, Any],
    rows: dict[str, dict[str, float]],
    agree: dict[str, dict[str, float]],
    *,
    eval_seconds: float,
) -> str:
    state = "finished" if result.finished else "stopped early"
    size, digest = info["bytes"] / 2**20, info["sha256"][:16]
    lines = [
        "# Reader (cross-encoder) — training and held-out figures",
        "",
        f"Command: `{command}`" if command else "",
        "",
        f"- base: first {config.layers} layers of all-MiniLM-L6-v2; max_len {config.max_len}; "
        f"seed {config.seed}; {config.threads} torch threads",
        f"- steps: {result.steps} of {config.steps} ({state}), "
        f"{config.lists_per_step} lists per step of 1-{config.mix.max_candidates} candidates "
        f"+ none; {result.epochs:.2f} epochs",
        f"- training time: {result.seconds / 60:.1f} min; held-out reading: "
        f"{eval_seconds / 60:.1f} min",
        f"- model: `{out}` {size:.1f} MiB, sha256 `{digest}…`, none logit {info['none_logit']:.3f}",
        "",
        "## Training data (training-fold articles only)",
        "",
        "| what | count |",
        "|---|---:|",
    ]
    lines += [f"| {k} | {v} |" for k, v in sorted(data.counts().items())]
    lines += [
        "",
        "Lists per epoch: each answerable question with its answer sentence among sentences of its "
        "paragraph and mined hard negatives (weight 1); a share again against mined sentences of "
        f"other articles (none, weight {config.mix.other_article_weight}); each SQuAD 2.0 "
        "unanswerable question against its plausible-answer sentence and its paragraph (none, "
        f"weight {config.mix.unanswerable_weight}); off-topic questions from another domain "
        f"(none, weight {config.mix.off_topic_weight}).",
        "",
        "## Held-out figures",
        "",
        "Each question's paragraph is read sentence by sentence. Right-first: the answer's "
        "sentence scores highest (cosine: the bundled embedding). AUROC: best score in the "
        "paragraph, answerable against SQuAD 2.0 unanswerable questions. Span F1/EM: the best "
        "span when the answer's sentence is given.",
        "",
        "| set | answerable | unanswerable | sentences/paragraph | right-first "
        "| cosine right-first | AUROC | cosine AUROC | span F1 | span EM |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {int(r['answerable'])} | {int(r['unanswerable'])} | "
            f"{_f(r['sentences_per_paragraph'], 1)} | {_f(r['right_first'])} | "
            f"{_f(r.get('cosine_right_first'))} | {_f(r.get('auroc'))} | "
            f"{_f(r.get('cosine_auroc'))} | {_f(r['span_f1'])} | {_f(r['span_em'])} |"
        )
    lines += [
        "",
        "## int8 ONNX against the torch model (same held-out pairs)",
        "",
        "| set | pairs | Pearson r | mean abs diff | max abs diff | same top sentence "
        "| same sign | same span |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, a in agree.items():
        lines.append(
            f"| {name} | {int(a['pairs'])} | {_f(a['pearson'], 4)} | {_f(a['mean_abs_diff'])} | "
            f"{_f(a['max_abs_diff'])} | {_f(a['same_top'])} | {_f(a['same_sign'])} | "
            f"{_f(a['same_span'])} |"
        )
    lines += ["", f"License: {info['license']}", ""]
    return "\n".join(lines)
