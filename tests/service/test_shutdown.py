"""SIGTERM while a large upload is being embedded: the server stops within seconds (not once the
upload is indexed), and the seeds folder and the index agree afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files
from qa.engine.engine import Engine
from qa.service.app import SHUTDOWN_GRACE_SECONDS
from tests.conftest import FakeEmbedder
from tests.news_site import NewsSite
from tests.service.routes.test_articles_fetch import send_post, wait_for
from tests.service.test_crash import ROOT, TOKEN

DELAY = 0.05  # seconds per embedder call of 4 texts (QA_BATCH_SIZE=1)
SENTENCES = 1200  # 1,800 texts: 450 calls, over 20 s of embedding


def test_sigterm_during_a_long_upload_stops_the_server_within_seconds_and_leaves_it_consistent(
    settings: Settings,
) -> None:
    env = {**os.environ, "QA_TEST_EMBED_DELAY": str(DELAY), "QA_BATCH_SIZE": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.crash_server",
            str(settings.seeds_dir),
            str(settings.index_dir),
            TOKEN,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), "the server did not start"
        before = fingerprint_files(settings.seeds_dir)
        text = " ".join(f"Report {i} says {i} boats sailed on day {i}." for i in range(SENTENCES))
        outcome: list[object] = []

        def upload() -> None:
            try:
                r = httpx.put(
                    f"http://127.0.0.1:{port}/documents/big",
                    json={"text": text},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=120,
                )
                outcome.append(r.status_code)
            except httpx.HTTPError as err:
                outcome.append(err)

        client = threading.Thread(target=upload)
        client.start()
        time.sleep(1.5)  # the upload is being embedded
        assert not outcome, "the upload finished too soon to test anything"
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        process.wait(timeout=60)
        stopped_in = time.monotonic() - started
        client.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # Before: the server waited for the upload to be embedded and indexed (over 20 s).
    assert stopped_in < SHUTDOWN_GRACE_SECONDS + 4, f"stopped {stopped_in:.1f} s after SIGTERM"
    assert outcome == [400], outcome  # told the server stopped, with nothing changed
    assert fingerprint_files(settings.seeds_dir) == before  # abandoned with nothing changed
    engine, report = Engine.open(settings, embedder=FakeEmbedder())
    assert not report.built, report.reasons  # the index already matches the seeds folder
    assert "big" not in engine.index.doc_pos
    assert not list(Path(settings.seeds_dir).glob(".*.tmp"))


def test_sigterm_during_a_fetch_cuts_it_and_logs_the_request_as_400_without_a_traceback(
    settings: Settings, news_site: NewsSite
) -> None:
    # As docs/operations.md says: a request the server cancels as it stops is abandoned with
    # nothing changed, logged and counted as 400 (not a 500 with a traceback, nor nothing).
    env = {
        **os.environ,
        "QA_FETCH_ALLOW_PRIVATE": "true",
        "QA_FETCH_TIMEOUT": "120",  # far beyond the test: the fetch ends because it is cut
        "QA_TEST_LOG": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.crash_server",
            str(settings.seeds_dir),
            str(settings.index_dir),
            TOKEN,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), "the server did not start"
        before = fingerprint_files(settings.seeds_dir)
        client = send_post(f"http://127.0.0.1:{port}", {"url": news_site.url("/drip")}, TOKEN)
        assert wait_for(lambda: news_site.dripping() == 1, 20), "the fetch did not start"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    client.close()
    assert "Traceback" not in log, log
    requests = [
        json.loads(line.split(" ", 2)[2]) for line in log.splitlines() if "qa.access" in line
    ]
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/documents", 400)
    ], log
    assert "abandoned" in log
    assert wait_for(lambda: news_site.dripping() == 0, 10)  # the fetch was cut, not left running
    assert fingerprint_files(settings.seeds_dir) == before
