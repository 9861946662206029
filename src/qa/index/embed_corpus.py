"""Embed the changed articles of a build in bounded groups, checkpointing each group to disk.

`qa index` on a large corpus runs for hours; an interruption (Ctrl-C, SIGKILL, out of memory)
must not throw that work away. Articles are embedded a group at a time (at most `group_texts`
sentences and chunks, sorted by length within the group so batches carry little padding); each
finished group is written durably to the resume folder (see `checkpoints`)::

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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.core.cancel import checkpoint
from qa.index.checkpoints import Checkpoints

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.corpus.documents import Document
    from qa.embed.model import Embedder
    from qa.index.chunking import Chunking

GROUP_TEXTS = 2048  # sentences + chunks per group: ~3 MB of 384-d vectors per checkpoint

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
    checkpoints = None if resume_dir is None else Checkpoints(resume_dir, model, chunking, log)
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

    def take_checkpointed(self, checkpoints: Checkpoints, keys: list[str]) -> int:
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
        checkpoints: Checkpoints | None,
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
