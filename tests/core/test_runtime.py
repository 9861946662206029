"""Thread budgets: a process's share of the cores, and every native pool told its size."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from qa.core.runtime import limit_threads, resolve_threads


def test_threads_follow_the_cores_and_the_workers(monkeypatch) -> None:
    monkeypatch.setattr("qa.core.runtime.cores", lambda: 4)
    assert resolve_threads(0) == 4 and resolve_threads(0, workers=2) == 2
    assert resolve_threads(3, workers=2) == 3 and resolve_threads(0, workers=8) == 1
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "7")  # a user's own setting wins
    assert limit_threads(1) == 1
    import os

    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "7"


def test_faiss_and_an_already_loaded_torch_are_sized_directly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import faiss

    sized: dict[str, int] = {}
    monkeypatch.setattr(faiss, "omp_set_num_threads", lambda n: sized.__setitem__("faiss", n))
    fake_torch = SimpleNamespace(set_num_threads=lambda n: sized.__setitem__("torch", n))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setattr("qa.core.runtime.cores", lambda: 6)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert limit_threads(0) == 6
    assert sized == {"faiss": 6, "torch": 6}


def test_torch_is_never_imported_to_be_sized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    limit_threads(2)
    assert "torch" not in sys.modules
