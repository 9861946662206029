"""Start-up: clear what an interrupted write left behind, then load the index (building it from
the seeds folder when it is missing or stale), and find which published index is current."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qa.corpus.seeds import clean_temp_files
from qa.index.chunking import Chunking
from qa.index.ensure import BuildReport, ensure_index
from qa.index.layout import CURRENT
from qa.index.lock import build_lock
from qa.index.manifest import has_manifest
from qa.index.model import Index
from qa.index.stores.registry import configured

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.embed.loader import ModelLoader


def prepare_index(
    settings: Settings,
    models: ModelLoader,
    *,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[Index, BuildReport]:
    """The index for `settings`, (re)built from the seeds folder when missing or stale."""
    recover(settings.seeds_dir, settings.index_dir, log)
    return ensure_index(
        settings.seeds_dir,
        settings.index_dir,
        models.get,
        models.weights_sha256,
        Chunking.from_settings(settings),
        batch_size=settings.batch_size,
        progress=progress,
        log=log,
        store=configured(settings),
    )


def current_version(index_dir: Path) -> str | None:
    """Name of the published index folder `current` points at, or None."""
    try:
        return os.readlink(index_dir / CURRENT)
    except OSError:
        return None


def recover(seeds_dir: Path, index_dir: Path, log: Callable[[str], None]) -> None:
    """Clear what an interrupted write or build left behind (a killed process's temp files)."""
    if not seeds_dir.is_dir():
        return  # ensure_index reports it
    if (index_dir / CURRENT).is_symlink() and not has_manifest(index_dir):
        log(f"the manifest of {index_dir / CURRENT} is missing or unreadable; rebuilding the index")
    with build_lock(index_dir):  # every writer holds it, so no temp file here is in use
        for path in clean_temp_files(seeds_dir):
            log(f"removed {path.name}, left by an interrupted write")
        for path in index_dir.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in index_dir.glob(".current-*"):
            path.unlink(missing_ok=True)
