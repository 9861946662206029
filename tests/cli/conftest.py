"""What the command-line tests share: a CLI on the test folders with the fake embedder."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from tests.conftest import FakeEmbedder


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    fake = FakeEmbedder()
    monkeypatch.setattr(ModelLoader, "get", lambda self: fake)
    monkeypatch.setattr(
        ModelLoader, "weights_sha256", property(lambda self: fake.fingerprint.weights_sha256)
    )
    monkeypatch.setenv("QA_SEEDS_DIR", str(settings.seeds_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(settings.index_dir))
    return CliRunner()
