"""The engine: questions, writes, removals and refreshes on a temporary seeds folder, with the
fake embedder (milliseconds each)."""

from __future__ import annotations

import pytest

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files
from qa.corpus.seeds import ArticleFile, article_from_text
from qa.embed.loader import ModelLoader
from qa.engine.engine import Engine
from qa.engine.startup import prepare_index
from qa.engine.updates import DocIdTaken, IndexUpdateFailed
from qa.index.layout import CURRENT
from qa.index.storage import load
from tests.conftest import FakeEmbedder
from tests.corpus.test_seeds import assert_consistent

MB = 1024 * 1024


def text_article(doc_id: str, text: str) -> ArticleFile:
    return article_from_text(text, doc_id=doc_id, title=None, max_bytes=MB)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return Engine.open(settings, embedder=FakeEmbedder())[0]


def test_write_embeds_only_the_new_article(engine: Engine, settings: Settings) -> None:
    embedder = engine.embedder
    assert isinstance(embedder, FakeEmbedder)
    before = embedder.texts
    (outcome,) = engine.write([text_article("zebra", "Zebras crossed the road in Nairobi.")])
    assert outcome.change == "created"
    assert embedder.texts - before == 2  # one sentence and one chunk
    assert "zebra" in engine.index.doc_pos
    assert engine.ask("Where did zebras cross the road?").citations[0].doc_id == "zebra"
    assert_consistent(settings)
    assert engine.state.version == (settings.index_dir / CURRENT).readlink().name


def test_rewrite_of_same_bytes_is_unchanged_and_publishes_nothing(engine: Engine) -> None:
    version = engine.state.version
    (outcome,) = engine.write([text_article("quad", (engine.index.documents[1].text))])
    assert outcome.change == "unchanged" and engine.state.version == version


def test_create_only_refuses_an_existing_doc_id(engine: Engine, settings: Settings) -> None:
    before = fingerprint_files(settings.seeds_dir)
    with pytest.raises(DocIdTaken, match="PUT /documents/quad"):
        engine.write([text_article("quad", "Other text.")], create_only=True)
    assert fingerprint_files(settings.seeds_dir) == before


def test_remove(engine: Engine, settings: Settings) -> None:
    outcomes = engine.remove(["quad", "nope"])
    assert [o.change for o in outcomes] == ["removed", "missing"]
    assert list(engine.index.doc_pos) == ["chips"]
    assert not (settings.seeds_dir / "quad.txt").exists()
    assert_consistent(settings)


def test_failed_index_update_keeps_the_article_and_serves_the_old_index(
    engine: Engine, settings: Settings, monkeypatch
) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr("qa.engine.updates.publish", boom)
    with pytest.raises(IndexUpdateFailed, match="no space left"):
        engine.write([text_article("kept", "This article is kept.")])
    assert "kept" not in engine.index.doc_pos
    assert (settings.seeds_dir / "kept.txt").exists()
    monkeypatch.undo()
    # The next start-up (or write) indexes it.
    index, report = prepare_index(settings, _models(engine))
    assert report.built and "kept" in index.doc_pos


def test_refresh_picks_up_files_changed_by_hand(engine: Engine, settings: Settings) -> None:
    (settings.seeds_dir / "hand.txt").write_text("Placed here by hand.")
    assert engine.refresh()
    assert "hand" in engine.index.doc_pos
    assert not engine.refresh()
    assert_consistent(settings)


def test_follow_serves_what_another_process_published(settings: Settings) -> None:
    server = Engine.open(settings, embedder=FakeEmbedder())[0]
    other = Engine.open(settings, embedder=FakeEmbedder())[0]  # e.g. `qa add` beside a server
    other.write([text_article("elsewhere", "Published by another process.")])
    assert "elsewhere" not in server.index.doc_pos
    assert server.follow()
    assert "elsewhere" in server.index.doc_pos
    assert not server.follow()


def test_follow_rebuilds_a_corrupt_published_index(settings: Settings) -> None:
    server = Engine.open(settings, embedder=FakeEmbedder())[0]
    other = Engine.open(settings, embedder=FakeEmbedder())[0]
    other.write([text_article("elsewhere", "Published by another process.")])
    vectors = settings.index_dir / CURRENT / "sentence_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-7])
    messages: list[str] = []
    assert server.follow(log=messages.append)
    assert "not usable" in messages[0]
    assert "elsewhere" in server.index.doc_pos
    assert load(settings.index_dir).sentence_count == server.index.sentence_count
    assert_consistent(settings)


def _models(engine: Engine) -> ModelLoader:
    return ModelLoader(engine.settings, engine.embedder)


def test_open_ask_write_delete_refresh(settings: Settings) -> None:
    engine, report = Engine.open(settings, embedder=FakeEmbedder())
    assert report.built and sorted(engine.index.doc_pos) == ["chips", "quad"]
    answer = engine.ask("Who welcomed the plan?")
    assert answer.text == "Prime Minister Shigeru Ishiba welcomed the plan."
    assert answer.citations[0].doc_id == "quad"

    question = "Which animals crossed the road in Nairobi?"
    (written,) = engine.write([text_article("zebra", "Zebras crossed the road in Nairobi.")])
    assert written.change == "created" and written.document is not None
    assert engine.ask(question).citations[0].doc_id == "zebra"

    (removed,) = engine.remove(["zebra"])
    assert removed.change == "removed"
    assert "zebra" not in engine.index.doc_pos
    assert all(c.doc_id != "zebra" for c in engine.ask(question).citations)
    assert not engine.refresh()  # the seeds folder and the index agree
    assert engine.reloads == 2  # one swap per write
    assert_consistent(settings)


def test_a_question_in_flight_keeps_the_state_it_started_with(settings: Settings) -> None:
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    before = engine.state
    engine.write([text_article("zebra", "Zebras crossed the road in Nairobi.")])
    assert engine.state is not before and "zebra" not in before.index.doc_pos
    assert before.answerer.ask("Who welcomed the plan?", 3, None).citations


def test_the_abstain_threshold_setting_overrides_the_ranker(settings: Settings) -> None:
    engine, _ = Engine.open(
        settings.model_copy(update={"abstain_threshold": 0.99}), embedder=FakeEmbedder()
    )
    assert engine.abstain_threshold == 0.99
