"""Metadata caps at the HTTP edge: front matter over a cap is a 422 that writes nothing, and a
seeds folder written by hand with a 4.4 MB title still serves answers of a few kilobytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files
from tests.service.conftest import make_client
from tests.service.routes.test_articles import AUTH, TOKEN, ZEBRA


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "T" * 301), ("url", "javascript:alert(1)"), ("author", "A" * 201)],
)
def test_front_matter_over_a_cap_is_422_and_writes_nothing(
    settings: Settings, field: str, value: str
) -> None:
    text = f"---\n{field}: {value}\n---\n{ZEBRA}\n"
    before = fingerprint_files(settings.seeds_dir)
    with make_client(settings, api_token=TOKEN) as c:
        sent = c.post("/documents", json={"doc_id": "zebra", "text": text}, headers=AUTH)
        upload = c.post("/documents", files={"file": ("zebra.md", text.encode())}, headers=AUTH)
    for r in (sent, upload):
        assert r.status_code == 422, r.text
        assert field in r.json()["error"]
    assert fingerprint_files(settings.seeds_dir) == before


def test_a_huge_hand_written_title_leaves_answers_small(settings: Settings) -> None:
    title = "Zebra " * 730_000  # 4.4 MB
    path = Path(settings.seeds_dir) / "zebra.md"
    path.write_text(f"---\ntitle: {title}\n---\n{ZEBRA}\n", encoding="utf-8")
    with make_client(settings) as c:
        r = c.post("/ask", json={"question": "How many zebras crossed?", "top_k": 20})
        listed = c.get("/documents")
    assert r.status_code == 200, r.text[:300]
    assert any(cite["doc_id"] == "zebra" for cite in r.json()["citations"])
    assert len(r.content) < 64 * 1024  # 88 MB before the cap
    assert len(listed.content) < 64 * 1024
