"""`qa add`, `qa remove` and `qa index` with bad files, on the fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from tests.conftest import FakeEmbedder
from tests.corpus.test_seeds import assert_consistent


@pytest.fixture
def cli(settings: Settings, monkeypatch) -> CliRunner:
    fake = FakeEmbedder()
    monkeypatch.setattr(ModelLoader, "get", lambda self: fake)
    monkeypatch.setattr(
        ModelLoader, "weights_sha256", property(lambda self: fake.fingerprint.weights_sha256)
    )
    monkeypatch.setenv("QA_SEEDS_DIR", str(settings.seeds_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(settings.index_dir))
    return CliRunner()


def test_add_stores_and_indexes_and_reports_bad_files(
    cli: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "zebra.txt"
    good.write_text("Zebras crossed the road in Nairobi.")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\x00\x00")
    wrong = tmp_path / "notes.pdf"
    wrong.write_bytes(b"%PDF")
    result = cli.invoke(
        app, ["add", str(good), str(binary), str(wrong), str(tmp_path / "gone.txt")]
    )
    assert result.exit_code == 1
    assert "created zebra (1 sentences)" in result.stdout
    assert "photo.txt" in result.stderr and "binary" in result.stderr
    assert "notes.pdf" in result.stderr and "gone.txt" in result.stderr
    assert "3 file(s), page(s) or feed item(s) not added" in result.stderr
    assert (settings.seeds_dir / "zebra.txt").read_text() == good.read_text()
    assert_consistent(settings)
    good.write_text("Zebras crossed the road in Mombasa.")
    result = cli.invoke(app, ["add", str(good)])
    assert result.exit_code == 0 and "replaced zebra" in result.stdout


def test_remove(cli: CliRunner, settings: Settings) -> None:
    result = cli.invoke(app, ["remove", "quad", "nope", "../etc/passwd"])
    assert result.exit_code == 1
    assert "removed quad" in result.stdout
    assert "no article with doc_id 'nope'" in result.stderr
    assert "not allowed" in result.stderr
    assert not (settings.seeds_dir / "quad.txt").exists()
    assert_consistent(settings)


def test_index_reports_each_bad_file_and_indexes_the_rest(
    cli: CliRunner, settings: Settings
) -> None:
    (settings.seeds_dir / "binary.txt").write_bytes(b"\x00\x01\x02")
    (settings.seeds_dir / "latin.md").write_bytes("café".encode("latin-1"))
    (settings.seeds_dir / "empty.txt").write_text("   ")
    strict = cli.invoke(app, ["index", "--strict"])
    assert strict.exit_code == 1
    for name in ("binary.txt", "latin.md", "empty.txt"):
        assert name in strict.stderr
    assert not (settings.index_dir / "current").exists()
    result = cli.invoke(app, ["index"])
    assert result.exit_code == 0, result.stderr
    assert "indexed 2 articles" in result.stdout
    for name in ("binary.txt", "latin.md", "empty.txt"):
        assert name in result.stderr
