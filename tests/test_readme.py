"""The README stays true: every setting and CLI command it should mention is there."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from qa.cli import app
from qa.core.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f"QA_{n.upper()}" for n in Settings.model_fields if f"QA_{n.upper()}" not in README]
    assert not missing, f"README lacks {missing}"


def test_every_command_is_documented() -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]
    missing = [name for name in commands if f"qa {name}" not in README]
    assert not missing, f"README lacks {missing}"


def test_quick_start_is_two_commands() -> None:
    assert "make serve" in README and "make test" in README
