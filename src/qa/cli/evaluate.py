"""`qa eval`: score answers on a question set, write reports, gate on thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.cli.common import DEFAULT_DATASETS, DEFAULT_GOLD, SeedsOpt, command_settings, err

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.evaluation.datasets import EvalItem
    from qa.evaluation.runner import EvalRun

DEFAULT_THRESHOLDS = Path("eval/thresholds.toml")
DEFAULT_REPORTS = Path("eval/reports")
DEFAULT_DISTRACTORS = Path("eval/distractors/xquad.jsonl")
DEFAULT_FOLLOWUP_ARTICLES = Path("eval/articles")

GateOpt = Annotated[
    bool,
    typer.Option(
        "--gate",
        help="With --squad: fail when the thresholds file has no bounds for this run (by "
        "default a SQuAD file without bounds is reported, not gated).",
    ),
]
DistractorsFileOpt = Annotated[
    Path, typer.Option(help="The distractor articles, committed with the project (JSON lines).")
]
FollowupArticlesOpt = Annotated[
    Path,
    typer.Option(
        help="Articles the follow-up set (gold lines tagged followup) is asked over, beside "
        "the seeds; the set runs with the plain gold run only."
    ),
]


def eval_(
    seeds: SeedsOpt = None,
    gold: Annotated[Path, typer.Option(help="Gold question file (JSON lines).")] = DEFAULT_GOLD,
    squad: Annotated[
        Path | None, typer.Option(help="Evaluate on a SQuAD-format file instead of the gold set.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Evenly sample this many questions.")
    ] = None,
    exclude_paragraphs_of: Annotated[
        Path | None,
        typer.Option(help="Skip questions whose paragraph is also in this SQuAD file."),
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Only questions of this split (dev / test).")
    ] = None,
    thresholds: Annotated[Path, typer.Option(help="Gate thresholds (TOML).")] = DEFAULT_THRESHOLDS,
    no_gate: Annotated[bool, typer.Option("--no-gate", help="Report only; never fail.")] = False,
    require_gate: GateOpt = False,
    reports: Annotated[Path, typer.Option(help="Folder for the reports.")] = DEFAULT_REPORTS,
    ranker: Annotated[
        Path | None, typer.Option(help="Ranker weights to evaluate [env QA_RANKER].")
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="Keep the eval index here between runs instead of a temp folder."),
    ] = None,
    sizes: Annotated[
        bool,
        typer.Option(
            "--sizes",
            help="Report per set and corpus size (1-64 articles sampled from --datasets, plus "
            "the seed articles with distractors) on held-out questions.",
        ),
    ] = False,
    distractors: Annotated[
        int,
        typer.Option(
            min=0,
            help="Add this many XQuAD articles (from --distractors-file) beside the seeds, so "
            "the gold questions are answered from a corpus larger than one search returns.",
        ),
    ] = 0,
    distractors_file: DistractorsFileOpt = DEFAULT_DISTRACTORS,
    followup_articles: FollowupArticlesOpt = DEFAULT_FOLLOWUP_ARTICLES,
    datasets: Annotated[
        Path, typer.Option(help="Folder of the SQuAD-format sets (--sizes).")
    ] = DEFAULT_DATASETS,
) -> None:
    """Score answers on the gold set (or a SQuAD file, or corpora of many sizes), write
    reports, and gate on thresholds."""
    from qa.evaluation.runner import run

    settings = command_settings(seeds, None, ranker=ranker)
    if sizes:
        _eval_sizes(settings, datasets, gold, reports, cache or Path(".cache/confidence"))
        return
    name, texts, items = _load(
        settings, gold, squad, exclude_paragraphs_of, distractors, distractors_file
    )
    name, items = _select(name, items, split, limit)
    gated = _gated(thresholds, name, no_gate=no_gate, squad=squad is not None, req=require_gate)
    followups = _followups(settings, gold, followup_articles) if name == "gold" else None
    err(f"evaluating {len(items)} questions over {len(texts)} documents ({name})")
    result = run(
        name,
        items,
        texts,
        settings,
        work_dir=cache / name if cache else None,
        source=squad or gold,
        log=err,
    )
    if followups is not None:
        from qa.evaluation.runner import run_followups

        f_texts, f_items = followups
        err(f"follow-up set: {len(f_items)} questions over {len(f_texts)} documents")
        result.followup = run_followups(f_items, f_texts, settings, standalone=items, log=err)
    _report(result, reports, thresholds if gated else None)


def _followups(
    settings: Settings, gold: Path, articles: Path
) -> tuple[dict[str, str], list[EvalItem]] | None:
    """The follow-up set's articles (the seeds and `articles`) and questions, or None when
    `gold` has none (exit 2 when they do not load)."""
    from qa.corpus.documents import read_corpus
    from qa.evaluation.datasets import DatasetError, load_followups

    texts: dict[str, str] = {}
    for folder in (settings.seeds_dir, articles):
        documents, _ = read_corpus(folder) if folder.is_dir() else ([], [])
        texts.update({d.doc_id: d.text for d in documents})
    try:
        items = load_followups(gold, texts)
    except DatasetError as error:
        err(
            f"error: {error} (the follow-up set is asked over the seeds and {articles}: see "
            "--followup-articles)"
        )
        raise typer.Exit(2) from None
    return (texts, items) if items else None


def _gated(thresholds: Path, name: str, *, no_gate: bool, squad: bool, req: bool) -> bool:
    """Whether the run `name` is gated: the gold set always (unless --no-gate), a SQuAD file
    when the thresholds name it or --gate asks (exit 2 when the file is then missing)."""
    from qa.evaluation.gate import load_thresholds

    if no_gate:
        return False
    if squad and not req and not (thresholds.exists() and name in load_thresholds(thresholds)):
        err(f"not gated: {thresholds} has no bounds for {name} (--gate to require them)")
        return False
    if not thresholds.exists():
        err(f"error: no gate thresholds at {thresholds} (give --thresholds, or --no-gate)")
        raise typer.Exit(2)
    return True


def _load(
    settings: Settings,
    gold: Path,
    squad: Path | None,
    exclude_paragraphs_of: Path | None,
    distractors: int,
    distractors_file: Path,
) -> tuple[str, dict[str, str], list[EvalItem]]:
    """The run's name, its documents by doc_id and its questions (exit 2 when unreadable)."""
    from qa.evaluation.datasets import DatasetError, load_gold, load_squad, squad_contexts

    try:
        if squad is not None:
            excluded = squad_contexts(exclude_paragraphs_of) if exclude_paragraphs_of else None
            texts, items = load_squad(squad, exclude_contexts=excluded or frozenset())
            return squad.stem + ("-heldout" if excluded else ""), texts, items
        from qa.corpus.documents import read_corpus

        documents, problems = read_corpus(settings.seeds_dir)
        for problem in problems:
            err(f"skipped {problem}")
        texts = {d.doc_id: d.text for d in documents}
        items = load_gold(gold, texts)
        if not distractors:
            return "gold", texts, items
        from qa.evaluation.corpora import read_distractors

        texts.update(read_distractors(distractors_file, distractors))
        return f"gold+{distractors}", texts, items
    except (DatasetError, OSError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None


def _select(
    name: str, items: list[EvalItem], split: str | None, limit: int | None
) -> tuple[str, list[EvalItem]]:
    """The questions of `split`, evenly sampled down to `limit`, and the run's name for them
    (exit 2 when none is left)."""
    from qa.evaluation.datasets import sample_evenly

    if split:
        items = [i for i in items if i.split == split]
        name += f"-{split}"
    items = sample_evenly(items, limit)
    if limit:
        name += f"-limit{limit}"
    if not items:
        err("error: no questions to evaluate")
        raise typer.Exit(2)
    return name, items


def _report(result: EvalRun, reports: Path, thresholds: Path | None) -> None:
    """Write the reports, print the table, and gate on `thresholds` (exit 1 on a failure)."""
    from qa.evaluation.gate import gate, load_thresholds
    from qa.evaluation.reports import followup_table, table, write_reports

    failures = [] if thresholds is None else gate(result, load_thresholds(thresholds))
    json_path, md_path = write_reports(result, reports, failures)
    if result.name == "gold":
        (reports / "latest.md").write_text(md_path.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(table(result))
    if result.followup is not None:
        typer.echo("\n" + followup_table(result.followup))
    typer.echo(f"\nreports: {json_path} {md_path}")
    if failures:
        for failure in failures:
            err(f"GATE FAILED: {failure}")
        raise typer.Exit(1)


def _eval_sizes(settings: Settings, datasets: Path, gold: Path, reports: Path, cache: Path) -> None:
    from qa.evaluation.corpora import build_corpora
    from qa.evaluation.reports import write_size_reports
    from qa.evaluation.runner import run_sizes

    corpora = build_corpora(datasets, settings.seeds_dir, gold)
    err(f"evaluating held-out questions on {len(corpora)} corpora")
    result = run_sizes(corpora, settings, cache, log=err)
    typer.echo(write_size_reports(result, reports))
