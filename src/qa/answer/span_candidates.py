"""Candidate short answers in a sentence, each with exact character offsets.

Rules, not a parser: maximal capitalised runs with their joiners ("Ministry of Economy, Trade and
Industry"), numbers with their currency, scale and noun ("$5 billion", "1,300 schools"), dates,
quotations, and runs of content words between stopwords and punctuation (a cheap noun phrase),
trimmed of leading articles and prepositions and trailing punctuation. The scorer in
`qa.answer.spans` chooses among them.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from qa.answer.span_tokens import (
    NUMBER_WORDS,
    STOPWORDS,
    QuestionInfo,
    Token,
    question_info,
    tokenize,
    words,
)

MAX_TOKENS = 12  # longer candidates are clauses, not short answers
# Longer "sentences" (a page without punctuation) get no short answer: the work per candidate
# grows with the sentence, and no training sentence was longer than 1,406 characters.
MAX_SENTENCE_CHARS = 2000

NAME, NUMBER, DATE, QUOTED, GENERIC = "name", "number", "date", "quoted", "generic"
KINDS = (NAME, NUMBER, DATE, QUOTED, GENERIC)

_LEADING_TRIM = STOPWORDS - {"one"}
_JOINERS = words("of the and de du des da del della di la le von van der den y for & -")
_TITLES = words(
    "mr mrs ms dr st jr sr gen sen rep prof gov lt col capt sgt rev mt ft inc co corp ltd"
)
_TRAILING_TRIM = STOPWORDS - NUMBER_WORDS
_SCALES = words("hundred thousand million billion trillion m bn k km kg")
_CURRENCY = words("$ £ € ¥ ₹ us$ usd rs")
_DETERMINERS = words("the a an his her their its")
COPULA = words("is was are were be been called named as")
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ERA = r"(?:\s?(?:BC|AD|BCE|CE|B\.C\.|A\.D\.))"
_YEAR = rf"(?:(?:AD |A\.D\. )?(?:1\d{{3}}|20\d\d){_ERA}?\b|\d{{1,4}}{_ERA})"
_ORDINAL = r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first)"  # noqa: E501
_DATES = re.compile(
    "|".join(
        [
            rf"(?:{_WEEKDAY},?\s+)?(?:{_DAY}\s+(?:of\s+)?{_MONTH}|{_MONTH}\s+{_DAY}\b)(?:,?\s+\d{{4}})?",
            rf"{_MONTH},?\s+\d{{4}}\b",
            _WEEKDAY,
            r"\b\d{2,4}['’]?s\b",
            rf"\b{_ORDINAL}(?:\s+(?:and|or|to)\s+{_ORDINAL})?[\s-]+centur(?:y|ies){_ERA}?",
            rf"\b{_YEAR}(?:\s*(?:–|-|to|and)\s*{_YEAR})?",
        ]
    )
)
_QUOTES = re.compile(r"[“\"]([^“”\"]{1,100})[”\"]|(?<!\w)[‘']([^‘’']{1,100})[’'](?!\w)")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate span: tokens `first..last` (inclusive), characters `start..end`."""

    start: int
    end: int
    text: str
    first: int
    last: int
    kinds: frozenset[str]


def _name_runs(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    """Maximal runs of capitalised words, with joiners inside ("Ministry of Economy, Trade and
    Industry", "Dr. Smith"), and for runs with "and" or a comma, their parts too."""
    n = len(tokens)
    i = 0
    while i < n:
        if not tokens[i].capitalised:
            i += 1
            continue
        j = i
        while True:
            k = j + 1
            if k >= n:
                break
            if tokens[k].capitalised:
                j = k
                continue
            if tokens[k].text == "." and tokens[j].lower in _TITLES:
                if k + 1 < n and tokens[k + 1].capitalised:
                    j = k + 1
                    continue
                break
            m = k
            while m < n and m - k < 2 and tokens[m].lower in _JOINERS:
                m += 1
            if k < m < n and tokens[m].capitalised:
                j = m
                continue
            if tokens[k].text == "," and _comma_list(tokens, k):
                j = k + 1
                continue
            break
        yield i, j
        if j > i:
            parts, start = [], i
            for p in range(i, j + 1):
                if tokens[p].lower in ("and", "&") or tokens[p].text == ",":
                    parts.append((start, p - 1))
                    start = p + 1
            if parts:
                parts.append((start, j))
                yield from parts
            if i == 0:
                yield i + 1, j  # the first word may only be capitalised as the sentence's start
        i = j + 1


def _comma_list(tokens: list[Token], comma: int) -> bool:
    """Is the comma at `comma` inside a list of names ending in "and <Name>"?"""
    p = comma + 1
    while p < len(tokens) and (tokens[p].capitalised or tokens[p].lower in _JOINERS):
        if tokens[p].lower in ("and", "&") and p + 1 < len(tokens):
            return tokens[p + 1].capitalised
        p += 1
    return False


def _number_spans(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    """Numbers with their currency, scale and percent sign, alone and with the noun after them
    ("$5 billion", "20 per cent", "1,300 schools"), with qualifiers and as ranges."""
    n = len(tokens)
    i = 0
    while i < n:
        if not tokens[i].number:
            i += 1
            continue
        start = i
        if i > 0 and tokens[i - 1].lower in _CURRENCY:
            start = i - 1
            if i > 1 and tokens[i - 2].lower == "us":
                start = i - 2
        j = i
        while j + 1 < n and (tokens[j + 1].number or tokens[j + 1].lower in _SCALES):
            j += 1
        if j + 1 < n and tokens[j + 1].lower in ("%", "percent"):
            j += 1
        elif j + 2 < n and tokens[j + 1].lower == "per" and tokens[j + 2].lower == "cent":
            j += 2
        yield start, j
        end = j
        for _ in range(2):
            if end + 1 < n and tokens[end + 1].content and tokens[end + 1].text[0].islower():
                end += 1
                yield start, end
            else:
                break
        if (
            j + 2 < n
            and tokens[j + 1].lower in ("to", "and", "-", "–", "or")
            and tokens[j + 2].number
        ):
            k = j + 2
            while k + 1 < n and (tokens[k + 1].number or tokens[k + 1].lower in _SCALES):
                k += 1
            yield start, k
        i = j + 1


def _content_runs(tokens: list[Token]) -> Iterator[tuple[int, int]]:
    """Runs of content words between stopwords and punctuation (a cheap noun phrase), the
    run's last one or two words (its head), and "X of Y" joins of neighbouring runs."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        if not tokens[i].content:
            i += 1
            continue
        j = i
        while j + 1 < n and tokens[j + 1].content:
            j += 1
        runs.append((i, j))
        i = j + 1
    for a, b in runs:
        yield a, b
        if b - a >= 2:
            yield b - 1, b
        if b > a:
            yield b, b
            yield a, a
    for (a, b), (c, d) in itertools.pairwise(runs):
        gap = [t.lower for t in tokens[b + 1 : c]]
        if gap and gap[0] in ("of", "'s", "’s") and (len(gap) == 1 or gap[1] in _DETERMINERS):
            yield a, d


def _char_spans(sentence: str, tokens: list[Token]) -> Iterator[tuple[int, int, str]]:
    """Dates and quotations, found on the characters and snapped to whole tokens."""
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]

    def snap(a: int, b: int) -> tuple[int, int] | None:
        first = bisect.bisect_left(starts, a)
        last = bisect.bisect_right(ends, b) - 1
        return (first, last) if first <= last else None

    for m in _DATES.finditer(sentence):
        got = snap(m.start(), m.end())
        if got:
            yield got[0], got[1], DATE
    for m in _QUOTES.finditer(sentence):
        group = 1 if m.group(1) is not None else 2
        got = snap(m.start(group), m.end(group))
        if got:
            yield got[0], got[1], QUOTED


def _trim(tokens: list[Token], first: int, last: int) -> tuple[int, int] | None:
    while first <= last and (not tokens[first].word or tokens[first].lower in _LEADING_TRIM):
        if tokens[first].text in ("$", "£", "€", "¥", "₹"):
            break
        first += 1
    while first <= last and (not tokens[last].word or tokens[last].lower in _TRAILING_TRIM):
        if tokens[last].text == "%" or (
            tokens[last].text == "." and last > first and tokens[last - 1].lower in _TITLES
        ):
            break
        last -= 1
    if first > last or last - first + 1 > MAX_TOKENS:
        return None
    return first, last


def _trim_punctuation(tokens: list[Token], first: int, last: int) -> tuple[int, int] | None:
    while first <= last and not tokens[first].word:
        first += 1
    while last >= first and not tokens[last].word:
        last -= 1
    return (first, last) if first <= last and last - first < MAX_TOKENS else None


def candidate_spans(sentence: str, question: str) -> list[Candidate]:
    """Candidate short answers in `sentence`, each with exact offsets: `sentence[start:end]`."""
    if len(sentence) > MAX_SENTENCE_CHARS:
        return []
    return find_candidates(sentence, tokenize(sentence), question_info(question))


def find_candidates(sentence: str, tokens: list[Token], q: QuestionInfo) -> list[Candidate]:
    """The candidates of an already tokenised sentence (see `candidate_spans`)."""
    kinds: dict[tuple[int, int], set[str]] = {}
    found: list[tuple[int, int, str]] = [(a, b, NAME) for a, b in _name_runs(tokens)]
    found += [(a, b, NUMBER) for a, b in _number_spans(tokens)]
    found += [(a, b, GENERIC) for a, b in _content_runs(tokens)]
    found += list(_char_spans(sentence, tokens))
    for a, b, kind in found:
        trimmed = _trim(tokens, a, b) if kind != QUOTED else _trim_punctuation(tokens, a, b)
        if trimmed is None:
            continue
        kinds.setdefault(trimmed, set()).add(kind)
        # Without the question's own words at either end ("Prime Minister Narendra Modi" for
        # "Who is the Prime Minister?"): answers rarely repeat the question.
        first, last = trimmed
        while first < last and (tokens[first].stem in q.stems or not tokens[first].content):
            first += 1
        while last > first and (tokens[last].stem in q.stems or not tokens[last].word):
            last -= 1
        stripped = _trim(tokens, first, last) if (first, last) != trimmed else None
        if stripped is not None:
            kinds.setdefault(stripped, set()).add(kind)
    out = []
    for (first, last), kind_set in kinds.items():
        content = [t.stem for t in tokens[first : last + 1] if t.content or t.number]
        if not content or all(s in q.stems for s in content):
            continue
        start, end = tokens[first].start, tokens[last].end
        out.append(Candidate(start, end, sentence[start:end], first, last, frozenset(kind_set)))
    out.sort(key=lambda c: (c.start, c.end))
    return out
