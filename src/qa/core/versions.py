"""Installed versions of the libraries a result depends on, as recorded in manifests and reports."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """Each distribution's installed version, by name, in the order given; "absent" if missing."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
