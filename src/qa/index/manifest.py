"""The manifest: what an index was built from and how, read and written only here.

`manifest.json` records the model (name, weights hash, dimension, normalisation), the chunking,
the store backend's own record, a fingerprint of every article and seed file, library versions,
build time and a sha256 of every file beside it. Loading refuses an index whose manifest is of
another `format_version`, or lacks what a build writes: such an index is rebuilt, never guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.index.chunking import Chunking
from qa.index.embed_corpus import EmbedStats
from qa.index.errors import IndexUnavailable
from qa.index.layout import CURRENT, MANIFEST

FORMAT_VERSION = 3  # 3: articles carry metadata (url, published, source, author)
SIMILARITY = "cosine (inner product of normalised vectors)"

# Without these a manifest cannot vouch for the files beside it (or say what they were built
# from): such a manifest is damaged, never a reason to skip the checks.
_REQUIRED = ("model", "chunking", "store", "articles", "sources", "counts", "built_at", "files")


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """The embedding model the vectors come from."""

    name: str
    weights_sha256: str  # of the file the vectors come from: safetensors, or the exported .onnx
    encoder: str  # "torch", "onnx-fp32" or "onnx-int8"
    source_weights_sha256: str  # of the safetensors an exported encoder was made from
    dimension: int
    normalized: bool = True
    similarity: str = SIMILARITY


@dataclass(frozen=True, slots=True)
class Counts:
    """Rows of the index, and how many texts this build embedded."""

    articles: int
    sentences: int
    chunks: int
    embedded: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an index was built from and how (`manifest.json`), as typed attributes.

    `store` is the store backend's own record (written by its `build`, read by its `open`,
    `stale_reason` and `release`); its "backend" entry (every format-3 manifest has it) names
    the backend.
    """

    model: ModelRecord
    chunking: Chunking
    store: Mapping[str, Any]
    articles: Mapping[str, str]  # sha256 of each article's text, by doc_id
    sources: Mapping[str, str]  # sha256 of each seed file, by file name
    counts: Counts
    built_at: str
    skipped: tuple[str, ...] = ()  # seed files that could not be read, and why
    embedding: EmbedStats | None = None
    libraries: Mapping[str, str] = field(default_factory=dict)
    build_seconds: float | None = None
    files: Mapping[str, str] = field(default_factory=dict)  # sha256 by path, set on save
    format_version: int = FORMAT_VERSION

    @property
    def backend(self) -> str:
        """The store backend's name."""
        return str(self.store["backend"])

    def with_files(self, files: Mapping[str, str]) -> Manifest:
        return replace(self, files=dict(files))

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `manifest.json` (keys in the order a build has always written)."""
        out: dict[str, Any] = {
            "format_version": self.format_version,
            "model": {
                "name": self.model.name,
                "weights_sha256": self.model.weights_sha256,
                "encoder": self.model.encoder,
                "source_weights_sha256": self.model.source_weights_sha256,
                "dimension": self.model.dimension,
                "normalized": self.model.normalized,
                "similarity": self.model.similarity,
            },
            "chunking": {"size": self.chunking.size, "overlap": self.chunking.overlap},
            "store": dict(self.store),
            "articles": dict(self.articles),
            "sources": dict(self.sources),
            "skipped": list(self.skipped),
            "counts": {
                "articles": self.counts.articles,
                "sentences": self.counts.sentences,
                "chunks": self.counts.chunks,
                "embedded": self.counts.embedded,
            },
        }
        if self.embedding is not None:
            out["embedding"] = self.embedding.as_dict()
        out["libraries"] = dict(self.libraries)
        out["built_at"] = self.built_at
        if self.build_seconds is not None:
            out["build_seconds"] = self.build_seconds
        if self.files:
            out["files"] = dict(self.files)
        return out

    @classmethod
    def from_json(cls, data: object, where: Path | str = "the index") -> Manifest:
        """Parse a `manifest.json` object; IndexUnavailable (naming `where`) if it is of
        another format version or lacks or garbles anything a build writes."""
        if not isinstance(data, dict):
            raise IndexUnavailable(f"the manifest of {where} is not a JSON object; rebuild it")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexUnavailable(
                f"index at {where} has format {version}, this qa reads {FORMAT_VERSION}; rebuild it"
            )
        missing = [key for key in _REQUIRED if key not in data]
        if missing or not isinstance(data["files"], dict):
            raise IndexUnavailable(
                f"the manifest of {where} lacks {', '.join(missing) or 'a valid files table'}; "
                "rebuild the index"
            )
        try:
            return _parse(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise IndexUnavailable(
                f"the manifest of {where} is invalid ({type(err).__name__}: {err}); "
                "rebuild the index"
            ) from err


def _parse(data: dict[str, Any]) -> Manifest:
    model = data["model"]
    embedding = data.get("embedding")
    seconds = data.get("build_seconds")
    return Manifest(
        model=ModelRecord(
            name=str(model["name"]),
            weights_sha256=str(model["weights_sha256"]),
            encoder=str(model["encoder"]),
            source_weights_sha256=str(model["source_weights_sha256"]),
            dimension=int(model["dimension"]),
            normalized=bool(model["normalized"]),
            similarity=str(model["similarity"]),
        ),
        chunking=Chunking(int(data["chunking"]["size"]), int(data["chunking"]["overlap"])),
        store=_store_record(data["store"]),
        articles={str(k): str(v) for k, v in data["articles"].items()},
        sources={str(k): str(v) for k, v in data["sources"].items()},
        counts=Counts(**{k: int(v) for k, v in data["counts"].items()}),
        built_at=str(data["built_at"]),
        skipped=tuple(str(s) for s in data.get("skipped", [])),
        embedding=None if embedding is None else EmbedStats(**embedding),
        libraries={str(k): str(v) for k, v in data.get("libraries", {}).items()},
        build_seconds=None if seconds is None else float(seconds),
        # A digest that is not a string vouches for nothing: the file then counts as unlisted.
        files={str(k): v for k, v in data["files"].items() if isinstance(v, str)},
    )


def _store_record(record: object) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("backend"), str):
        raise ValueError("the store record does not name its backend")
    return dict(record)


def read_json(folder: Path) -> dict[str, Any] | None:
    """The raw manifest object in `folder`, or None when there is none readable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_manifest(folder: Path, where: Path | str) -> Manifest:
    """The manifest in `folder`; IndexUnavailable (naming `where`) if missing or invalid."""
    data = read_json(folder)
    if data is None:
        raise IndexUnavailable(f"no index at {where} (run `qa index`)")
    return Manifest.from_json(data, where)


def try_manifest(folder: Path) -> Manifest | None:
    """The manifest in `folder`, or None when it is missing, unreadable or invalid."""
    try:
        return load_manifest(folder, folder)
    except IndexUnavailable:
        return None


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of the current index, or None when there is none readable and valid."""
    return try_manifest(index_dir / CURRENT)


def has_manifest(index_dir: Path) -> bool:
    """Whether the current index has a readable manifest (valid or not)."""
    return read_json(index_dir / CURRENT) is not None


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write `manifest` as `path` (indented JSON, as every build has)."""
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text)
