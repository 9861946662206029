"""What the reader's relevance head reads of a pair (kept apart from the torch model, so the
command line can offer the choices without importing torch)."""

from __future__ import annotations

from enum import StrEnum


class Pooling(StrEnum):
    CLS = "cls"  # the [CLS] vector (the shipped reader)
    MEAN = "mean"  # the mean of the pair's token vectors, as all-MiniLM-L6-v2 was trained to pool
