"""Embedding in bounded groups, resuming an interrupted build from its checkpoints, progress."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.corpus.documents import Document, read_corpus
from qa.embed.model import ModelInfo
from qa.index.build import build
from qa.index.checkpoints import RESUME_DIR
from qa.index.chunking import Chunking
from qa.index.embed_corpus import article_texts
from qa.index.ensure import ensure_index
from qa.index.model import Index
from tests.conftest import FakeEmbedder

CHUNKING = Chunking()
GROUP = 6  # texts per group: two or three of the small articles below


class Interrupted(RuntimeError):
    pass


class FailingEmbedder(FakeEmbedder):
    """Embeds `calls_before_failing` calls, then fails as a Ctrl-C or crash would."""

    def __init__(self, calls_before_failing: int) -> None:
        super().__init__()
        self.left = calls_before_failing

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False):
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        return super().encode(texts, batch_size=batch_size, progress=progress)


class RecordingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.seen: list[str] = []

    def encode(self, texts: list[str], *, batch_size: int = 64, progress: bool = False):
        self.sizes.append(len(texts))
        self.seen += texts
        return super().encode(texts, batch_size=batch_size, progress=progress)


class OtherModel(FakeEmbedder):
    @property
    def fingerprint(self) -> ModelInfo:
        return ModelInfo("other", "other", "e" * 64, self.dim)


@pytest.fixture
def many(tmp_path: Path) -> Path:
    """Twelve articles of one or two sentences (2 or 3 texts each), one of eight sentences."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        second = f" The board of item {i} met again on day {i + 3}." if i % 2 else ""
        text = f"Report number {i} says {i * 7} ships sailed.{second}"
        (folder / f"a{i:02d}.txt").write_text(text)
    long = " ".join(f"Long sentence {k} is about lakes." for k in range(8))
    (folder / "long.txt").write_text(long)
    return folder


def docs(folder: Path) -> list[Document]:
    documents, problems = read_corpus(folder)
    assert not problems
    return documents


def texts_of(documents: list[Document]) -> int:
    return sum(len(d.sentences) + len(CHUNKING.bounds(len(d.sentences))) for d in documents)


def build_resumable(documents: list[Document], embedder: FakeEmbedder, resume: Path) -> Index:
    return build(
        documents, embedder, CHUNKING, resume_dir=resume, group_texts=GROUP, batch_size=1000
    )


def assert_same_vectors(index: Index, clean: Index) -> None:
    assert np.array_equal(index.sentence_vectors, clean.sentence_vectors)
    assert np.array_equal(index.chunk_vectors, clean.chunk_vectors)


def parts(resume: Path) -> list[Path]:
    return sorted(resume.glob("*/part-*.npz"))


def test_interrupted_build_resumes_without_re_embedding(many: Path, tmp_path: Path) -> None:
    documents = docs(many)
    clean = build(documents, FakeEmbedder(), CHUNKING)
    resume = tmp_path / "resume"
    failing = FailingEmbedder(calls_before_failing=2)
    with pytest.raises(Interrupted):
        build_resumable(documents, failing, resume)
    assert len(parts(resume)) == 2 and failing.texts > 0

    counting = FakeEmbedder()
    index = build_resumable(documents, counting, resume)
    assert counting.texts == texts_of(documents) - failing.texts > 0
    assert index.manifest.counts.embedded == counting.texts
    assert index.manifest.embedding.resumed_articles > 0
    assert_same_vectors(index, clean)


def test_changed_article_in_checkpoint_is_embedded_again(many: Path, tmp_path: Path) -> None:
    resume = tmp_path / "resume"
    build_resumable(docs(many), FakeEmbedder(), resume)  # every article checkpointed
    (many / "a03.txt").write_text("Report number three was corrected. Nine ships sailed.")
    edited = docs(many)
    counting = RecordingEmbedder()
    index = build_resumable(edited, counting, resume)
    changed = next(d for d in edited if d.doc_id == "a03")
    assert sorted(counting.seen) == sorted(
        t for part in article_texts(changed, CHUNKING) for t in part
    )
    assert_same_vectors(index, build(edited, FakeEmbedder(), CHUNKING))


def test_unreadable_or_foreign_checkpoints_are_ignored(many: Path, tmp_path: Path) -> None:
    documents = docs(many)
    resume = tmp_path / "resume"
    build_resumable(documents, FakeEmbedder(), resume)
    first, second, *_ = parts(resume)
    with np.load(first) as data:
        lost = int(data["sentence_counts"].sum() + data["chunk_counts"].sum())
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # truncated
    (first.parent / "part-000099.npz").write_bytes(b"not a zip file at all")
    # A part of another model, copied under this model's folder: its own record says so.
    other = tmp_path / "other"
    build_resumable(documents, OtherModel(), other)
    shutil.copy(parts(other)[1], first.parent / "part-000098.npz")
    with np.load(second) as data:
        lost_too = int(data["sentence_counts"].sum() + data["chunk_counts"].sum())
    second.unlink()  # the copied part holds the same articles, which must not be taken from it

    messages: list[str] = []
    counting = FakeEmbedder()
    index = build(
        documents,
        counting,
        CHUNKING,
        resume_dir=resume,
        group_texts=GROUP,
        batch_size=1000,
        log=messages.append,
    )
    assert counting.texts == lost + lost_too
    assert index.manifest.embedding.bad_checkpoints == 3
    assert any("ignored 3" in m for m in messages)
    assert_same_vectors(index, build(documents, FakeEmbedder(), CHUNKING))


def test_other_model_never_reuses_checkpoints(many: Path, tmp_path: Path) -> None:
    documents = docs(many)
    resume = tmp_path / "resume"
    build_resumable(documents, FakeEmbedder(), resume)
    other = OtherModel()
    build_resumable(documents, other, resume)
    assert other.texts == texts_of(documents)


def test_checkpoints_are_kept_until_the_index_is_published(
    seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    first = FakeEmbedder()

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("qa.index.ensure.publish", fail)
        with pytest.raises(OSError, match="disk full"):
            ensure_index(seeds_dir, index_dir, lambda: first, "f" * 64, CHUNKING)
    assert first.texts > 0 and parts(index_dir / RESUME_DIR)

    second = FakeEmbedder()
    index, report = ensure_index(seeds_dir, index_dir, lambda: second, "f" * 64, CHUNKING)
    assert report.built and second.texts == 0
    assert index.manifest.embedding.resumed_articles == 2
    assert not (index_dir / RESUME_DIR).exists()


def test_groups_bound_what_the_embedder_receives(many: Path, tmp_path: Path) -> None:
    documents = docs(many)
    resume = tmp_path / "resume"
    recording = RecordingEmbedder()
    build_resumable(documents, recording, resume)
    assert max(recording.sizes) == GROUP  # batch_size 1000 allows more; the group does not
    assert sum(recording.sizes) == texts_of(documents)
    for part in parts(resume):
        with np.load(part) as data:
            texts = int(data["sentence_counts"].sum() + data["chunk_counts"].sum())
            assert texts <= GROUP or len(data["doc_ids"]) == 1  # an article above it goes alone
    small_batches = RecordingEmbedder()
    build(documents, small_batches, CHUNKING, group_texts=1000, batch_size=1)
    assert max(small_batches.sizes) == 4  # four batches per call, as the ONNX encoder wants


def test_progress_counts_articles_and_sentences(
    many: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(docs(many), FakeEmbedder(), CHUNKING, group_texts=GROUP, progress=True)
    shown = capsys.readouterr().err
    assert "13/13" in shown and "article/s" in shown and "sentences/s" in shown


def missplit(doc: Document) -> Document:
    """`doc` as a split gone wrong makes it: same file (same sha256), its first two sentences
    run together, so one sentence fewer."""
    first, second, *rest = doc.sentences
    merged = type(first)(first.start, second.end, first.paragraph)
    return replace(doc, sentences=(merged, *rest))


def test_vectors_of_a_previous_split_with_another_sentence_count_are_re_embedded_not_a_crash(
    many: Path,
) -> None:
    documents = docs(many)
    wrong = [missplit(d) if d.doc_id == "long" else d for d in documents]
    previous = build(wrong, FakeEmbedder(), CHUNKING)
    counting = RecordingEmbedder()
    index = build(documents, counting, CHUNKING, previous=previous)
    long = next(d for d in documents if d.doc_id == "long")
    assert sorted(counting.seen) == sorted(
        t for part in article_texts(long, CHUNKING) for t in part
    )
    assert index.manifest.embedding.reused_articles == len(documents) - 1
    assert_same_vectors(index, build(documents, FakeEmbedder(), CHUNKING))


def test_vectors_of_a_previous_split_with_the_same_count_but_other_texts_are_re_embedded(
    many: Path,
) -> None:
    documents = docs(many)
    long = next(d for d in documents if d.doc_id == "long")
    first, second, *rest = long.sentences
    # Same number of sentences, boundary moved by one word: only a hash of the texts tells.
    moved = replace(
        long,
        sentences=(
            replace(first, end=first.end + 5),
            replace(second, start=second.start + 5),
            *rest,
        ),
    )
    previous = build([moved if d is long else d for d in documents], FakeEmbedder(), CHUNKING)
    counting = RecordingEmbedder()
    index = build(documents, counting, CHUNKING, previous=previous)
    assert counting.texts == sum(len(part) for part in article_texts(long, CHUNKING))
    assert_same_vectors(index, build(documents, FakeEmbedder(), CHUNKING))
