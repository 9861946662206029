"""A seeded random workload over the write API: writers PUT and DELETE at once (each on its own
articles, so the order of one article's changes is known), a reader asks and checks every
citation, and the server is SIGKILLed at a random moment in each round and restarted.

Invariants, after every kill: every acknowledged write is in the seeds folder (the one in
flight at the kill may or may not be), nothing else is; the published index is exactly the
seeds folder, split as a fresh read splits it; every acknowledged article is answerable; and
the server starts again. During the rounds: every response is a success, and every citation is
a verbatim span of a version of its article that some client sent.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files, read_corpus
from qa.engine.engine import Engine
from qa.index.storage import load
from tests.conftest import SEEDS, FakeEmbedder
from tests.service.test_crash import TOKEN, start_server

SEED = 13
ROUNDS = 3
WRITERS = 3
ARTICLES_PER_WRITER = 3
LONG = (SEEDS / "000_d0ba9acb54cde4d3.txt").read_text(encoding="utf-8")


@dataclass
class Writer:
    """One client's articles: the last acknowledged text (None = deleted), the change in flight."""

    name: str
    acked: dict[str, str | None] = field(default_factory=dict)
    in_flight: tuple[str, str | None] | None = None
    acks: int = 0


def text_for(doc_id: str, version: int, rng: random.Random) -> str:
    token = f"zq{doc_id.replace('-', 'x')}v{version}"
    head = f"This report mentions {token} once. Version {version} of article {doc_id}.\n"
    return head + (LONG if rng.random() < 0.3 else "")  # some long ones, split concurrently


def write(
    url: str,
    writer: Writer,
    versions: dict[str, set[str]],
    rng: random.Random,
    errors: list[str],
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    version = 0
    with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
        while True:
            version += 1
            doc_id = f"{writer.name}-{rng.randrange(ARTICLES_PER_WRITER)}"
            present = writer.acked.get(doc_id) is not None
            text = None if present and rng.random() < 0.3 else text_for(doc_id, version, rng)
            if text is not None:  # known before it is sent: the reader may see it at once
                versions.setdefault(doc_id, set()).add(text)
            writer.in_flight = (doc_id, text)
            try:
                if text is None:
                    r = client.delete(f"/documents/{doc_id}")
                else:
                    r = client.put(f"/documents/{doc_id}", json={"text": text})
            except httpx.TransportError:
                return  # killed: the change in flight may or may not have happened
            if r.status_code not in (200, 201, 204):
                errors.append(f"{r.request.method} {doc_id}: {r.status_code} {r.text[:200]}")
                return
            writer.acked[doc_id] = text
            writer.in_flight = None
            writer.acks += 1


def ask(
    url: str,
    versions: dict[str, set[str]],
    rng: random.Random,
    errors: list[str],
    checked: list[int],
) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        while True:
            doc_id = rng.choice(sorted(versions))
            token = next(iter(versions[doc_id])).split()[3] if versions[doc_id] else "boats"
            try:
                r = client.post("/ask", json={"question": f"Which report mentions {token}?"})
            except httpx.TransportError:
                return
            if r.status_code != 200:
                errors.append(f"/ask: {r.status_code} {r.text[:200]}")
                return
            for c in r.json()["citations"]:
                texts = versions.get(c["doc_id"], set())
                if not any(t[c["start"] : c["end"]] == c["text"] for t in texts):
                    errors.append(f"citation of {c['doc_id']} is no span of any version: {c}")
                checked.append(1)
            time.sleep(0.02)  # a steady reader, not one that starves the writers of CPU


def check_recovered(settings: Settings, writers: list[Writer], initial: dict[str, str]) -> None:
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())  # what a restart does
    documents, problems = read_corpus(settings.seeds_dir)
    assert not problems
    stored = {d.doc_id: d.text for d in documents}
    expected: dict[str, str | None] = dict(initial)
    for writer in writers:
        if writer.in_flight is not None:  # happened or not: either is now the durable state
            doc_id, text = writer.in_flight
            assert stored.get(doc_id) in (writer.acked.get(doc_id), text), doc_id
            writer.acked[doc_id] = stored.get(doc_id)
            writer.in_flight = None
        expected |= writer.acked
    assert stored == {d: t for d, t in expected.items() if t is not None}
    index = load(settings.index_dir)
    assert index.manifest.sources == fingerprint_files(settings.seeds_dir)
    assert [(d.doc_id, d.sha256, d.sentences) for d in index.documents] == [
        (d.doc_id, d.sha256, d.sentences) for d in documents
    ]
    assert not [p.name for p in settings.seeds_dir.iterdir() if p.name.startswith(".")]
    assert not list(settings.index_dir.glob(".tmp-*"))
    for doc_id, text in stored.items():
        if doc_id in initial:
            continue
        answer = engine.ask(f"Which report mentions {text.split()[3]}?", 5)
        assert doc_id in {c.doc_id for c in answer.citations}, f"{doc_id} is not answerable"


def test_concurrent_writes_asks_and_kills_keep_every_invariant(settings: Settings) -> None:
    rng = random.Random(SEED)
    initial = {d.doc_id: d.text for d in read_corpus(settings.seeds_dir)[0]}
    writers = [Writer(f"w{i}") for i in range(WRITERS)]
    versions: dict[str, set[str]] = {d: {t} for d, t in initial.items()}
    started = time.monotonic()
    checked: list[int] = []
    for _ in range(ROUNDS):
        process, url = start_server(settings.seeds_dir, settings.index_dir)
        errors: list[str] = []
        try:
            threads = [
                threading.Thread(
                    target=write, args=(url, w, versions, random.Random(rng.random()), errors)
                )
                for w in writers
            ]
            reader = threading.Thread(
                target=ask, args=(url, versions, random.Random(rng.random()), errors, checked)
            )
            for thread in [*threads, reader]:
                thread.start()
            # Kill after a random number of acknowledged writes (not a fixed time, so a busy
            # machine still sees writes), a random moment into the next ones.
            target = sum(w.acks for w in writers) + rng.randint(2, 5)
            deadline = time.monotonic() + 20
            while sum(w.acks for w in writers) < target and not errors:
                assert time.monotonic() < deadline, "the writes made no progress"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(process.pid, signal.SIGKILL)
            for thread in [*threads, reader]:
                thread.join(timeout=30)
        finally:
            process.kill()
            process.wait()
            if process.stdout:
                process.stdout.close()
        assert errors == []
        check_recovered(settings, writers, initial)
    process, url = start_server(settings.seeds_dir, settings.index_dir)  # it starts again
    try:
        assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    finally:
        process.kill()
        process.wait()
        if process.stdout:
            process.stdout.close()
    acks = sum(w.acks for w in writers)
    print(f"\n{ROUNDS} kills, {acks} acknowledged writes, {len(checked)} citations checked")
    assert acks >= 2 * ROUNDS and checked, "too little happened to mean anything"
    assert time.monotonic() - started < 60
    assert Path(settings.index_dir / "current").is_symlink()
