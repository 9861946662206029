"""The build lock, held by real processes: one builder at a time, and never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from qa.index.lock import build_lock

HOLDER = """
import sys, time
from pathlib import Path
from qa.index.lock import build_lock

folder = Path(sys.argv[1])
with build_lock(folder):
    (folder / "held").touch()
    while not (folder / "release").exists():
        time.sleep(0.01)
    (folder / "released").touch()
"""


def hold(folder: Path) -> subprocess.Popen[bytes]:
    """A process holding the lock on `folder` until `folder/release` appears."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], env=env)
    deadline = time.monotonic() + 30
    while not (folder / "held").exists():
        assert process.poll() is None and time.monotonic() < deadline, "holder never took it"
        time.sleep(0.01)
    return process


def take_in_background(folder: Path) -> tuple[threading.Thread, threading.Event]:
    taken = threading.Event()

    def take() -> None:
        with build_lock(folder):
            taken.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread, taken


def test_a_second_builder_waits_until_the_first_releases(tmp_path: Path) -> None:
    folder = tmp_path / "index"  # the lock makes the folder
    holder = hold(folder)
    try:
        thread, taken = take_in_background(folder)
        assert not taken.wait(0.5)
        (folder / "release").touch()
        assert taken.wait(10)
        assert (folder / "released").exists()  # only after the holder's block was over
        thread.join(5)
    finally:
        (folder / "release").touch()
        holder.wait(10)


def test_a_builder_killed_while_holding_the_lock_leaves_it_free(tmp_path: Path) -> None:
    holder = hold(tmp_path)
    thread, taken = take_in_background(tmp_path)
    assert not taken.wait(0.3)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    assert taken.wait(10)
    thread.join(5)
