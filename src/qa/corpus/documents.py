"""Read articles and split them into sentences with exact character offsets.

Offsets always index the article text as it is served (`Document.text`): the file decoded as
UTF-8 with a leading byte-order mark removed and line ends kept as they are, so a citation can be
checked against the file itself. A file may open with a front-matter block of metadata::

    ---
    title: Harbour bridge reopens after two-year repair
    url: https://news.example.com/2025/03/12/harbour-bridge-reopens
    published: 2025-03-12
    source: The Coastal Herald
    author: Maria Lindqvist
    ---

It is metadata, never answer text: `Document.text` is the body after it, and offsets index that.
Every field has a cap (`META_CHARS`), and a url must be http(s): see `cap_meta`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import pysbd

from qa.core.cancel import checkpoint
from qa.core.errors import QAError
from qa.corpus.titles import LINE as _LINE
from qa.corpus.titles import NOT_PROSE as _NOT_PROSE
from qa.corpus.titles import TITLE_MAX_CHARS, plain_title, shorten, title_from

ARTICLE_SUFFIXES = (".txt", ".md")
# The one doc_id rule (corpus reader, seeds folder, API): a doc_id is a file name's stem, so it
# names a file inside the seeds folder and nothing else; no leading '.', since dot-files are
# never read as articles (and '.' or '..' would leave the folder).
DOC_ID_RULE = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}"
# Anchored, for pydantic and FastAPI (`pattern=`), whose regex engine searches.
DOC_ID_PATTERN = f"^{DOC_ID_RULE}$"
_DOC_ID = re.compile(DOC_ID_RULE)

# Front matter: `---` on the first line, `key: value` lines, `---`; the body follows.
_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n((?:[^\r\n]*\r?\n)*?)---[ \t]*(?:\r?\n|$)")
_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]*(.*?)[ \t]*")
META_FIELDS = ("title", "url", "published", "source", "author")
# Characters each field may have (`published` is an ISO 8601 date or date-time, or unknown):
# every answer repeats its citations' metadata, so one huge field would make each answer huge.
META_CHARS = {"title": TITLE_MAX_CHARS, "url": 2048, "source": 200, "author": 200}

log = logging.getLogger("qa.corpus")


class ArticleError(QAError, ValueError):
    """An article that cannot be indexed (not UTF-8, binary, empty, bad name)."""


def check_doc_id(doc_id: str) -> str:
    """`doc_id` when it follows the doc_id rule (1-128 letters, digits, '.', '_' or '-', not
    starting with '.'), else ArticleError."""
    if not _DOC_ID.fullmatch(doc_id):
        raise ArticleError(
            f"doc_id {doc_id[:140]!r} is not allowed: use 1-128 letters, digits, '.', '_' or "
            "'-', not starting with '.'"
        )
    return doc_id


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence's place in its article: `text[start:end]`, within paragraph `paragraph`."""

    start: int
    end: int
    paragraph: int


@dataclass(frozen=True, slots=True)
class Meta:
    """What an article's front matter says about it; None when it does not say."""

    title: str | None = None
    url: str | None = None
    published: str | None = None  # ISO 8601 date or date-time
    source: str | None = None  # site or outlet
    author: str | None = None


NO_META = Meta()


@dataclass(frozen=True, slots=True)
class Document:
    """One article (its body, without front matter), its sentences, metadata and a fingerprint
    of its file's bytes."""

    doc_id: str
    title: str
    text: str
    sha256: str
    sentences: tuple[Span, ...]
    url: str | None = field(default=None, kw_only=True)
    published: str | None = field(default=None, kw_only=True)
    source: str | None = field(default=None, kw_only=True)
    author: str | None = field(default=None, kw_only=True)


def split_front_matter(text: str) -> tuple[Meta, str]:
    """The front matter's metadata and the body after it; (Meta(), text) without front matter.

    A block counts as front matter only when every line in it is blank or `key: value` and one
    key at least is a metadata field, so an article that merely opens with a `---` rule keeps
    its text. Other keys are ignored, and a `published` that is not an ISO 8601 date or
    date-time is treated as unknown.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return Meta(), text
    values: dict[str, str] = {}
    known = False
    for line in match.group(1).splitlines():
        if not line.strip():
            continue
        found = _FIELD.fullmatch(line)
        if found is None:
            return Meta(), text
        key, value = found.group(1).lower(), _unquote(found.group(2))
        known = known or key in META_FIELDS
        if key in META_FIELDS and value:
            values[key] = value
    if not known:  # e.g. "---\nNote: read this first\n---": prose between rules, not metadata
        return Meta(), text
    body = text[match.end() :].lstrip("\r\n")
    if "published" in values:
        values["published"] = iso_date(values["published"]) or ""
    return Meta(**{k: v or None for k, v in values.items()}), body


def cap_meta(meta: Meta) -> tuple[Meta, list[str]]:
    """`meta` within `META_CHARS`, and one line per field changed: a title, source or author is
    cut at a word boundary; a url that is too long, or not http(s), is dropped (cut short, it
    would name another page)."""
    values = {key: getattr(meta, key) for key in META_FIELDS}
    problems = []
    for key, limit in META_CHARS.items():
        value = values[key]
        if value is None:
            continue
        if key == "url" and urlsplit(value).scheme.lower() not in ("http", "https"):
            problems.append(f"url {shorten(value, 60)!r} is not an http(s) URL")
            values[key] = None
        elif len(value) > limit:
            problems.append(f"{key} has {len(value):,} characters; at most {limit:,} are kept")
            values[key] = None if key == "url" else shorten(value, limit)
    return (Meta(**values) if problems else meta), problems


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def iso_date(value: str) -> str | None:
    """`value` when it is an ISO 8601 date or date-time (normalised), else None."""
    value = value.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def front_matter(meta: Meta) -> str:
    """The front-matter block for `meta` (fields that are None are left out; no block at all
    when none is known: an empty block is not front matter, it would be read as text)."""
    lines = ["---"]
    for key in META_FIELDS:
        value = getattr(meta, key)
        if value is not None:
            lines.append(f"{key}: {' '.join(str(value).split())}")
    if len(lines) == 1:
        return ""
    return "\n".join([*lines, "---", "", ""])


def _segmenter() -> pysbd.Segmenter:
    # A new one per call: a Segmenter keeps the text it works on in attributes, so one shared
    # between threads splits one thread's paragraph at another's boundaries. Making one costs
    # about a microsecond. clean=False keeps the text untouched so offsets stay exact.
    return pysbd.Segmenter(language="en", clean=False)


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    headline = plain_title(text)
    for match in _LINE.finditer(text):
        line = match.group()
        if headline is not None and match.start() <= headline[0] < match.end():
            continue  # the title, not a sentence
        if line.strip() and not _NOT_PROSE.match(line):
            yield match.start(), match.end()


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentences; each `text[span.start:span.end]` is one sentence, stripped.

    A plain-text headline (`plain_title`) is no sentence, as a Markdown heading is not.
    Paragraphs are lines (a line break always ends a sentence); pysbd finds the sentence
    boundaries inside a paragraph (see `_cuts`). The spans are exact, ordered, never overlap and
    cover every word.
    """
    spans: list[Span] = []
    for number, (p_start, p_end) in enumerate(_paragraphs(text)):
        paragraph = text[p_start:p_end]
        cuts = _cuts(paragraph)
        for start, end in pairwise(cuts):
            chunk = paragraph[start:end]
            stripped = chunk.strip()
            if stripped:
                lead = len(chunk) - len(chunk.lstrip())
                begin = p_start + start + lead
                spans.append(Span(begin, begin + len(stripped), number))
    return spans


# pysbd's time grows with the square of the text it is given, so a long paragraph is fed to it
# a window at a time: each window's sentences are kept except those ending in its last
# _MARGIN characters (the context that decides them may lie beyond the window), and the next
# window starts where the last kept one ends. The time is then linear in the paragraph's length,
# and sentences shorter than _WINDOW - _MARGIN are split exactly as in one call.
_WINDOW = 2000
_MARGIN = 400


def _cuts(paragraph: str) -> list[int]:
    """Sentence boundaries in `paragraph`: 0, every boundary, len(paragraph)."""
    cuts = [0]
    base = 0
    while len(paragraph) - base > _WINDOW:
        checkpoint()  # a 1 MiB article is hundreds of windows: stop if nobody waits for it
        window = paragraph[base : base + _WINDOW]
        kept = [c for c in _window_cuts(window) if 0 < c <= _WINDOW - _MARGIN]
        if not kept:  # one sentence longer than a window: break it at a space, else anywhere
            space = max(
                window.rfind(" ", 1, _WINDOW - _MARGIN), window.rfind("\t", 1, _WINDOW - _MARGIN)
            )
            kept = [space if space > 0 else _WINDOW - _MARGIN]
        cuts += [base + c for c in kept]
        base += kept[-1]
    cuts += [base + c for c in _window_cuts(paragraph[base:]) if c > 0]
    cuts.append(len(paragraph))
    return cuts


def _window_cuts(window: str) -> list[int]:
    """Where pysbd ends sentences in `window` (offsets into it, ascending, without 0 and end).

    pysbd's own offsets are not trusted: each piece it returns is located again from a moving
    cursor, and text it skipped becomes a sentence of its own.
    """
    cuts: list[int] = []
    cursor = 0
    for piece in _segmenter().segment(window):
        stripped = piece.strip()
        found = window.find(stripped, cursor) if stripped else -1
        if found < 0:
            continue
        if window[cursor:found].strip():  # text pysbd skipped
            cuts.append(found)
        cursor = found + len(stripped)
        cuts.append(cursor)
    return [c for c in cuts if 0 < c < len(window)]


def decode_article(data: bytes, name: str = "article") -> str:
    """Decode article bytes as UTF-8 text, refusing binary, non-UTF-8 and empty input."""
    if b"\x00" in data:
        raise ArticleError(
            f"{name}: looks binary (contains NUL bytes); articles must be UTF-8 text"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ArticleError(
            f"{name}: not valid UTF-8 (byte {err.start}); save the article as UTF-8 text"
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ArticleError(f"{name}: empty; an article needs some text")
    return text


def make_document(
    doc_id: str,
    text: str,
    title: str | None = None,
    sha256: str | None = None,
    *,
    strict: bool = False,
) -> Document:
    """Build a `Document` from decoded file text (front matter, if any, becomes its metadata
    and `text` is the body); `sha256` defaults to that of the text's UTF-8 bytes. Front matter
    over its caps (`cap_meta`) is an ArticleError when `strict` (an article sent to the API),
    else cut with a warning (a seeds folder written by hand still loads)."""
    check_doc_id(doc_id)
    meta, body = split_front_matter(text)
    meta, problems = cap_meta(meta)
    if problems and strict:
        raise ArticleError(f"{doc_id}: in the front matter, {'; '.join(problems)}")
    if problems:
        log.warning("%s: in the front matter, %s", doc_id, "; ".join(problems))
    sentences = tuple(split_sentences(body))
    return Document(
        doc_id=doc_id,
        title=title or meta.title or title_from(doc_id, body, sentences),
        text=body,
        sha256=sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest(),
        sentences=sentences,
        url=meta.url,
        published=meta.published,
        source=meta.source,
        author=meta.author,
    )


def read_article(path: Path) -> Document:
    """Read one article file; `doc_id` is the file name without its extension."""
    data = path.read_bytes()
    text = decode_article(data, path.name)
    return make_document(path.stem, text, sha256=hashlib.sha256(data).hexdigest())


def fingerprint_files(seeds_dir: Path) -> dict[str, str]:
    """sha256 of every article file by file name: a cheap test of whether an index is stale."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in article_paths(seeds_dir)}


def article_paths(seeds_dir: Path) -> list[Path]:
    """Article files in `seeds_dir`, sorted by name so every build sees the same order."""
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"seeds folder {seeds_dir} does not exist")
    return sorted(
        p
        for p in seeds_dir.iterdir()
        if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith(".")
    )


def read_corpus(seeds_dir: Path) -> tuple[list[Document], list[str]]:
    """Every readable article in `seeds_dir`, and one message per file that was skipped."""
    documents: list[Document] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in article_paths(seeds_dir):
        try:
            doc = read_article(path)
        except (ArticleError, OSError) as err:
            problems.append(str(err) if isinstance(err, ArticleError) else f"{path.name}: {err}")
            continue
        if doc.doc_id in seen:
            problems.append(
                f"{path.name}: doc_id {doc.doc_id!r} already used by {seen[doc.doc_id].name}"
            )
            continue
        if not doc.sentences:
            problems.append(f"{path.name}: no sentences found")
            continue
        seen[doc.doc_id] = path
        documents.append(doc)
    return documents, problems
