"""End to end: the real model, a real index built from seeds/ in a temp dir, over HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import SEEDS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Iterator[TestClient]:
    settings = Settings(seeds_dir=SEEDS, index_dir=tmp_path_factory.mktemp("e2e") / "index")
    engine, report = Engine.open(settings, embedder=real_embedder)
    assert report.built
    with TestClient(create_app(settings, engine)) as c:
        yield c


def verify_citations(client: TestClient, body: dict) -> None:
    for c in body["citations"]:
        doc = client.get(f"/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"] : c["end"]] == c["text"]
    if body["answer"] is not None:
        first = body["citations"][0]
        doc = client.get(f"/documents/{first['doc_id']}").json()
        assert body["answer"] in doc["text"]
        assert first["text"] == body["answer"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the Prime Minister of Japan?", "Shigeru Ishiba"),
        ("Who will host the next Quad summit?", "to be hosted by India"),
        ("When did the two ministries sign the chip agreement?", "July 2023"),
        ("Have the ministries met since then?", "They have held regular meetings since then."),
    ],
)
def test_answers_are_right_and_verifiable(client: TestClient, question: str, expected: str) -> None:
    body = client.post("/ask", json={"question": question}).json()
    assert body["answer"] is not None, body
    assert expected in body["answer"]
    verify_citations(client, body)


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "How do I bake sourdough bread?",
        "Who won the 2018 World Cup?",
    ],
)
def test_off_topic_questions_abstain(client: TestClient, question: str) -> None:
    body = client.post("/ask", json={"question": question, "top_k": 5}).json()
    assert body["answer"] is None
    verify_citations(client, body)


def test_every_sentence_of_every_document_has_exact_offsets(client: TestClient) -> None:
    """Each served span is one sentence of the file: pysbd's split of its line, stripped, at
    exactly `text[start:end]`, in order, never overlapping, and together they cover every word
    of the prose (headings aside)."""
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    seed_texts = {p.stem: p.read_text(encoding="utf-8-sig") for p in SEEDS.iterdir()}
    summaries = client.get("/documents").json()
    assert {s["doc_id"] for s in summaries} == set(seed_texts)
    for summary in summaries:
        doc = client.get(f"/documents/{summary['doc_id']}").json()
        text = doc["text"]
        assert text == seed_texts[summary["doc_id"]]
        spans = doc["sentences"]
        assert len(spans) == summary["sentences"] > 0
        assert [s["index"] for s in spans] == list(range(len(spans)))
        expected = [
            piece.strip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
            for piece in segmenter.segment(line)
            if piece.strip()
        ]
        assert [text[s["start"] : s["end"]] for s in spans] == expected
        previous_end = 0
        for s in spans:
            assert previous_end <= s["start"] < s["end"]
            previous_end = s["end"]
        covered = set().union(*(range(s["start"], s["end"]) for s in spans))
        prose = [
            i
            for line in re.finditer(r"[^\n]+", text)
            if not line.group().lstrip().startswith("#")
            for i in range(line.start(), line.end())
            if not text[i].isspace()
        ]
        assert set(prose) <= covered


def test_cli_ask_json_matches_the_api(tmp_path: Path) -> None:
    """`qa ask --json` prints what POST /ask returns for the same index: every field but the
    timing is equal."""
    from typer.testing import CliRunner

    from qa.cli import app

    index = tmp_path / "index"
    question = "Who is Japan's PM?"
    result = CliRunner().invoke(
        app, ["ask", "--seeds", str(SEEDS), "--index", str(index), "--json", question]
    )
    assert result.exit_code == 0, result.output
    cli_body = json.loads(result.stdout.strip().splitlines()[-1])
    # The service on the index the CLI built, with the same (default) encoder.
    settings = Settings(seeds_dir=SEEDS, index_dir=index)
    engine, report = Engine.open(settings)
    assert not report.built
    with TestClient(create_app(settings, engine)) as api:
        api_body = api.post("/ask", json={"question": question}).json()
    fields = {"question", "answer", "confidence", "citations", "answer_span", "took_ms"}
    fields.add("interpreted_as")
    assert set(cli_body) == set(api_body) == fields
    assert cli_body["citations"], cli_body
    assert {k: v for k, v in cli_body.items() if k != "took_ms"} == {
        k: v for k, v in api_body.items() if k != "took_ms"
    }
    again = CliRunner().invoke(app, ["index", "--seeds", str(SEEDS), "--index", str(index)])
    assert again.exit_code == 0 and "nothing to do" in again.stdout
