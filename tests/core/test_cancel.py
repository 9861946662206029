"""Abandoning work between steps: a check set for a block, seen by the threads it starts."""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa.core.cancel import Abandoned, abandon_when, checkpoint


def test_checkpoint_is_silent_outside_any_block_and_under_none() -> None:
    checkpoint()
    with abandon_when(None):
        checkpoint()


def test_checkpoint_raises_once_the_check_is_true() -> None:
    given_up = threading.Event()
    with abandon_when(given_up.is_set):
        checkpoint()
        given_up.set()
        with pytest.raises(Abandoned, match="abandoned"):
            checkpoint()
    checkpoint()  # the block is over: the check no longer applies


def test_an_event_set_from_another_thread_stops_a_worker_at_its_next_step() -> None:
    given_up = threading.Event()
    started, steps = threading.Event(), []

    def work() -> None:
        for step in range(1000):
            checkpoint()
            steps.append(step)
            started.set()
            given_up.wait(0.001)

    with abandon_when(given_up.is_set), ThreadPoolExecutor(1) as pool:
        # A worker thread sees the check through a copy of the context (as anyio's do).
        future = pool.submit(contextvars.copy_context().run, work)
        assert started.wait(5)
        threading.Thread(target=given_up.set).start()
        with pytest.raises(Abandoned):
            future.result(timeout=5)
    assert 0 < len(steps) < 1000


def test_nested_blocks_restore_the_outer_check() -> None:
    with abandon_when(lambda: True):
        with abandon_when(None):
            checkpoint()
        with pytest.raises(Abandoned):
            checkpoint()
