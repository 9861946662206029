"""The process the crash tests kill: the real app, with the fake embedder, on a port it prints.

    python -m tests.crash_server SEEDS INDEX TOKEN [PHASE:N]

With PHASE:N the process SIGKILLs itself at that point of its Nth write, for the deterministic
crash tests (the random ones kill it from outside). With QA_TEST_LOG set, qa's log (the access
log included) goes to stderr.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

import qa.corpus.seeds
import qa.engine.engine
import qa.engine.updates
import qa.index.storage
from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import SHUTDOWN_GRACE_SECONDS, create_app
from qa.service.http_errors import HTTP_PROTOCOL
from tests.conftest import FakeEmbedder

# Where a write can die: (object, attribute, die after the call instead of before).
PHASES: dict[str, tuple[Any, str, bool]] = {
    "seed-temp-written": (qa.corpus.seeds.os, "replace", False),  # temp file fsynced, not renamed
    "seed-renamed": (qa.corpus.seeds, "fsync_dir", False),  # renamed, folder not yet fsynced
    "seed-durable": (qa.engine.updates, "build", False),  # article durable, index not updated
    "index-staged": (qa.index.storage, "save", True),  # new index written, not renamed into place
    "index-published": (qa.index.storage, "prune", False),  # `current` swapped, engine not yet
    "engine-swapped": (qa.engine.engine.Engine, "swap", True),  # serving it, response not sent
}


def arm(spec: str) -> None:
    """SIGKILL this process at `PHASE` on the `N`th pass."""
    phase, _, nth = spec.partition(":")
    owner, name, after = PHASES[phase]
    real = getattr(owner, name)
    calls = 0
    # os.replace also swaps the index's `current` link: count only the article renames.
    counts = (lambda *a: str(a[0]).endswith(".tmp")) if name == "replace" else (lambda *a: True)

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += counts(*args)
        if calls == int(nth or 1) and not after:
            die()
        out = real(*args, **kwargs)
        if calls == int(nth or 1) and after:
            die()
        return out

    setattr(owner, name, wrapper)


class SlowEmbedder(FakeEmbedder):
    """The fake embedder taking QA_TEST_EMBED_DELAY seconds per call (a big upload's time)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False) -> Any:
        time.sleep(self.delay)
        return super().encode(texts, batch_size=batch_size, progress=progress)


def main(seeds: str, index: str, token: str, crash_at: str = "") -> None:
    settings = Settings(
        seeds_dir=Path(seeds), index_dir=Path(index), api_token=token, reload_interval=0
    )
    if os.environ.get("QA_TEST_LOG"):
        logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    delay = float(os.environ.get("QA_TEST_EMBED_DELAY", "0"))
    embedder = SlowEmbedder(delay) if delay else FakeEmbedder()
    engine, _ = Engine.open(settings, embedder=embedder)  # the restart: recovers
    if crash_at:
        arm(crash_at)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        create_app(settings, engine),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,  # as `qa serve`
        http=HTTP_PROTOCOL,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(*sys.argv[1:5])
