"""The ONNX encoder: exported offline from the verified weights, cached, fingerprinted, and close
to sentence-transformers on torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.core.settings import Settings
from qa.corpus.documents import read_corpus
from qa.embed import model as embed
from qa.embed.loader import ModelLoader
from qa.embed.model import BUNDLED_WEIGHTS_SHA256, ModelError, ModelInfo
from qa.embed.onnx import EXPORT_META, Exported, _cached, export_encoder
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.freshness import stale_reasons
from qa.index.manifest import Counts, Manifest, ModelRecord
from tests.conftest import SEEDS


class TaggedEmbedder:
    """A fake embedder that says it is the int8 ONNX encoder."""

    def __init__(self, inner) -> None:
        self.inner = inner

    @property
    def fingerprint(self) -> ModelInfo:
        return ModelInfo("fake", "fake.onnx", "a" * 64, 16, "onnx-int8", "f" * 64)

    def encode(self, texts, *, batch_size: int = 64, progress: bool = False):
        return self.inner.encode(texts)


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ModelError, match="unknown ONNX encoder"):
        export_encoder(None, "onnx-int4")


def test_altered_weights_are_refused_before_export(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"not the real weights")
    monkeypatch.setattr(embed, "bundled_model_path", lambda: tmp_path)
    with pytest.raises(ModelError, match="altered"):
        export_encoder(None, "onnx-int8", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_manifest_records_the_encoder(seeds_dir: Path, fake_embedder) -> None:
    docs, _ = read_corpus(seeds_dir)
    model = build(docs, TaggedEmbedder(fake_embedder), Chunking()).manifest.model
    assert model.encoder == "onnx-int8"
    assert model.weights_sha256 == "a" * 64 and model.source_weights_sha256 == "f" * 64


def test_torch_manifest_records_its_own_weights(seeds_dir: Path, fake_embedder) -> None:
    docs, _ = read_corpus(seeds_dir)
    model = build(docs, fake_embedder, Chunking()).manifest.model
    assert model.encoder == "torch" and model.source_weights_sha256 == "f" * 64


# ------------------------------------------------------------------ with the real model


@pytest.fixture(scope="module")
def int8() -> Exported:
    """The int8 export in the default cache (made once per machine, a few seconds)."""
    return export_encoder(None, "onnx-int8")


@pytest.mark.e2e
def test_export_is_cached_and_fingerprinted(int8: Exported) -> None:
    again = export_encoder(None, "onnx-int8")
    assert again.seconds == 0.0 and again.sha256 == int8.sha256 and again.path == int8.path
    assert int8.source_sha256 == BUNDLED_WEIGHTS_SHA256
    meta = json.loads((int8.path.parent / EXPORT_META).read_text())
    assert meta["sha256"] == embed.sha256_file(int8.path) and meta["variant"] == "onnx-int8"


@pytest.mark.e2e
def test_a_tampered_export_is_not_reused(int8: Exported, tmp_path: Path) -> None:
    copy = tmp_path / int8.path.parent.name
    shutil.copytree(int8.path.parent, copy)
    assert _cached(copy, int8.name, int8.source_sha256, verify=True) is not None
    with (copy / int8.path.name).open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02\x03")
    assert _cached(copy, int8.name, int8.source_sha256, verify=True) is None
    shutil.rmtree(copy)
    shutil.copytree(int8.path.parent, copy)
    (copy / "tokenizer.json").write_text("{}")
    assert _cached(copy, int8.name, int8.source_sha256, verify=True) is None


@pytest.mark.e2e
def test_encoder_setting_changes_the_fingerprint(int8: Exported, tmp_path: Path) -> None:
    torch = ModelLoader(Settings(encoder="torch")).weights_sha256
    onnx = ModelLoader(Settings(encoder="onnx-int8")).weights_sha256
    assert torch == BUNDLED_WEIGHTS_SHA256 and onnx == int8.sha256 != torch
    manifest = Manifest(
        model=ModelRecord("m", torch, "torch", torch, 384),
        chunking=Chunking(3, 1),
        store={"backend": "faiss"},
        articles={},
        sources={},
        counts=Counts(0, 0, 0, 0),
        built_at="2026-01-01T00:00:00+00:00",
    )
    assert stale_reasons(manifest, {}, torch, Chunking()) == []
    assert "embedding model changed" in stale_reasons(manifest, {}, onnx, Chunking())


@pytest.mark.e2e
@pytest.mark.parametrize(("variant", "bar"), [("onnx-int8", 0.98), ("onnx-fp32", 0.9999)])
def test_onnx_vectors_match_sentence_transformers(real_embedder, variant: str, bar: float) -> None:
    docs, _ = read_corpus(SEEDS)
    sentences = [d.text[s.start : s.end] for d in docs for s in d.sentences]
    embedder = ModelLoader(Settings(encoder=variant)).get()
    assert embedder.fingerprint.encoder == variant
    assert embedder.fingerprint.dimension == real_embedder.fingerprint.dimension == 384
    vectors = embedder.encode(sentences, batch_size=8)
    reference = real_embedder.encode(sentences)
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(vectors * reference, axis=1))) >= bar
    assert embedder.encode([]).shape == (0, 384)


@pytest.mark.e2e
def test_serving_with_onnx_never_imports_torch(int8: Exported, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from qa.core.settings import Settings\n"
        "from qa.engine.engine import Engine\n"
        f"s = Settings(seeds_dir={str(SEEDS)!r}, index_dir={str(tmp_path / 'index')!r})\n"
        "engine, _ = Engine.open(s)\n"
        "engine.ask('Who is the Prime Minister of Japan?')\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["onnx-int8", "onnx-fp32"])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_vector_never_depends_on_what_it_was_sent_with(variant: str, threads: int) -> None:
    # int8 activations are quantised with one range per call: when texts went to the network in
    # batches, a sentence's vector moved with its batch-mates (cosine 0.9865-0.999 to itself
    # alone), so a full rebuild and an incremental update could disagree. Each text is now
    # embedded alone: the same bytes whatever the order, the company, the threads.
    docs, _ = read_corpus(SEEDS)
    sentences = [d.text[s.start : s.end] for d in docs for s in d.sentences]
    embedder = ModelLoader(Settings(encoder=variant, threads=threads)).get()
    together = embedder.encode(sentences, batch_size=8)
    alone = np.stack([embedder.encode([s])[0] for s in sentences])
    shuffled = [*reversed(sentences), "An unrelated sentence about something else."]
    mixed = embedder.encode(shuffled, batch_size=64)[: len(sentences)][::-1]
    assert np.array_equal(together, alone)
    assert np.array_equal(together, mixed)
