"""The embedder `Settings` ask for, loaded on first use (torch, or ONNX exported on first need)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.core.runtime import limit_threads
from qa.embed.model import Embedder, SentenceTransformerEmbedder, verify_model

if TYPE_CHECKING:
    from pathlib import Path

    from qa.core.settings import Settings
    from qa.embed.onnx import Exported


class ModelLoader:
    """Loads the embedder on first use, so an up-to-date index never waits for it.

    `settings.encoder` picks the implementation; the ONNX ones are exported from the verified
    weights on first need and cached (see `qa.embed.onnx`).
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._exported: Exported | None = None
        self._verified: tuple[Path, str, str] | None = None

    @property
    def weights_sha256(self) -> str:
        """sha256 of the weight file that makes the vectors: it differs per encoder, so an index
        built by one encoder is stale for another and their vectors are never mixed."""
        if self._embedder is not None:
            return self._embedder.fingerprint.weights_sha256
        if self.settings.encoder == "torch":
            return self._verify()[2]
        return self._export().sha256

    def _verify(self) -> tuple[Path, str, str]:
        """The torch weights checked once: start-up asks for their hash, then loads them."""
        if self._verified is None:
            self._verified = verify_model(self.settings.model)
        return self._verified

    def _export(self) -> Exported:
        if self._exported is None:
            from qa.embed.onnx import export_encoder

            settings = self.settings
            self._exported = export_encoder(
                settings.model, settings.encoder, settings.encoder_cache
            )
        return self._exported

    def get(self) -> Embedder:
        if self._embedder is None:
            threads = limit_threads(self.settings.threads)
            if self.settings.encoder == "torch":
                self._embedder = SentenceTransformerEmbedder(
                    self.settings.model, threads=threads, verified=self._verified
                )
            else:
                from qa.embed.onnx import OnnxEmbedder

                self._embedder = OnnxEmbedder(self._export(), threads=threads)
        return self._embedder
