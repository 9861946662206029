"""Embed the changed articles of a build in bounded groups, checkpointing each group to disk.

`qa index` on a large corpus runs for hours; an interruption (Ctrl-C, SIGKILL, out of memory)
must not throw that work away. Articles are embedded a group at a time (at most `group_texts`
sentences and chunks, sorted by length within the group so batches carry little padding); each
finished group is written durably to the resume folder::

    index/.embedding/<weights sha256[:16]>-c<chunk size>-o<overlap>/part-000001.npz

keyed by doc_id and a hash of the article's text and sentence offsets (`texts_key`), so vectors
are never reused for an article that is split differently, whatever its file's hash. The next build
takes every checkpointed article before embedding anything; `ensure_index` removes the folder
once the new index is published. A checkpoint file that cannot be read, or was made by another
model or chunking, is skipped and counted, never trusted.

The working set while embedding is one group (its texts and vectors); the sentence and chunk
vector arrays of the whole corpus are still assembled, since they are the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.core.cancel import checkpoint
from qa.corpus.seeds import fsync_dir

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.corpus.documents import Document
    from qa.embed.model import Embedder, ModelInfo
    from qa.index.chunking import Chunking

GROUP_TEXTS = 2048  # sentences + chunks per group: ~3 MB of 384-d vectors per checkpoint
RESUME_DIR = ".embedding"
_FORMAT = 2  # 2: articles keyed by texts_key, not the file's sha256
_PART = re.compile(r"part-(\d{6})\.npz")

# (texts_key, sentence vectors, chunk vectors) by doc_id, as `build.reusable` returns them.
Reusable = Mapping[str, tuple[str, "NDArray[np.float32]", "NDArray[np.float32]"]]


@dataclass(frozen=True, slots=True)
class EmbedStats:
    """What one build embedded, and what it took from elsewhere instead."""

    articles: int  # embedded by this build
    sentences: int
    texts: int  # sentences + chunks embedded
    seconds: float
    resumed_articles: int  # taken from checkpoints of an interrupted build
    reused_articles: int  # taken from the previous index
    bad_checkpoints: int  # checkpoint files skipped as unreadable or made differently
    group_texts: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def article_texts(doc: Document, chunking: Chunking) -> tuple[list[str], list[str]]:
    """The sentence texts and chunk texts of `doc`, in order."""
    sentences = [doc.text[s.start : s.end] for s in doc.sentences]
    chunks = [doc.text[start:end] for start, end in chunking.spans(doc)]
    return sentences, chunks


def texts_key(doc: Document, chunking: Chunking) -> str:
    """sha256 of what is embedded for `doc`: its text, its sentence offsets and the chunking
    (which together fix every sentence and chunk text).

    Vectors are reused only under this key, never under the file's hash alone: the same file
    split differently (another splitter, or a split gone wrong) has other sentences to embed.
    """
    digest = hashlib.sha256(f"{chunking.size},{chunking.overlap},{len(doc.text)}\n".encode())
    digest.update(doc.text.encode("utf-8", "surrogatepass"))
    offsets = np.array([(s.start, s.end) for s in doc.sentences], dtype=np.int64)
    digest.update(offsets.tobytes())
    return digest.hexdigest()


def discard_checkpoints(resume_dir: Path) -> None:
    """Remove the resume folder (once the index holding its vectors is published)."""
    shutil.rmtree(resume_dir, ignore_errors=True)


def embed_corpus(
    documents: Sequence[Document],
    embedder: Embedder,
    chunking: Chunking,
    reuse: Reusable,
    *,
    resume_dir: Path | None = None,
    group_texts: int = GROUP_TEXTS,
    batch_size: int = 64,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[NDArray[np.float32], NDArray[np.float32], EmbedStats]:
    """Sentence and chunk vectors of `documents`, in corpus order, and what was embedded.

    Vectors come from `reuse` (the previous index), then from checkpoints in `resume_dir`, and
    only the rest is embedded, `group_texts` texts at a time. With `resume_dir` None nothing is
    checkpointed. The two returned arrays are the whole corpus's (they are the index).
    """
    model = embedder.fingerprint
    table = _Table(documents, chunking, model.dimension)
    keys = [texts_key(d, chunking) if reuse or resume_dir else "" for d in documents]
    reused = table.take_reused(reuse, keys)
    checkpoints = None if resume_dir is None else _Checkpoints(resume_dir, model, chunking, log)
    resumed = bad = 0
    if checkpoints is not None:
        resumed = table.take_checkpointed(checkpoints, keys)
        bad = checkpoints.bad
        if resumed:
            log(f"resuming an interrupted build: {resumed} articles' vectors from {resume_dir}")
        if bad:
            log(f"ignored {bad} unreadable or mismatched checkpoint file(s) in {resume_dir}")
    pending = [pos for pos in range(len(documents)) if not table.done[pos]]
    started = time.perf_counter()
    sentences, texts = table.embed(
        pending, embedder, keys, checkpoints, group_texts, batch_size, progress
    )
    stats = EmbedStats(
        articles=len(pending),
        sentences=sentences,
        texts=texts,
        seconds=round(time.perf_counter() - started, 3),
        resumed_articles=resumed,
        reused_articles=reused,
        bad_checkpoints=bad,
        group_texts=group_texts,
    )
    return table.sentence_vectors, table.chunk_vectors, stats


class _Table:
    """The corpus's sentence and chunk vectors, filled article by article."""

    def __init__(self, documents: Sequence[Document], chunking: Chunking, dim: int) -> None:
        self.documents = documents
        self.chunking = chunking
        self.s_counts = np.array([len(d.sentences) for d in documents], dtype=np.int64)
        self.c_counts = np.array(
            [len(chunking.bounds(int(n))) for n in self.s_counts], dtype=np.int64
        )
        self.s_first = np.concatenate([[0], np.cumsum(self.s_counts)]).astype(np.int64)
        self.c_first = np.concatenate([[0], np.cumsum(self.c_counts)]).astype(np.int64)
        self.sentence_vectors = np.zeros((int(self.s_first[-1]), dim), np.float32)
        self.chunk_vectors = np.zeros((int(self.c_first[-1]), dim), np.float32)
        self.done = np.zeros(len(documents), dtype=bool)

    def put(self, pos: int, sentences: NDArray[np.float32], chunks: NDArray[np.float32]) -> None:
        self.sentence_vectors[self.s_first[pos] : self.s_first[pos + 1]] = sentences
        self.chunk_vectors[self.c_first[pos] : self.c_first[pos + 1]] = chunks
        self.done[pos] = True

    def fits(self, pos: int, sentences: NDArray[np.float32], chunks: NDArray[np.float32]) -> bool:
        """Whether vectors found elsewhere have this article's numbers of sentences and chunks."""
        return bool(len(sentences) == self.s_counts[pos] and len(chunks) == self.c_counts[pos])

    def take_reused(self, reuse: Reusable, keys: list[str]) -> int:
        """Place the vectors `reuse` holds for the same texts; the number of articles placed."""
        for pos, doc in enumerate(self.documents):
            old = reuse.get(doc.doc_id)
            if old is not None and old[0] == keys[pos] and self.fits(pos, old[1], old[2]):
                self.put(pos, old[1], old[2])
        return int(self.done.sum())

    def take_checkpointed(self, checkpoints: _Checkpoints, keys: list[str]) -> int:
        """Place the vectors checkpointed for articles still missing; the number placed."""
        wanted = {
            (d.doc_id, keys[pos]): pos for pos, d in enumerate(self.documents) if not self.done[pos]
        }
        resumed = 0
        for doc_id, sha, sentences, chunks in checkpoints.read():
            pos = wanted.pop((doc_id, sha), -1)
            if pos < 0:
                continue
            if not self.fits(pos, sentences, chunks):
                continue  # split differently (another splitter version): embed it again
            self.put(pos, sentences, chunks)
            resumed += 1
        return resumed

    def embed(
        self,
        pending: list[int],
        embedder: Embedder,
        keys: list[str],
        checkpoints: _Checkpoints | None,
        group_texts: int,
        batch_size: int,
        progress: bool,
    ) -> tuple[int, int]:
        """Embed the articles `pending` a group at a time, checkpointing each group; the
        numbers of sentences and of texts embedded."""
        from tqdm import tqdm

        started = time.perf_counter()
        embedded_sentences = embedded_texts = 0
        step = max(1, min(group_texts, batch_size * 4))
        s_counts, c_counts = self.s_counts, self.c_counts
        with tqdm(
            total=len(pending),
            unit="article",
            desc="embedding",
            disable=not progress,
            smoothing=0.1,
        ) as bar:
            for group in _groups(pending, s_counts + c_counts, group_texts):
                texts: list[str] = []
                for pos in group:
                    for part in article_texts(self.documents[pos], self.chunking):
                        texts += part  # sentences, then chunks
                vectors = _encode(embedder, texts, step, batch_size)
                cursor = 0
                for pos in group:
                    s, c = int(s_counts[pos]), int(c_counts[pos])
                    self.put(
                        pos, vectors[cursor : cursor + s], vectors[cursor + s : cursor + s + c]
                    )
                    cursor += s + c
                if checkpoints is not None:
                    articles = [(self.documents[pos].doc_id, keys[pos]) for pos in group]
                    checkpoints.write(articles, vectors, s_counts[group], c_counts[group])
                embedded_sentences += int(s_counts[group].sum())
                embedded_texts += len(texts)
                elapsed = max(time.perf_counter() - started, 1e-9)
                bar.set_postfix_str(
                    f"{embedded_sentences / elapsed:.1f} sentences/s", refresh=False
                )
                bar.update(len(group))
        return embedded_sentences, embedded_texts


def _groups(pending: list[int], sizes: NDArray[np.int64], limit: int) -> Iterator[list[int]]:
    """Consecutive articles whose texts add up to at most `limit` (an article above it alone)."""
    group: list[int] = []
    total = 0
    for pos in pending:
        size = int(sizes[pos])
        if group and total + size > limit:
            yield group
            group, total = [], 0
        group.append(pos)
        total += size
    if group:
        yield group


def _encode(
    embedder: Embedder, texts: list[str], step: int, batch_size: int
) -> NDArray[np.float32]:
    """Vectors of one group's texts, encoded `step` texts per call in order of length."""
    out = np.zeros((len(texts), embedder.fingerprint.dimension), np.float32)
    # Sorting by length keeps padding (wasted arithmetic) low within each batch.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for lo in range(0, len(order), step):
        checkpoint()  # between bounded steps: a write whose client has gone stops here
        part = order[lo : lo + step]
        out[part] = embedder.encode([texts[i] for i in part], batch_size=batch_size)
    return out


class _Checkpoints:
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
            temp.unlink(missing_ok=True)
            self.enabled = False
            self.log(f"cannot write embedding checkpoints to {self.folder} ({err}); continuing")
            return
        self.next_part += 1
