"""Chunk bounds: runs of consecutive sentences with overlap."""

from __future__ import annotations

import pytest

from qa.index.chunking import Chunking


@pytest.mark.parametrize(
    ("n", "size", "overlap", "expected"),
    [
        (0, 3, 1, []),
        (1, 3, 1, [(0, 1)]),
        (5, 3, 1, [(0, 3), (2, 5)]),
        (6, 3, 1, [(0, 3), (2, 5), (4, 6)]),
        (4, 2, 0, [(0, 2), (2, 4)]),
    ],
)
def test_chunk_bounds(n: int, size: int, overlap: int, expected: list[tuple[int, int]]) -> None:
    assert Chunking(size, overlap).bounds(n) == expected
