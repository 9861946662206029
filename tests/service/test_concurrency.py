"""8 clients ask without pause while another adds, replaces and deletes 20 articles over HTTP:
no errors, no reader crashes, every citation matches the version of its article current when
the question was asked (or a later one), and in the end the index is exactly the seeds folder."""

from __future__ import annotations

import threading
import time

import httpx

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files, read_corpus
from qa.engine.engine import Engine
from qa.index.storage import load
from tests.conftest import FakeEmbedder, serve_app

TOKEN = "concurrency-token-0123456789"
ASKERS = 8
ARTICLES = 20
QUESTIONS = [
    "Who welcomed the plan?",
    "Where will semiconductor factories open?",
    "Which report mentions the harbour?",
    "What did the council decide about the bridge?",
    "How many people came?",
]


def article(i: int, version: int) -> str:
    return (
        f"Report {i} revision {version} mentions the harbour token hq{i}r{version}.\n"
        f"The council decided about the bridge in district {i}. About {100 * i + version} "
        "people came.\n"
    )


def test_readers_never_fail_or_see_a_stale_version_while_articles_change(
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"api_token": TOKEN, "reload_interval": 0})
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    # Every version of every article in write order (None = deleted), and the position of the
    # latest one whose write was acknowledged. A reader notes those positions before it asks:
    # each citation must match that version or a later one (a write in flight may be served
    # already), never an older one, and never a version deleted before it asked.
    history: dict[str, list[str | None]] = {d.doc_id: [d.text] for d in engine.index.documents}
    acked: dict[str, int] = dict.fromkeys(history, 0)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []
    latencies: list[float] = []

    def check(citations: list[dict], floor: dict[str, int]) -> None:
        for c in citations:
            with lock:
                versions = list(history.get(c["doc_id"], []))[floor.get(c["doc_id"], 0) :]
            if not any(v is not None and v[c["start"] : c["end"]] == c["text"] for v in versions):
                errors.append(f"citation matches no current or later version: {c}")

    def ask(url: str, n: int) -> None:
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                i = n
                while not stop.is_set():
                    question = QUESTIONS[i % len(QUESTIONS)]
                    i += 1
                    with lock:
                        floor = dict(acked)
                    started = time.perf_counter()
                    r = client.post("/ask", json={"question": question, "top_k": 5})
                    latencies.append(time.perf_counter() - started)
                    if r.status_code != 200:
                        errors.append(f"{question}: {r.status_code} {r.text}")
                        continue
                    check(r.json()["citations"], floor)
        except BaseException as err:  # a reader that dies fails the test, not just warns
            errors.append(f"reader {n} crashed: {err!r}")

    def write(client: httpx.Client, method: str, doc_id: str, text: str | None) -> None:
        with lock:  # known before it can be served
            history.setdefault(doc_id, []).append(text)
            position = len(history[doc_id]) - 1
        kwargs = {"json": {"text": text}} if text is not None else {}
        r = client.request(method, f"/documents/{doc_id}", **kwargs)
        assert r.status_code in (200, 201, 204), r.text
        with lock:
            acked[doc_id] = position
        if text is not None:  # answerable as soon as the call returns
            token = text.split()[8].rstrip(".")
            cited = client.post("/ask", json={"question": f"Which mentions {token}?", "top_k": 5})
            assert doc_id in {c["doc_id"] for c in cited.json()["citations"]}, token

    with serve_app(settings, engine) as url:
        askers = [threading.Thread(target=ask, args=(url, n), daemon=True) for n in range(ASKERS)]
        for thread in askers:
            thread.start()
        started = time.perf_counter()
        auth = {"Authorization": f"Bearer {TOKEN}"}
        try:
            with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
                for i in range(ARTICLES):
                    write(client, "PUT", f"news-{i}", article(i, 0))
                for i in range(0, ARTICLES, 2):
                    write(client, "PUT", f"news-{i}", article(i, 1))
                for i in range(1, ARTICLES, 2):
                    write(client, "DELETE", f"news-{i}", None)
            writing = time.perf_counter() - started
            time.sleep(0.2)
        finally:
            stop.set()
            for thread in askers:
                thread.join(30)
        assert not [t for t in askers if t.is_alive()], "a reader hung"
        listed = {d["doc_id"] for d in httpx.get(f"{url}/documents").json()}

    assert not errors, errors[:5]
    assert len(latencies) > ASKERS * 5
    expected = {"chips", "quad"} | {f"news-{i}" for i in range(0, ARTICLES, 2)}
    assert listed == expected
    index = load(settings.index_dir)
    assert index.manifest.sources == fingerprint_files(settings.seeds_dir)
    documents, _ = read_corpus(settings.seeds_dir)
    assert [(d.doc_id, d.sha256) for d in index.documents] == [
        (d.doc_id, d.sha256) for d in documents
    ]
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"\n{3 * ARTICLES // 2 + ARTICLES // 2} writes in {writing:.1f} s; "
        f"{len(latencies)} questions, p99 {p99 * 1000:.0f} ms"
    )


def test_six_concurrent_puts_of_a_42_sentence_article_all_split_it_right_and_it_rebuilds(
    settings: Settings,
) -> None:
    from tests.corpus.test_documents import forty_two_sentences

    settings = settings.model_copy(update={"api_token": TOKEN, "reload_interval": 0})
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    text = forty_two_sentences()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    counts: list[int] = []
    start = threading.Barrier(6)

    def put(i: int) -> None:
        with httpx.Client(base_url=url, headers=auth, timeout=60) as client:
            start.wait()
            for round_ in range(3):
                r = client.put(f"/documents/long{i % 3}", json={"text": f"{text}Round {round_}."})
                assert r.status_code in (200, 201), r.text
                counts.append(r.json()["sentences"])

    with serve_app(settings, engine) as url:
        threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert counts == [43] * 18  # 42 and "Round n."
    # A fresh start re-reads and re-splits the seeds folder: it must agree, not crash.
    reopened, report = Engine.open(settings, embedder=FakeEmbedder())
    assert not report.built, report.reasons
    fresh, _ = read_corpus(settings.seeds_dir)
    assert [d.sentences for d in reopened.index.documents] == [d.sentences for d in fresh]
