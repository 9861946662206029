"""Shared fixtures: a fake embedder with tiny vectors, a small corpus, and the real model once."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings as _hypothesis_settings

from qa.core.settings import Settings
from qa.embed.model import ModelInfo
from tests.fake_names import names  # noqa: F401  (fixture)
from tests.news_site import keepalive_site, news_site  # noqa: F401  (fixtures)

# Property tests explore new random examples on a developer's machine (that is how they find
# bugs), but replay the same examples in CI (`CI` is set there), so a submission passes or fails
# on its code, not on the luck of one run.
_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

ARTICLES = {
    "quad.txt": (
        "The two leaders met in Tokyo on Friday. They agreed to hold a summit next year.\n"
        "Prime Minister Shigeru Ishiba welcomed the plan.\n"
    ),
    "chips.md": (
        "# Chip makers expand\n\n"
        "Semiconductor factories will open in Gujarat. "
        "The investment is worth 10 billion dollars.\n"
    ),
}


class FakeEmbedder:
    """Bag-of-words vectors hashed into 16 dimensions: same words, similar vectors."""

    dim = 16

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    @property
    def fingerprint(self) -> ModelInfo:
        return ModelInfo("fake", "fake", "f" * 64, self.dim)

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            out[i, -1] += 0.1  # never a zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    return Settings(seeds_dir=seeds_dir, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[object]:
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from qa.embed.model import SentenceTransformerEmbedder

    yield SentenceTransformerEmbedder()


@contextmanager
def serve_app(settings: Settings, engine: object) -> Iterator[str]:
    """Serve the app on a free loopback port in a background thread; yields the base URL."""
    import uvicorn

    from qa.service.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, engine),  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# The suite allows no skips: a test the project depends on that cannot run is a failure (a
# missing browser, tool, dataset or package must be installed, not silently left out).
def _no_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and this suite allows no skips: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _no_skip(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _no_skip(outcome.get_result())  # type: ignore[attr-defined]
