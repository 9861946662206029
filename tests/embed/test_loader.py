"""The model loader: a given embedder is used as it is, and loading waits for first use."""

from __future__ import annotations

from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from tests.conftest import FakeEmbedder


def test_a_given_embedder_is_returned_and_fingerprints_the_vectors(
    fake_embedder: FakeEmbedder,
) -> None:
    loader = ModelLoader(Settings(), fake_embedder)
    assert loader.get() is fake_embedder
    assert loader.weights_sha256 == fake_embedder.fingerprint.weights_sha256


def test_nothing_is_loaded_until_asked(monkeypatch) -> None:
    loads: list[str] = []
    monkeypatch.setattr(
        "qa.embed.loader.SentenceTransformerEmbedder",
        lambda model, threads, **_: loads.append(str(model)) or FakeEmbedder(),
    )
    loader = ModelLoader(Settings(encoder="torch"))
    assert loads == []
    first = loader.get()
    assert loader.get() is first and len(loads) == 1
