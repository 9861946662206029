"""Thread budgets, set on purpose so that native pools never oversubscribe the cores.

A process gets `threads` cores (0 = all it may run on). Work that runs per request (encoding one
question, one FAISS search, small NumPy products) uses one thread each, and the API admits at
most `threads` questions at once; bulk work (encoding an index build) spreads over `threads`.
OpenMP (FAISS), OpenBLAS/MKL (NumPy) and torch each keep their own pool, so each is told.
"""

from __future__ import annotations

import contextlib
import os
import sys

_POOLS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int, workers: int = 1) -> int:
    """`threads`, or this process's share of the cores when it is 0."""
    return threads if threads > 0 else max(1, cores() // max(1, workers))


def limit_threads(threads: int) -> int:
    """Size the native thread pools of this process to `threads` (0 = cores); return the size.

    The environment variables reach libraries loaded later (and child processes); FAISS and
    torch, when already loaded, are set directly. Variables the user set are left alone.
    """
    n = resolve_threads(threads)
    for name in _POOLS:
        os.environ.setdefault(name, str(n))
    with contextlib.suppress(ImportError):
        import faiss

        faiss.omp_set_num_threads(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    return n
