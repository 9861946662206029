"""The load generator's percentiles, and its refusal to load anything but loopback."""

from __future__ import annotations

import numpy as np
import pytest

from qa.bench.loadgen import percentile, require_loopback


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert np.isnan(percentile([], 50))


def test_only_loopback_is_loaded() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        require_loopback(host)
    for host in ("10.0.0.1", "192.168.1.1", "8.8.8.8", "example.com"):
        with pytest.raises(SystemExit):
            require_loopback(host)
