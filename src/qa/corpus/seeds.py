"""The seeds folder as the store of articles: checked, atomic and durable writes and removals.

The seeds folder is the source of truth and the index is derived from it. A write goes to a
temporary file beside its target (a dot-name, which the corpus reader never lists), is fsynced,
renamed over the target, and the folder is fsynced: after a crash the file holds the old article
or the new one, never a mix, and once the call returns the new one survives a power cut.

An article's `doc_id` is its file name without the extension; `.txt` and `.md` are read alike, so
a replacement keeps the name of the file it replaces and never leaves a stale twin behind. A news
page (an `.html` file or a fetched URL) is stored as its extracted text under a front-matter block
of its metadata (see `corpus.split_front_matter`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from qa.core.errors import QAError
from qa.corpus.documents import (
    ARTICLE_SUFFIXES,
    META_CHARS,
    ArticleError,
    Document,
    article_paths,
    cap_meta,
    check_doc_id,
    decode_article,
    front_matter,
    make_document,
)
from qa.corpus.news import NewsPage, extract_page
from qa.corpus.urls import canonical_key

MAX_TITLE_CHARS = META_CHARS["title"]
HTML_SUFFIXES = (".html", ".htm")
log = logging.getLogger("qa.corpus")
_TEMP_FILE = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")


class TooLarge(QAError, ValueError):
    """An article over the configured size limit."""


@dataclass(frozen=True, slots=True)
class ArticleFile:
    """An article ready to store: the exact bytes of its file and the Document they make."""

    doc_id: str
    suffix: str
    data: bytes
    document: Document


@dataclass(frozen=True, slots=True)
class Corpus:
    """The seeds folder read: articles, one message per skipped file, sha256 of every file."""

    documents: list[Document]
    problems: list[str]
    sources: dict[str, str]


def derive_doc_id(title: str | None, text: str, url: str | None = None) -> str:
    """A readable, stable doc_id: a slug of the title (or first line) and a hash of the
    article's canonical URL when it has one (so a page stored twice keeps one doc_id), else of
    the text."""
    first = title or next((line for line in text.splitlines() if line.strip()), "")
    ascii_ = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_.lower())[:6]
    slug = "-".join(words)[:48].strip("-")
    key = canonical_key(url) if url else text
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{slug or 'article'}-{digest}"


def article_from_text(
    text: str, *, doc_id: str | None, title: str | None, max_bytes: int
) -> ArticleFile:
    """An article sent as text; a title becomes a Markdown heading on its first line (`.md`)."""
    if title is not None:
        title = title.strip()
        if not title or "\n" in title or "\r" in title or len(title) > MAX_TITLE_CHARS:
            raise ArticleError(f"title must be one line of 1-{MAX_TITLE_CHARS} characters")
    try:
        body = text.removeprefix("\ufeff").encode("utf-8")
        head = f"# {title}\n\n".encode() if title else b""
    except UnicodeEncodeError:
        raise ArticleError(
            "text is not valid Unicode (it has an unpaired surrogate); send UTF-8 text"
        ) from None
    doc_id = check_doc_id(doc_id if doc_id is not None else derive_doc_id(title, text))
    return _article(doc_id, ".md" if title else ".txt", head + body, max_bytes)


def article_from_file(
    filename: str, data: bytes, *, doc_id: str | None, max_bytes: int
) -> ArticleFile:
    """An uploaded `.txt` / `.md` file, or an `.html` news page (stored as its article text
    and metadata, `.md`); its doc_id is the file name without extension."""
    if "/" in filename or "\\" in filename or "\x00" in filename:
        raise ArticleError(f"file name {filename[:140]!r} must be a bare name, without folders")
    name = PurePosixPath(filename)
    suffix = name.suffix.lower()
    if suffix in HTML_SUFFIXES:
        doc_id = check_doc_id(doc_id or name.stem)
        page = extract_page(data, name=filename[:140])
        return article_from_page(page, doc_id=doc_id, max_bytes=max_bytes)
    if suffix not in ARTICLE_SUFFIXES:
        raise ArticleError(
            f"file {filename[:140]!r} must end in .txt or .md (UTF-8 text) or .html (a web page)"
        )
    return _article(check_doc_id(doc_id or name.stem), suffix, data, max_bytes)


def article_from_page(page: NewsPage, *, doc_id: str | None, max_bytes: int) -> ArticleFile:
    """A news page's article: its text under a front-matter block of its metadata (`.md`),
    cut to its caps with a warning (`corpus.cap_meta`: a page is what its site wrote). Without
    a doc_id, one is derived from the headline and the canonical URL."""
    meta, problems = cap_meta(page.meta)
    if problems:
        log.warning("%s: in the page's metadata, %s", meta.url or doc_id, "; ".join(problems))
    doc_id = check_doc_id(doc_id or derive_doc_id(meta.title, page.text, meta.url))
    return _article(doc_id, ".md", (front_matter(meta) + page.text).encode("utf-8"), max_bytes)


def _article(doc_id: str, suffix: str, data: bytes, max_bytes: int) -> ArticleFile:
    if len(data) > max_bytes:
        raise TooLarge(
            f"article is {len(data):,} bytes; the limit is {max_bytes:,} (QA_MAX_ARTICLE_BYTES)"
        )
    text = decode_article(data, doc_id)
    sha256 = hashlib.sha256(data).hexdigest()
    document = make_document(doc_id, text, sha256=sha256, strict=True)
    if not document.sentences:
        raise ArticleError(f"{doc_id}: no sentences found; an article needs some prose")
    return ArticleFile(doc_id, suffix, data, document)


def seed_files(seeds_dir: Path, doc_id: str) -> list[Path]:
    """Every article file of `doc_id` (normally one), in the order the corpus reader sees them."""
    return [p for p in _article_files(seeds_dir) if p.stem == doc_id]


def _article_files(seeds_dir: Path) -> list[Path]:
    """`corpus.article_paths`, from one directory scan (no stat per file: writes list often)."""
    if not seeds_dir.is_dir():
        return article_paths(seeds_dir)  # its error
    with os.scandir(seeds_dir) as entries:
        names = [
            e.name
            for e in entries
            if not e.name.startswith(".")
            and os.path.splitext(e.name)[1].lower() in ARTICLE_SUFFIXES
            and e.is_file()
        ]
    return [seeds_dir / name for name in sorted(names)]


def write_seed(seeds_dir: Path, article: ArticleFile) -> Path:
    """Store `article` atomically and durably, replacing the file(s) of the same doc_id."""
    existing = seed_files(seeds_dir, article.doc_id)
    target = existing[0] if existing else seeds_dir / f"{article.doc_id}{article.suffix}"
    temp = seeds_dir / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        with temp.open("xb") as handle:
            handle.write(article.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    for twin in existing[1:]:
        twin.unlink(missing_ok=True)
    fsync_dir(seeds_dir)
    return target


def remove_seeds(seeds_dir: Path, paths: Iterable[Path]) -> None:
    """Delete article files durably."""
    for path in paths:
        path.unlink(missing_ok=True)
    fsync_dir(seeds_dir)


def clean_temp_files(seeds_dir: Path) -> list[Path]:
    """Remove temporary files of writes that never finished (call while holding the build lock)."""
    if not seeds_dir.is_dir():
        return []
    stale = [p for p in seeds_dir.iterdir() if _TEMP_FILE.fullmatch(p.name) and p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_seeds(seeds_dir: Path, known: Mapping[str, Document]) -> Corpus:
    """Read the seeds folder like `corpus.read_corpus`, reusing `known` documents whose file is
    unchanged (same sha256), so an update re-splits only the articles that changed."""
    documents: list[Document] = []
    problems: list[str] = []
    sources: dict[str, str] = {}
    seen: dict[str, str] = {}
    for path in _article_files(seeds_dir):
        try:
            data = path.read_bytes()
        except OSError as err:
            problems.append(f"{path.name}: {err}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        sources[path.name] = digest
        doc = known.get(path.stem)
        if doc is None or doc.sha256 != digest:
            try:
                doc = make_document(path.stem, decode_article(data, path.name), sha256=digest)
            except ArticleError as err:
                problems.append(str(err))
                continue
        if doc.doc_id in seen:
            first = seen[doc.doc_id]
            problems.append(f"{path.name}: doc_id {doc.doc_id!r} already used by {first}")
            continue
        if not doc.sentences:
            problems.append(f"{path.name}: no sentences found")
            continue
        seen[doc.doc_id] = path.name
        documents.append(doc)
    return Corpus(documents, problems, sources)
