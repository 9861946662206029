"""`qa serve` up to the point where uvicorn takes over (faked here); serving itself is tested in
tests/service and, as a real process, by tests/bench/test_http.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.core.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No QA_* variable in, and none of those `qa serve` exports for its workers left out."""
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("QA_")]:
        del os.environ[name]
    monkeypatch.setattr("qa.core.runtime.limit_threads", lambda n: n)

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a test of qa serve started a server")

    monkeypatch.setattr("uvicorn.Server", never)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_bad_values_are_usage_errors_before_anything_starts() -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 2 and "port" in result.output
    result = CliRunner().invoke(app, ["serve", "--feed", "ftp://a.example/rss.xml"])
    assert result.exit_code == 2 and "QA_FEEDS: 'ftp://a.example/rss.xml'" in result.output


def test_a_missing_seeds_folder_stops_before_serving(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--seeds", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert f"seeds folder {tmp_path / 'none'} does not exist" in result.stderr


def test_workers_get_the_settings_through_the_environment_and_a_share_of_the_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}
    report = SimpleNamespace(built=False, seconds=0.0)
    monkeypatch.setattr("qa.engine.startup.prepare_index", lambda *a, **k: (object(), report))
    monkeypatch.setattr("uvicorn.run", lambda target, **kwargs: served.update(kwargs, app=target))
    monkeypatch.setattr("qa.core.runtime.cores", lambda: 8)
    seeds = tmp_path / "seeds"
    args = ["serve", "--seeds", str(seeds), "--workers", "4", "--port", "8123"]
    args += ["--feed", "https://a.example/rss.xml", "--feed", "https://b.example/atom"]
    monkeypatch.setenv("QA_API_TOKEN", "t" * 20)
    monkeypatch.setenv("QA_FEEDS", "https://replaced.example/rss.xml")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert served["app"] == "qa.service.app:create_app" and served["factory"] is True
    assert (served["workers"], served["port"]) == (4, 8123)
    assert os.environ["QA_SEEDS_DIR"] == str(seeds) and os.environ["QA_PORT"] == "8123"
    assert os.environ["QA_API_TOKEN"] == "t" * 20  # the workers need it too
    assert os.environ["QA_THREADS"] == "2"  # 8 cores, 4 workers
    assert Settings().feeds == ["https://a.example/rss.xml", "https://b.example/atom"]
    assert "with 4 workers of 2 thread(s) each" in result.stderr
