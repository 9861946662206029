"""The process the crash tests kill: the real app, with the fake embedder, on a port it prints.

    python -m tests.crash_server SEEDS INDEX TOKEN [PHASE:N]

With PHASE:N the process SIGKILLs itself at that point of its Nth write, for the deterministic
crash tests (the random ones kill it from outside).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn

import qa.engine
import qa.index
import qa.library
from qa.api import create_app
from qa.config import Settings
from qa.engine import Engine
from tests.conftest import FakeEmbedder

# Where a write can die: (object, attribute, die after the call instead of before).
PHASES: dict[str, tuple[Any, str, bool]] = {
    "seed-temp-written": (qa.library.os, "replace", False),  # temp file fsynced, not renamed
    "seed-renamed": (qa.library, "fsync_dir", False),  # renamed, folder not yet fsynced
    "seed-durable": (qa.engine, "build", False),  # article durable, index not updated
    "index-staged": (qa.index, "save", True),  # new index written, not renamed into place
    "index-published": (qa.index, "_prune", False),  # `current` swapped, engine not yet
    "engine-swapped": (qa.engine.Engine, "swap", True),  # serving it, response not sent
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


def main(seeds: str, index: str, token: str, crash_at: str = "") -> None:
    settings = Settings(
        seeds_dir=Path(seeds), index_dir=Path(index), api_token=token, reload_interval=0
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())  # the restart: recovers
    if crash_at:
        arm(crash_at)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(create_app(settings, engine), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(*sys.argv[1:5])
