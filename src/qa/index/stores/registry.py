"""The store backends by name: the only place that lists them.

A new backend is one module under `qa.index.stores` with a class implementing
`base.StoreBackend`, and one line in `BACKENDS` ("module:Class", imported when first used, so
no backend's code loads unless it is used). `QA_STORE` and the manifest's store record name the
backend.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from qa.index.errors import IndexUnavailable

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.index.stores.base import StoreBackend

BACKENDS: dict[str, str] = {
    "faiss": "qa.index.stores.faiss:FaissBackend",
    "milvus": "qa.index.stores.milvus:MilvusBackend",
}
DEFAULT = "faiss"


def backend_class(name: str) -> type[StoreBackend]:
    """The backend class registered as `name`; IndexUnavailable if there is none."""
    target = BACKENDS.get(name)
    if target is None:
        known = ", ".join(sorted(BACKENDS))
        raise IndexUnavailable(f"unknown store backend {name!r} (known: {known}); rebuild it")
    module, _, attribute = target.partition(":")
    return cast("type[StoreBackend]", getattr(importlib.import_module(module), attribute))


def configured(settings: Settings) -> StoreBackend:
    """The backend `QA_STORE` names, configured from `settings`."""
    return backend_class(settings.store).from_settings(settings)


def default() -> StoreBackend:
    """The backend used when none is configured."""
    return backend_class(DEFAULT).from_record({"backend": DEFAULT})


def for_record(record: Mapping[str, Any], configured: StoreBackend | None) -> StoreBackend:
    """The backend to open an index whose manifest has store `record`: `configured` if it is
    the same backend, else one made from the record (e.g. reconnecting to its URI)."""
    name = str(record["backend"])
    if configured is not None and configured.name == name:
        return configured
    return backend_class(name).from_record(record)
