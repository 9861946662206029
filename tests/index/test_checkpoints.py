"""Checkpoints of a build in progress: written durably, read back exactly, and a part that is
torn, foreign or inconsistent skipped and counted, never trusted."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.embed.model import ModelInfo
from qa.index.checkpoints import Checkpoints, discard_checkpoints
from qa.index.chunking import Chunking

MODEL = ModelInfo("fake", "fake", "f" * 64, 4)
CHUNKING = Chunking(3, 1)


def open_checkpoints(resume: Path, model: ModelInfo = MODEL, chunking: Chunking = CHUNKING):
    messages: list[str] = []
    return Checkpoints(resume, model, chunking, messages.append), messages


def group(seed: int, counts: list[tuple[int, int]]):
    """Articles (doc_id, texts_key) and their vectors: sentences then chunks, article by article."""
    rng = np.random.default_rng(seed)
    articles = [(f"doc{seed}-{i}", f"key{seed}-{i}") for i in range(len(counts))]
    vectors = rng.normal(size=(sum(s + c for s, c in counts), 4)).astype(np.float32)
    sentence_counts = np.array([s for s, _ in counts], dtype=np.int64)
    chunk_counts = np.array([c for _, c in counts], dtype=np.int64)
    return articles, vectors, sentence_counts, chunk_counts


def write_two_parts(resume: Path) -> Checkpoints:
    checkpoints, _ = open_checkpoints(resume)
    checkpoints.write(*group(1, [(2, 1), (3, 2)]))
    checkpoints.write(*group(2, [(1, 1)]))
    return checkpoints


def test_what_is_written_is_read_back_exactly(tmp_path: Path) -> None:
    checkpoints = write_two_parts(tmp_path)
    assert sorted(p.name for p in checkpoints.folder.iterdir()) == [
        "part-000001.npz",
        "part-000002.npz",
    ]
    read = list(open_checkpoints(tmp_path)[0].read())
    articles, vectors, _, _ = group(1, [(2, 1), (3, 2)])
    assert [(doc_id, key) for doc_id, key, _, _ in read] == [*articles, ("doc2-0", "key2-0")]
    (_, _, s0, c0), (_, _, s1, c1), (_, _, s2, c2) = read
    assert np.array_equal(s0, vectors[0:2]) and np.array_equal(c0, vectors[2:3])
    assert np.array_equal(s1, vectors[3:6]) and np.array_equal(c1, vectors[6:8])
    assert s2.shape == (1, 4) and c2.shape == (1, 4)


def test_a_resumed_build_numbers_its_parts_after_the_last_one(tmp_path: Path) -> None:
    write_two_parts(tmp_path)
    again, _ = open_checkpoints(tmp_path)
    list(again.read())
    again.write(*group(3, [(1, 1)]))
    assert (again.folder / "part-000003.npz").exists()


def test_torn_garbage_and_inconsistent_parts_are_skipped_and_counted(tmp_path: Path) -> None:
    checkpoints = write_two_parts(tmp_path)
    folder = checkpoints.folder
    first = folder / "part-000001.npz"
    shutil.copy(first, folder / "part-000007.npz")
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # torn
    (folder / "part-000005.npz").write_bytes(b"not a zip file at all")
    with np.load(folder / "part-000002.npz") as data:
        fields = {name: data[name] for name in data.files}
    fields["sentence_counts"] = np.array([5], dtype=np.int64)  # says more than it holds
    np.savez(folder / "part-000006.npz", **fields)
    fresh, _ = open_checkpoints(tmp_path)
    read = list(fresh.read())
    # Only part 2 and the intact copy of part 1 (as part 7) are trusted.
    assert [doc_id for doc_id, *_ in read] == ["doc2-0", "doc1-0", "doc1-1"]
    assert fresh.bad == 3
    assert fresh.next_part == 8


@pytest.mark.parametrize(
    ("model", "chunking"),
    [
        (ModelInfo("other", "other", "e" * 64, 4), CHUNKING),
        (MODEL, Chunking(4, 1)),
    ],
)
def test_a_part_made_by_another_model_or_chunking_is_not_taken(
    tmp_path: Path, model: ModelInfo, chunking: Chunking
) -> None:
    mine = write_two_parts(tmp_path)
    theirs, _ = open_checkpoints(tmp_path, model, chunking)
    theirs.folder.mkdir(parents=True, exist_ok=True)
    for part in mine.folder.iterdir():  # copied under the other folder: the record still says
        shutil.copy(part, theirs.folder / part.name)
    assert list(theirs.read()) == [] and theirs.bad == 2


def test_a_write_cut_short_is_removed_when_read(tmp_path: Path) -> None:
    checkpoints = write_two_parts(tmp_path)
    leftover = checkpoints.folder / ".part-000003.npz.123.tmp"
    leftover.write_bytes(b"half")
    fresh, _ = open_checkpoints(tmp_path)
    assert len(list(fresh.read())) == 3 and fresh.bad == 0
    assert not leftover.exists()


def test_a_full_disk_turns_checkpoints_off_and_the_build_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(handle: object, **_arrays: object) -> None:
        handle.write(b"half a part")  # type: ignore[attr-defined]
        raise OSError(errno.ENOSPC, "No space left on device")

    checkpoints, messages = open_checkpoints(tmp_path)
    monkeypatch.setattr(np, "savez", full)
    checkpoints.write(*group(1, [(1, 1)]))
    assert not checkpoints.enabled and len(messages) == 1
    assert "cannot write embedding checkpoints" in messages[0] and "No space" in messages[0]
    assert list(checkpoints.folder.iterdir()) == []  # the half-written part is gone
    checkpoints.write(*group(2, [(1, 1)]))
    assert len(messages) == 1


def test_a_resume_path_that_is_a_file_turns_checkpoints_off(tmp_path: Path) -> None:
    blocked = tmp_path / "resume"
    blocked.write_text("a file where the folder should be")
    checkpoints, messages = open_checkpoints(blocked)
    checkpoints.write(*group(1, [(1, 1)]))
    assert not checkpoints.enabled and len(messages) == 1
    assert blocked.read_text().startswith("a file")


def test_discard_removes_the_resume_folder_and_tolerates_none(tmp_path: Path) -> None:
    write_two_parts(tmp_path / "resume")
    discard_checkpoints(tmp_path / "resume")
    assert not (tmp_path / "resume").exists()
    discard_checkpoints(tmp_path / "resume")
