"""`qa bench`: the benchmark suite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from qa.cli.common import command_settings, err


def bench(
    out: Annotated[Path, typer.Option(help="Folder for the reports.")] = Path("bench/reports"),
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Tiny sizes, seconds long (what CI runs).")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(help="Run only these sections: encoders inproc build http memory scaling."),
    ] = None,
    squad: Annotated[
        Path | None, typer.Option(help="squad2-dev-half (SQuAD 2.0 JSON) for the build figures.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.5, help="Seconds per HTTP load level.")
    ] = None,
    sizes: Annotated[
        str | None, typer.Option(help="Vector counts of the scaling curve, comma-separated.")
    ] = None,
    big: Annotated[
        int | None, typer.Option(min=0, help="Sentences of the large build corpus (0 = skip).")
    ] = None,
    load_tool: Annotated[
        str, typer.Option(help="Load generator: auto (wrk when installed), wrk or python.")
    ] = "auto",
    update: Annotated[
        Path | None,
        typer.Option(help="A previous report's JSON; sections not run now keep its figures."),
    ] = None,
) -> None:
    """Measure latency, throughput, build speed, cold start, memory and index scaling."""
    from qa.bench.context import SECTIONS, BenchConfig
    from qa.bench.suite import run_bench

    settings = command_settings(None, None)
    values: dict[str, Any] = {
        "encoder": settings.encoder,
        "encoder_cache": settings.encoder_cache,
        "threads": settings.threads,
        "seeds": settings.seeds_dir,
        "load_tool": load_tool,
    }
    if only:
        unknown = sorted(set(only) - set(SECTIONS))
        if unknown:
            raise typer.BadParameter(f"unknown sections {unknown}; choose from {SECTIONS}")
        values["sections"] = tuple(only)
    if squad is not None:
        values["squad"] = squad
    if duration is not None:
        values["duration"] = duration
    if sizes is not None:
        values["scaling_sizes"] = tuple(int(x) for x in sizes.split(",") if x.strip())
    if big is not None:
        values["big_sentences"] = big
    if update is not None:
        values["update"] = update
    config = BenchConfig.smoke(out, **values) if smoke else BenchConfig(out=out, **values)
    json_path, md_path = run_bench(config, log=err)
    typer.echo(md_path.read_text(encoding="utf-8"))
    typer.echo(f"reports: {json_path} {md_path}")
