"""Turn a benchmark run into its targets table and a Markdown report.

Targets relative to the encoder are computed from the same run's torch fp32 one-question encode
time, so a busy or quiet machine moves the figure and its limit together.
"""

from __future__ import annotations

import math
from typing import Any


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _target(name: str, measured: Any, limit: Any, unit: str, ok: bool | None) -> dict[str, Any]:
    return {"target": name, "measured": measured, "limit": limit, "unit": unit, "met": ok}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue against the figure this run measured (None where not run)."""
    encoder = _get(results, "meta", "config", "encoder") or "onnx-int8"
    ref_ms = _get(results, "encoders", "torch", "query", "p50_ms")
    out = []
    cosine = _get(results, "encoders", encoder, "cosine_to_torch", "min")
    out.append(
        _target("encoder cosine to fp32 (min, seeds)", cosine, ">= 0.98", "", _ge(cosine, 0.98))
    )
    fp32_top1 = _get(results, "build", "squad2-dev-half", "torch", "top1", "answer_top1")
    top1 = _get(results, "build", "squad2-dev-half", encoder, "top1", "answer_top1")
    drop = None if fp32_top1 is None or top1 is None else round(fp32_top1 - top1, 2)
    out.append(
        _target("top-1 squad2-dev-half: fp32 − int8", drop, "<= 1.0", "points", _le(drop, 1.0))
    )
    http = _get(results, "http", encoder, "levels") or {}
    one = _get(http, "1", "p50_ms")
    # The cost goals with the reader in the pipeline (it reads each question's best candidates):
    # p50 at most twice the torch one-question encode, and one such encode's worth of requests
    # a second at 16 connections.
    limit = None if ref_ms is None else round(2 * ref_ms, 3)
    out.append(
        _target("HTTP /ask p50 at 1 connection", one, _lim("<=", limit), "ms", _le(one, limit))
    )
    sixteen = http.get("16") or {}
    rps = sixteen.get("rps")
    need = None if not ref_ms else round(1 / (ref_ms / 1000), 1)
    out.append(
        _target("HTTP req/s at 16 connections", rps, _lim(">=", need), "req/s", _ge(rps, need))
    )
    p99 = sixteen.get("p99_ms")
    out.append(_target("HTTP p99 at 16 connections", p99, "<= 150", "ms", _le(p99, 150)))
    errors = None if not sixteen else sum(sixteen.get("errors", {}).values())
    out.append(_target("HTTP errors at 16 connections", errors, "== 0", "", _le(errors, 0)))
    torch_build = _get(results, "build", "squad2-dev-half", "torch", "sentences_per_s")
    build = _get(results, "build", "squad2-dev-half", encoder, "sentences_per_s")
    ratio = None if not torch_build or build is None else round(build / torch_build, 2)
    out.append(_target("index build vs torch fp32 (squad)", ratio, ">= 1.5", "×", _ge(ratio, 1.5)))
    cold = _get(results, "http", encoder, "cold_start_median_s")
    out.append(_target("cold start to /health ready", cold, "<= 3", "s", _le(cold, 3.0)))
    rss = _get(results, "http", encoder, "rss", "sum_mb")
    out.append(_target("server peak RSS (seed corpus)", rss, "<= 500", "MB", _le(rss, 500)))
    peak = _get(results, "memory", "peak_mb")
    out.append(
        _target("server peak RSS through article uploads", peak, "<= 500", "MB", _le(peak, 500))
    )
    sizes = _get(results, "scaling", "sizes") or {}
    if sizes:
        from qa.index.stores.faiss import HNSW_EF_CONSTRUCTION, HNSW_M

        largest = max(sizes, key=int)
        key = f"hnsw_m{HNSW_M}_efc{HNSW_EF_CONSTRUCTION}"
        entry = _get(sizes, largest, key) or {}
        chosen = entry.get("chosen") or {}
        label = f"{int(largest):,} vectors (HNSW M={HNSW_M}, efC={HNSW_EF_CONSTRUCTION})"
        if chosen:
            label += f", efSearch {chosen['efSearch']}"
        p50 = chosen.get("p50_ms")
        out.append(_target(f"query p50 at {label}", p50, "<= 30", "ms", _le(p50, 30)))
        rss_big = _get(entry, "server_rss", "rss_mb")
        out.append(_target(f"RSS at {label}", rss_big, "<= 2500", "MB", _le(rss_big, 2500)))
        best = max((s["recall@10"] for s in entry.get("sweep", [])), default=None)
        recall = chosen.get("recall@10", best)
        out.append(_target(f"recall@10 at {label}", recall, ">= 0.98", "", _ge(recall, 0.98)))
    return out


def _lim(op: str, value: Any) -> str:
    return f"{op} {value}" if value is not None else f"{op} ?"


def _ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _le(value: Any, limit: Any) -> bool | None:
    return bool(value <= limit) if _ok(value) and _ok(limit) else None


def _ge(value: Any, limit: Any) -> bool | None:
    return bool(value >= limit) if _ok(value) and _ok(limit) else None


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    """The whole run as Markdown: targets first, then every section's figures."""
    meta = results.get("meta", {})
    lines = [
        "# qa benchmarks",
        "",
        f"Run {meta.get('started_at', '?')} on {meta.get('cores', '?')} cores "
        f"({meta.get('cpu', '?')}), {meta.get('threads', '?')} threads, load generator "
        f"{meta.get('load_tool', '?')}; took {meta.get('seconds', '?')} s. Figures are as "
        "measured on a shared machine: compare variants within one run.",
    ]
    older = {k: v for k, v in meta.get("sections_from", {}).items() if v != "this run"}
    if older:
        lines += [
            "Sections kept from an earlier run: "
            + ", ".join(f"{k} ({v})" for k, v in older.items())
            + ".",
        ]
    lines += ["", "## Targets", ""]
    rows = []
    for t in results.get("targets", []):
        met = {True: "yes", False: "**no**", None: "not run"}[t["met"]]
        rows.append([t["target"], t["measured"], f"{t['limit']} {t['unit']}".strip(), met])
    lines += _table(["target", "measured", "limit", "met"], rows)
    lines += _encoders_md(results.get("encoders", {}))
    lines += _inproc_md(results.get("inproc", {}))
    lines += _build_md(results.get("build", {}))
    lines += _http_md(results.get("http", {}))
    lines += _memory_md(results.get("memory", {}))
    lines += _scaling_md(results.get("scaling", {}))
    return "\n".join(lines).rstrip() + "\n"


def _memory_md(data: dict[str, Any]) -> list[str]:
    if not data:
        return []
    rows = [["before", data["before"].get("rss_mb"), data["before"].get("peak_mb")]]
    for i, after in enumerate(data.get("after", []), 1):
        rows.append([f"after upload {i}", after.get("rss_mb"), after.get("peak_mb")])
    size = data.get("article_bytes")
    return [
        "## Memory through uploads",
        "",
        f"`qa serve` on the seeds, then uploads of {size:,} bytes each (`QA_MAX_ARTICLE_BYTES`"
        " set to that size), a question after each:",
        "",
        *_table(["when", "RSS MB", "peak RSS MB"], rows),
    ]


def _encoders_md(data: dict[str, Any]) -> list[str]:
    if not data:
        return []
    rows = []
    for name, e in data.items():
        q = e.get("query", {})
        cos = e.get("cosine_to_torch", {})
        rows.append(
            [
                name,
                q.get("p50_ms"),
                q.get("p99_ms"),
                e.get("batch_texts_per_s"),
                cos.get("min", "reference" if name == "torch" else None),
                cos.get("mean"),
                e.get("load_s"),
            ]
        )
    header = ["encoder", "query p50 ms", "query p99 ms", "batch texts/s", "cos min", "cos mean"]
    return ["## Encoders", "", *_table([*header, "load s"], rows)]


def _inproc_md(data: dict[str, Any]) -> list[str]:
    if not data:
        return []
    rows = [[k, v["n"], v["p50_ms"], v["p95_ms"], v["p99_ms"]] for k, v in data.items()]
    return [
        "## In-process /ask (seed corpus)",
        "",
        *_table(["encoder", "asks", "p50 ms", "p95 ms", "p99 ms"], rows),
    ]


def _build_md(data: dict[str, Any]) -> list[str]:
    if not data:
        return []
    lines = ["## Index builds", ""]
    squad = data.get("squad2-dev-half", {})
    rows = []
    for name, b in squad.items():
        if isinstance(b, dict):
            top1 = b.get("top1", {})
            rows.append(
                [
                    name,
                    b["sentences"],
                    b["texts_embedded"],
                    b["seconds"],
                    b["sentences_per_s"],
                    top1.get("answer_top1"),
                    top1.get("dense_top1"),
                ]
            )
    if rows:
        lines.append(
            f"squad2-dev-half ({squad.get('articles')} articles; top-1 over "
            f"{squad.get('questions')} answerable questions, % whose first citation / nearest "
            "sentence overlaps the answer):"
        )
        lines.append("")
        header = ["encoder", "sentences", "texts embedded", "seconds", "sentences/s"]
        lines += _table([*header, "answer top-1 %", "dense top-1 %"], rows)
    big = data.get("big")
    if big:
        lines += [
            f"Large corpus ({big['how']}): {big['copies']} copies, {big['articles']:,} articles, "
            f"{big['sentences']:,} sentences and {big['chunks']:,} chunks "
            f"({big['texts_embedded']:,} texts embedded with {big['encoder']}) in "
            f"{big['seconds']} s: **{big['sentences_per_s']} sentences/s**; stores "
            f"{big['store'].get('sentences', {}).get('type')} (sentences), "
            f"{big['store'].get('chunks', {}).get('type')} (chunks).",
            "",
        ]
    return lines


def _http_md(data: dict[str, Any]) -> list[str]:
    if not data:
        return []
    rows = []
    for server, entry in data.items():
        for conns, level in entry.get("levels", {}).items():
            errors = sum(level.get("errors", {}).values())
            rows.append(
                [
                    server,
                    conns,
                    *(level.get(k) for k in ("requests", "rps", "p50_ms", "p95_ms", "p99_ms")),
                    errors,
                ]
            )
    header = ["server", "connections", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
    lines = ["## HTTP (POST /ask, loopback, separate load generator)", "", *_table(header, rows)]
    rows = []
    for server, entry in data.items():
        cold = entry.get("cold_start_median_s", entry.get("cold_start_s"))
        rss = entry.get("rss", {})
        rows.append([server, cold, rss.get("sum_mb"), rss.get("max_mb")])
    header = ["server", "cold start s (median)", "peak RSS MB (all processes)", "largest MB"]
    return lines + _table(header, rows)


def _scaling_md(data: dict[str, Any]) -> list[str]:
    if not data:
        return []
    lines = [
        "## Vector search scaling",
        "",
        f"{data.get('queries')} queries, recall@{data.get('k')} against exact search, one "
        f"thread per query; vectors drawn with the mean and covariance of "
        f"{data.get('real_vectors', '?')} real sentence embeddings.",
        "",
    ]
    rows = []
    for size, row in data.get("sizes", {}).items():
        flat = row["flat"]
        rows.append([int(size), "Flat (exact)", "–", flat["p50_ms"], flat["p99_ms"], 1.0, 0.0])
        for kind, entry in row.items():
            if kind == "flat":
                continue
            if kind.startswith("hnsw"):
                name, knob = f"HNSW M={entry['M']} efC={entry['efConstruction']}", "efSearch"
            else:
                name, knob = f"IVF-Flat nlist {entry['nlist']}", "nprobe"
            for s in entry["sweep"]:
                mark = " ◀" if s == entry.get("chosen") else ""
                rows.append(
                    [
                        int(size),
                        name + mark,
                        f"{knob} {s[knob]}",
                        s["p50_ms"],
                        s["p99_ms"],
                        round(s["recall@10"], 4),
                        entry["build_s"],
                    ]
                )
            rss = entry.get("server_rss")
            if rss:
                lines.append(
                    f"A fresh process loading the {int(size):,}-vector {name} index "
                    f"(memory-mapped, efSearch {entry['chosen'][knob]}) and querying it peaks at "
                    f"{rss['rss_mb']:,} MB."
                )
                lines.append("")
    header = ["vectors", "index", "setting", "p50 ms", "p99 ms", "recall@10", "build s"]
    legend = "◀ = cheapest setting with recall@10 ≥ 0.98 (none where a sweep never reached it)."
    return [*lines, *_table(header, rows), legend, ""]
