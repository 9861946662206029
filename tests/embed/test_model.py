from __future__ import annotations

from pathlib import Path

import pytest

from qa.embed import model as embed
from qa.embed.model import BUNDLED_WEIGHTS_SHA256, ModelError, verify_model


def test_bundled_weights_match_the_expected_hash() -> None:
    folder, name, digest = verify_model(None)
    assert digest == BUNDLED_WEIGHTS_SHA256
    assert name == "sentence-transformers/all-MiniLM-L6-v2"
    assert (folder / "model.safetensors").is_file()


def test_altered_bundled_weights_are_refused(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the real weights")
    monkeypatch.setattr(embed, "bundled_model_path", lambda: tmp_path)
    with pytest.raises(ModelError, match="altered"):
        verify_model(None)


def test_other_model_folder_is_recorded_not_checked(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    folder, name, digest = verify_model(tmp_path)
    assert folder == tmp_path and name == str(tmp_path) and len(digest) == 64


def test_missing_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no model\.safetensors"):
        verify_model(tmp_path)
