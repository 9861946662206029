"""What the commands share: settings from the environment and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from qa.cli.common import command_settings


def test_command_line_values_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_SEEDS_DIR", "from-env")
    monkeypatch.setenv("QA_PORT", "9000")
    settings = command_settings(None, Path("idx"), port=None, host="0.0.0.0")
    assert settings.seeds_dir == Path("from-env") and settings.index_dir == Path("idx")
    assert (settings.port, settings.host) == (9000, "0.0.0.0")


def test_a_bad_environment_value_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CHUNK_SIZE", "0")
    with pytest.raises(typer.BadParameter, match="chunk_size"):
        command_settings(None, None)
