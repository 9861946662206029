"""An article's title: a Markdown heading, a plain-text headline, or its first sentence.

A heading or headline is the article's title and never one of its sentences, so it is never
quoted as an answer (`qa.corpus.documents.split_sentences` leaves it out).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol


class _Bounds(Protocol):
    """A sentence's place in its article (`qa.corpus.documents.Span`)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


# A paragraph is a line; Markdown headings and rules are layout, not sentences.
LINE = re.compile(r"[^\r\n]+")
NOT_PROSE = re.compile(r"\s*(#{1,6}\s|[-*_]{3,}\s*$)")
TITLE_MAX_CHARS = 300  # a title from front matter or a heading, cut to this
TITLE_CHARS = 80  # a title made of the first sentence is shortened to about this
# A plain-text headline: the first line, short, not ended like a sentence, then a blank line.
_HEADLINE_CHARS = 120
_HEADLINE_WORDS = 16
_SENTENCE_END = re.compile(r"[.!?…:;,][\"'”’)\]]*\s*$")


def plain_title(text: str) -> tuple[int, int] | None:
    """Where a plain-text article's headline is: its first line when that line is short, does
    not end like a sentence and is followed by a blank line and more text (`Harbour bridge
    reopens` above the article). It is the article's title, never a sentence to answer from."""
    match = LINE.search(text)
    if match is None or text[: match.start()].strip():
        return None
    line = match.group()
    after = text[match.end() :]
    # Only a line break of one kind between the headline and the blank line below it.
    rest = re.match(r"(?>\r\n|\r|\n)[ \t]*(?>\r\n|\r|\n)", after)
    if (
        not line.strip()
        or NOT_PROSE.match(line)
        or len(line.strip()) > _HEADLINE_CHARS
        or len(line.split()) > _HEADLINE_WORDS
        or _SENTENCE_END.search(line)
        or rest is None
        or not after[rest.end() :].strip()
    ):
        return None
    lead = len(line) - len(line.lstrip())
    return match.start() + lead, match.start() + len(line.rstrip())


def title_from(doc_id: str, text: str, spans: Sequence[_Bounds] = ()) -> str:
    """The first line when it is a Markdown `# ` heading or a plain-text headline
    (`plain_title`), else the first sentence (in `spans`) shortened to about TITLE_CHARS
    characters, else a readable form of the file name."""
    first = text.lstrip().split("\n", 1)[0].strip()
    if first.startswith("# ") and first[2:].strip():
        return shorten(first[2:].strip(), TITLE_MAX_CHARS)
    headline = plain_title(text)
    if headline is not None:
        return shorten(text[headline[0] : headline[1]], TITLE_MAX_CHARS)
    if spans:
        return shorten(" ".join(text[spans[0].start : spans[0].end].split()))
    words = re.sub(r"[_\-.]+", " ", doc_id).strip()
    return words[:1].upper() + words[1:] if words else doc_id


def shorten(sentence: str, limit: int = TITLE_CHARS) -> str:
    """`sentence` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if not sentence[limit - 1].isspace():  # the cut falls inside a word: drop that word
        cut = cut.rsplit(" ", 1)[0]
    cut = cut.rstrip(" ,;:-–—")
    return (cut or sentence[: limit - 1]) + "…"
