"""Checkpoints of a build in progress: each embedded group's vectors, durably on disk::

    index/.embedding/<weights sha256[:16]>-c<chunk size>-o<overlap>/part-000001.npz

Each part holds the vectors of a group of articles, keyed by doc_id and `texts_key` (see
`embed_corpus`), and the model and chunking that made them; a part that cannot be read or was
made differently is skipped and counted, never trusted. `ensure_index` removes the folder once
the index holding the vectors is published.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.corpus.seeds import fsync_dir

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.embed.model import ModelInfo
    from qa.index.chunking import Chunking

RESUME_DIR = ".embedding"
_FORMAT = 2  # 2: articles keyed by texts_key, not the file's sha256
_PART = re.compile(r"part-(\d{6})\.npz")


def discard_checkpoints(resume_dir: Path) -> None:
    """Remove the resume folder (once the index holding its vectors is published)."""
    shutil.rmtree(resume_dir, ignore_errors=True)


class Checkpoints:
    """The part files of one model and chunking under the resume folder."""

    def __init__(
        self,
        resume_dir: Path,
        model: ModelInfo,
        chunking: Chunking,
        log: Callable[[str], None],
    ) -> None:
        self.root = resume_dir
        self.folder = (
            resume_dir / f"{model.weights_sha256[:16]}-c{chunking.size}-o{chunking.overlap}"
        )
        # Checked in every file: a folder name alone could be copied or collide.
        self.meta = {
            "format": _FORMAT,
            "weights_sha256": model.weights_sha256,
            "dimension": model.dimension,
            "chunking": asdict(chunking),
        }
        self.log = log
        self.bad = 0
        self.next_part = 1
        self.enabled = True

    def read(self) -> Iterator[tuple[str, str, NDArray[np.float32], NDArray[np.float32]]]:
        """(doc_id, texts_key, sentence vectors, chunk vectors) of every intact checkpoint."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.iterdir()):
            match = _PART.fullmatch(path.name)
            if match is None:
                if path.name.endswith(".tmp"):  # a write cut short; the build lock is ours
                    path.unlink(missing_ok=True)
                continue
            self.next_part = max(self.next_part, int(match[1]) + 1)
            try:
                articles = self._load(path)
            except Exception:  # truncated, garbage, another model: all mean "embed again"
                self.bad += 1
                continue
            yield from articles

    def _load(self, path: Path) -> list[tuple[str, str, NDArray[np.float32], NDArray[np.float32]]]:
        with np.load(path, allow_pickle=False) as data:
            if json.loads(str(data["meta"])) != self.meta:
                raise ValueError(f"{path} was made by another model or chunking")
            doc_ids = [str(x) for x in data["doc_ids"]]
            shas = [str(x) for x in data["texts_key"]]
            s_counts = data["sentence_counts"].astype(np.int64)
            c_counts = data["chunk_counts"].astype(np.int64)
            sentences = np.asarray(data["sentences"], dtype=np.float32)
            chunks = np.asarray(data["chunks"], dtype=np.float32)
        dim = self.meta["dimension"]
        if not (
            len(doc_ids) == len(shas) == len(s_counts) == len(c_counts)
            and sentences.shape == (int(s_counts.sum()), dim)
            and chunks.shape == (int(c_counts.sum()), dim)
        ):
            raise ValueError(f"{path} is inconsistent")
        s_first = np.concatenate([[0], np.cumsum(s_counts)])
        c_first = np.concatenate([[0], np.cumsum(c_counts)])
        return [
            (
                doc_ids[i],
                shas[i],
                sentences[s_first[i] : s_first[i + 1]],
                chunks[c_first[i] : c_first[i + 1]],
            )
            for i in range(len(doc_ids))
        ]

    def write(
        self,
        articles: list[tuple[str, str]],
        vectors: NDArray[np.float32],
        sentence_counts: NDArray[np.int64],
        chunk_counts: NDArray[np.int64],
    ) -> None:
        """Store one group, (doc_id, texts_key) per article, durably as the next part;
        `vectors` hold each article's sentences then its chunks, article after article."""
        if not self.enabled:
            return
        rows = np.stack([sentence_counts, chunk_counts], axis=1).ravel()
        pieces = np.split(vectors, np.cumsum(rows)[:-1])
        dim = vectors.shape[1]
        empty = np.zeros((0, dim), np.float32)
        sentences = np.concatenate([empty, *pieces[0::2]])
        chunks = np.concatenate([empty, *pieces[1::2]])
        target = self.folder / f"part-{self.next_part:06d}.npz"
        temp = self.folder / f".{target.name}.{os.getpid()}.tmp"
        try:
            fresh = not self.folder.is_dir()
            self.folder.mkdir(parents=True, exist_ok=True)
            if fresh:
                fsync_dir(self.root)
                fsync_dir(self.root.parent)
            with temp.open("wb") as handle:
                np.savez(
                    handle,
                    meta=np.array(json.dumps(self.meta, sort_keys=True)),
                    doc_ids=np.array([doc_id for doc_id, _ in articles], dtype=str),
                    texts_key=np.array([key for _, key in articles], dtype=str),
                    sentence_counts=np.asarray(sentence_counts, dtype=np.int64),
                    chunk_counts=np.asarray(chunk_counts, dtype=np.int64),
                    sentences=sentences,
                    chunks=chunks,
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
            fsync_dir(self.folder)
        except OSError as err:  # checkpoints only save time; the build itself can go on
            with contextlib.suppress(OSError):  # e.g. no folder to hold it
                temp.unlink(missing_ok=True)
            self.enabled = False
            self.log(f"cannot write embedding checkpoints to {self.folder} ({err}); continuing")
            return
        self.next_part += 1
