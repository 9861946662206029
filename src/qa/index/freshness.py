"""Whether a built index still matches the seeds folder, the model, the chunking and the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa.index.manifest import FORMAT_VERSION
from qa.index.stores import registry

if TYPE_CHECKING:
    from qa.embed.model import ModelInfo
    from qa.index.chunking import Chunking
    from qa.index.manifest import Manifest
    from qa.index.stores.base import StoreBackend


def stale_reasons(
    manifest: Manifest | None,
    sources: dict[str, str],
    model: ModelInfo | str,
    chunking: Chunking,
    store: StoreBackend | None = None,
) -> list[str]:
    """Why an index with `manifest` does not match the seeds, model (or its weights hash),
    chunking and store backend (`store`, default: `registry.default()`); [] if it does."""
    if manifest is None:
        return ["no index yet"]
    reasons = []
    if manifest.format_version != FORMAT_VERSION:
        reasons.append("index format changed")
    weights = model if isinstance(model, str) else model.weights_sha256
    if manifest.model.weights_sha256 != weights:
        reasons.append("embedding model changed")
    if manifest.chunking != chunking:
        reasons.append("chunking changed")
    backend = store if store is not None else registry.default()
    if manifest.backend != backend.name:
        reasons.append("store backend changed")
    elif (reason := backend.stale_reason(manifest.store)) is not None:
        reasons.append(reason)
    old = manifest.sources
    added = sorted(set(sources) - set(old))
    removed = sorted(set(old) - set(sources))
    changed = sorted(k for k in set(sources) & set(old) if sources[k] != old[k])
    for label, names in (("added", added), ("removed", removed), ("changed", changed)):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            reasons.append(f"{label}: {shown}")
    return reasons
