"""The `memory` section of `qa bench`: resident memory of `qa serve` through uploads of the
largest article it accepts.

ONNX Runtime keeps the buffers of the largest input it has run: when index writes went to the
network in batches of 64, one 545 KB upload left the server at 1.6 GB. The figure gated here is
bytes (VmRSS, VmHWM from /proc), never seconds.
"""

from __future__ import annotations

import json
import random
import shutil
import urllib.request
from pathlib import Path
from typing import Any

from qa.bench import http
from qa.bench.context import Context
from qa.bench.serving import server_env

# Sentences of 8-30 words over a small vocabulary, split into paragraphs: what the sentence
# splitter, the embedder and BM25 see in a long article, with none of it repeated verbatim.
_VOCABULARY = (
    "government minister council city budget repair bridge river market report police court "
    "school hospital election vote party leader company shares price energy water road rail "
    "station harbour festival museum season team coach match player record weather storm "
    "flood farmers harvest trade export import agreement treaty summit talks officials "
    "residents district mayor plan project cost million year month week morning evening "
    "announced said agreed rejected opened closed delayed approved proposed reported"
)

MEMORY_TOKEN = "bench-memory-token-0123456789"


def synthetic_article(size: int, seed: int = 0) -> str:
    """Deterministic ASCII prose of exactly `size` bytes."""
    rnd = random.Random(seed)
    vocabulary = _VOCABULARY.split()
    parts: list[str] = []
    length = 0
    while length < size:
        words = [rnd.choice(vocabulary) for _ in range(rnd.randint(8, 30))]
        sentence = " ".join(words).capitalize() + (". " if rnd.random() > 0.1 else ".\n\n")
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)[:size]


def status_mb(pid: int) -> dict[str, float]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of one process, in MB."""
    memory = http.memory_mb(pid)
    return {"rss_mb": round(memory["VmRSS"], 1), "peak_mb": round(memory["VmHWM"], 1)}


def upload_memory(
    seeds: Path,
    index: Path,
    env: dict[str, str],
    *,
    article_bytes: int,
    uploads: int,
    log_dir: Path,
) -> dict[str, Any]:
    """Serve `seeds` (a folder the uploads are written to), then POST `uploads` articles of
    `article_bytes` each (the server's limit set to exactly that), asking a question after each;
    the server's memory before and after each."""
    env = {
        **env,
        "QA_API_TOKEN": MEMORY_TOKEN,
        "QA_MAX_ARTICLE_BYTES": str(article_bytes),
    }
    with http.serve(seeds, index, env, log_dir=log_dir) as server:
        _ask(server.url)
        result: dict[str, Any] = {
            "article_bytes": article_bytes,
            "before": status_mb(server.process.pid),
            "after": [],
        }
        for i in range(uploads):
            text = synthetic_article(article_bytes, seed=i)
            body = {"doc_id": f"memory-{i}", "text": text}
            _post(server.url + "/documents", body, token=MEMORY_TOKEN)
            _ask(server.url)
            result["after"].append(status_mb(server.process.pid))
        result["peak_mb"] = result["after"][-1]["peak_mb"] if uploads else None
    return result


def measure_memory(ctx: Context) -> None:
    """`qa serve` on a copy of the seeds through uploads of the configured article size."""
    seeds = ctx.work / "memory-seeds"
    shutil.rmtree(seeds, ignore_errors=True)
    shutil.copytree(ctx.config.seeds, seeds)
    result = upload_memory(
        seeds,
        ctx.work / "memory-index",
        server_env(ctx, ctx.config.encoder),
        article_bytes=ctx.config.memory_article_bytes,
        uploads=ctx.config.memory_uploads,
        log_dir=ctx.work,
    )
    ctx.results["memory"] = result
    ctx.log(f"memory through uploads: {result}")


def _post(url: str, body: dict[str, Any], *, token: str | None = None) -> None:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=3600) as response:
        response.read()


def _ask(url: str) -> None:
    _post(url + "/ask", {"question": "Who is the Prime Minister of Japan?"})
