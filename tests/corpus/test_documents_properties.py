"""Properties of sentence segmentation, for any Unicode text (hypothesis)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.corpus.documents import split_sentences
from qa.corpus.titles import plain_title

# Pieces that stress a sentence splitter: abbreviations, decimals, quotes, ellipses, Markdown,
# every kind of line break and space, and scripts without spaces or with other full stops.
PIECES = [
    "Dr.",
    "U.S.",
    "1.5",
    "e.g.",
    "...",
    "?!",
    ". ",
    '"Yes." ',
    "(see p. 3.) ",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "# ",
    "## Heading\n",
    "---\n",
    "* ",
    "\t",
    "\u00a0",
    "\u2028",
    "\u3000",
    "東京で会った。",
    "नमस्ते। ",
    "مرحبا؟ ",
    "\ufeff",
    "\u200b",
    "e\u0301",
    "👍🏽",
    "Mr. Smith went to Washington. ",
    "It rained",
]
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=30).map("".join),
)
_LINE = re.compile(r"[^\r\n]+")
_NOT_PROSE = re.compile(r"\s*(#{1,6}\s|[-*_]{3,}\s*$)")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_sentence_offsets_are_exact_ordered_and_disjoint(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    previous_paragraph = -1
    for span in spans:
        assert 0 <= previous_end <= span.start < span.end <= len(text)
        piece = text[span.start : span.end]
        assert piece == piece.strip(), "a sentence never starts or ends with white space"
        assert "\n" not in piece and "\r" not in piece, "a line break always ends a sentence"
        assert span.paragraph >= previous_paragraph
        previous_end, previous_paragraph = span.end, span.paragraph


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_every_word_of_prose_is_in_a_sentence(text: str) -> None:
    covered = set()
    for span in split_sentences(text):
        covered.update(range(span.start, span.end))
    headline = plain_title(text)  # the title: no sentence, as a Markdown heading is none
    for line in _LINE.finditer(text):
        if not line.group().strip() or _NOT_PROSE.match(line.group()):
            continue
        if headline is not None and line.start() <= headline[0] < line.end():
            continue
        for offset, char in enumerate(line.group(), start=line.start()):
            assert char.isspace() or offset in covered, (offset, char)
