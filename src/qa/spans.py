"""The short answer inside a cited sentence: candidate spans, their features, a learned scorer.

A "who" question is answered by a name in the sentence, "when" by a date, "how many" by a number
with its noun; other questions by a noun phrase. Candidates are cut from the sentence by rules
(capitalised runs, numbers, dates, quotations, runs of content words); a linear model trained on
SQuAD-format answers (`qa train-spans`) scores them, and a second, logistic model says how
likely the best one is right. A span is given only when that probability clears the threshold
stored with the weights, and never for questions that want a whole sentence ("why", "how").
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from qa.cues import AnswerType, answer_type, focus_word

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_SCORER = "spans.json"
MAX_TOKENS = 12  # longer candidates are clauses, not short answers
# Longer "sentences" (a page without punctuation) get no short answer: the work per candidate
# grows with the sentence, and no training sentence was longer than 1,406 characters.
MAX_SENTENCE_CHARS = 2000

NAME, NUMBER, DATE, QUOTED, GENERIC = "name", "number", "date", "quoted", "generic"
KINDS = (NAME, NUMBER, DATE, QUOTED, GENERIC)
QUESTION_TYPES = tuple(t.value for t in AnswerType)
# What the word before a span says about it ("in Tokyo", "by Modi", "since 1990").
PREVIOUS = {
    "in": "at",
    "at": "at",
    "on": "at",
    "near": "at",
    "inside": "at",
    "by": "by",
    "from": "from",
    "to": "from",
    "into": "from",
    "of": "of",
    "since": "time",
    "until": "time",
    "during": "time",
    "after": "time",
    "before": "time",
}
PREVIOUS_CLASSES = ("at", "by", "from", "of", "time")

# Every feature of a candidate, by name, in the order of the weights in spans.json.
FEATURES: tuple[str, ...] = (
    *(f"{q}*{k}" for q in QUESTION_TYPES for k in KINDS),
    *(f"{q}*after_{p}" for q in QUESTION_TYPES for p in PREVIOUS_CLASSES),
    *(f"{q}*tokens" for q in QUESTION_TYPES),
    *(f"focus*{k}" for k in KINDS),
    "tokens",
    "single_token",
    "long_span",
    "in_question_share",
    "match_just_before",
    "match_just_after",
    "no_match",
    "log_distance",
    "after_match",
    "window_matches",
    "after_copula",
    "before_copula",
    "after_comma",
    "before_comma",
    "in_brackets",
    "at_end",
    "focus_in_span",
    "focus_adjacent",
    "position",
    "sentence_initial",
    "capitalised_share",
    "has_digit",
)
# Features of the best candidate that say how likely it is right.
CALIBRATION_FEATURES: tuple[str, ...] = (
    "top_logit",
    "margin",
    "p_top",
    "p_overlap",
    "log_candidates",
    *(f"question_{q}" for q in QUESTION_TYPES),
    *(f"best_{k}" for k in KINDS),
    "tokens",
    "in_question_share",
    "window_matches",
    "focus_in_span",
)

_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}"  # U.S., e.g.
    r"|\d+(?:[.,:]\d+)*(?:st|nd|rd|th|s)?(?![\w-])"  # 1,300  3.5  10:30  19th  1990s
    r"|['’]s\b"  # possessive, its own token
    r"|\w+(?:[-–]\w+)*(?:['’](?!s\b)\w+)*"  # words, hyphenated words, O'Brien, don't
    r"|[^\w\s]"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """a an the this that these those its it it's he she they them their his her him i we us
    our you your my me who whom whose which what when where why how and or but nor so yet if
    then than as of in on at by for from to into onto upon with without within about above
    below over under between among through during before after since until while because
    although though whether is are was were be been being am do does did done doing has have
    had having will would shall should can could may might must also not no only just very
    more most much many some any all each every both either neither such other another own
    same there here again further once too up down out off can't won't isn't aren't wasn't
    weren't didn't doesn't don't hasn't haven't hadn't s 's ’s one"""
)
_LEADING_TRIM = STOPWORDS - {"one"}
_JOINERS = _words("of the and de du des da del della di la le von van der den y for & -")
_TITLES = _words(
    "mr mrs ms dr st jr sr gen sen rep prof gov lt col capt sgt rev mt ft inc co corp ltd"
)
_NUMBER_WORDS = _words(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred hundreds thousand thousands million millions billion billions trillion
    dozen dozens"""
)
_TRAILING_TRIM = STOPWORDS - _NUMBER_WORDS
_SCALES = _words("hundred thousand million billion trillion m bn k km kg")
_CURRENCY = _words("$ £ € ¥ ₹ us$ usd rs")
_DETERMINERS = _words("the a an his her their its")
_COPULA = _words("is was are were be been called named as")
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
# Questions that want the whole sentence, not a short answer ("how" asking for a quantity is not).
_WANTS_SENTENCE = re.compile(
    r"\bwhy\b|\bhow\b(?!\s+(?:many|much|long|old|far|large|big|often|high|tall|fast|few|deep|"
    r"wide|heavy|early|late|soon|hot|cold|small|low|tall|far|large)\b)|\bwhat\s+happen|"
    r"\bexplain\b|\bdescribe\b|\bin what way\b|\bfor what reason\b|\bwhat (?:is|was|were|are) "
    r"the reasons?\b",
    re.IGNORECASE,
)


# The answer type of "what/which <focus>" questions the wh-word alone leaves open.
_FOCUS_TYPES = {
    **dict.fromkeys(_words("year years decade century date month day era period"), AnswerType.DATE),
    **dict.fromkeys(
        _words("percentage percent number amount proportion share population size"),
        AnswerType.NUMBER,
    ),
    **dict.fromkeys(
        _words(
            "person man woman king queen president leader ruler emperor general minister "
            "scientist author writer player coach director founder artist"
        ),
        AnswerType.PERSON,
    ),
    **dict.fromkeys(
        _words("country city state place region town nation continent island river area"),
        AnswerType.PLACE,
    ),
}


class ShortAnswer(NamedTuple):
    """A short answer: `sentence[start:end] == text`, right with probability `probability`."""

    start: int
    end: int
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Token:
    """A word, number or punctuation mark, with what the rules ask of it worked out once."""

    start: int
    end: int
    text: str
    lower: str
    stem: str
    word: bool  # starts with a letter or digit
    content: bool  # a word that is not a stopword
    capitalised: bool
    number: bool


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate span: tokens `first..last` (inclusive), characters `start..end`."""

    start: int
    end: int
    text: str
    first: int
    last: int
    kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class QuestionInfo:
    """What the question asks for, worked out once per question."""

    kind: str
    focus: str | None
    stems: frozenset[str]
    wants_sentence: bool


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A crude stem so "schools" meets "school" and "closed" meets "close"."""
    w = word.lower().replace("’", "'")
    for suffix in ("'s", "ies", "es", "s", "ed", "ing"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


def tokenize(text: str) -> list[Token]:
    """Words, numbers and punctuation with their character offsets in `text`."""
    out = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        lower = word.lower()
        is_word = word[0].isalnum()
        out.append(
            Token(
                m.start(),
                m.end(),
                word,
                lower,
                _stem(lower),
                is_word,
                is_word and lower not in STOPWORDS,
                word[0].isupper() and lower not in STOPWORDS and word != "I",
                word[0].isdigit() or lower in _NUMBER_WORDS,
            )
        )
    return out


def wants_sentence(question: str) -> bool:
    """Does the question ask for an explanation (why, how, what happened) rather than a span?"""
    return bool(_WANTS_SENTENCE.search(question))


def question_info(question: str) -> QuestionInfo:
    stems = frozenset(
        t.stem for t in tokenize(question) if t.lower not in STOPWORDS and t.text[0].isalnum()
    )
    focus = focus_word(question)
    kind = answer_type(question)
    if kind is AnswerType.NONE and focus:  # "Which year…", "What country…", "Which king…"
        kind = _FOCUS_TYPES.get(focus, kind)
    return QuestionInfo(
        kind.value,
        _stem(focus) if focus else None,
        stems,
        wants_sentence(question),
    )


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
    return _candidates(sentence, tokenize(sentence), question_info(question))


def _candidates(sentence: str, tokens: list[Token], q: QuestionInfo) -> list[Candidate]:
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


_COLUMN = {name: i for i, name in enumerate(FEATURES)}


def span_features(
    tokens: list[Token], cand: Candidate, q: QuestionInfo, matches: list[int]
) -> list[float]:
    """The values of FEATURES, in order, for one candidate (`matches`: sorted positions of the
    question's words in the sentence). A name not in FEATURES fails loudly."""
    row = [0.0] * len(FEATURES)

    def put(name: str, value: float) -> None:
        row[_COLUMN[name]] = value

    for kind in cand.kinds:
        put(f"{q.kind}*{kind}", 1.0)
    first, last = cand.first, cand.last
    span = tokens[first : last + 1]
    n = len(span)
    before = tokens[first - 1] if first > 0 else None
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    if before is not None and before.lower in PREVIOUS:
        put(f"{q.kind}*after_{PREVIOUS[before.lower]}", 1.0)
    put("tokens", n / 5)
    put(f"{q.kind}*tokens", n / 5)
    put("single_token", float(n == 1))
    put("long_span", float(n > 5))
    words = [t for t in span if t.word]
    put("in_question_share", sum(t.stem in q.stems for t in words) / max(1, len(words)))
    i = bisect.bisect_left(matches, first)  # matches[:i] lie before the span
    j = bisect.bisect_right(matches, last)  # matches[j:] after it
    left = first - matches[i - 1] if i > 0 else None
    right = matches[j] - last if j < len(matches) else None
    if left is None and right is None:
        put("no_match", 1.0)
    else:
        closer_left = left is not None and (right is None or left <= right)
        distance = left if closer_left else right
        put("log_distance", math.log1p(distance or 0))
        put("after_match", float(closer_left))
        near = matches[bisect.bisect_left(matches, first - 4) : i]
        near += matches[j : bisect.bisect_right(matches, last + 4)]
        put("window_matches", len({tokens[m].stem for m in near}) / max(1, len(q.stems)))
        put("match_just_before", float(left is not None and left <= 2))
        put("match_just_after", float(right is not None and right <= 2))
    put("after_copula", float(before is not None and before.lower in _COPULA))
    put("before_copula", float(after is not None and after.lower in _COPULA))
    put("after_comma", float(before is not None and before.text == ","))
    put("before_comma", float(after is not None and after.text == ","))
    put("in_brackets", float(before is not None and before.text in "(["))
    put("at_end", float(after is None or after.text in ".!?"))
    if q.focus:
        for kind in cand.kinds:
            put(f"focus*{kind}", 1.0)
        put("focus_in_span", float(any(t.stem == q.focus for t in span)))
        put(
            "focus_adjacent",
            float(
                (before is not None and before.stem == q.focus)
                or (after is not None and after.stem == q.focus)
            ),
        )
    put("position", first / max(1, len(tokens)))
    put("sentence_initial", float(first == 0))
    put("capitalised_share", sum(t.text[0].isupper() for t in words) / max(1, len(words)))
    put("has_digit", float(any(t.text[0].isdigit() for t in span)))
    return row


@dataclass
class Scored:
    """A sentence's candidates, their feature matrix and (once scored) their logits."""

    question: QuestionInfo
    candidates: list[Candidate]
    x: NDArray[np.float64]
    logits: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


def featurize(sentence: str, question: str | QuestionInfo) -> Scored:
    """Every candidate of `sentence` with its feature row (columns in FEATURES order)."""
    q = question_info(question) if isinstance(question, str) else question
    if len(sentence) > MAX_SENTENCE_CHARS:
        return Scored(q, [], np.zeros((0, len(FEATURES))))
    tokens = tokenize(sentence)
    candidates = _candidates(sentence, tokens, q)
    matches = [i for i, t in enumerate(tokens) if t.stem in q.stems and t.word]
    x = np.array([span_features(tokens, c, q, matches) for c in candidates], dtype=np.float64)
    return Scored(q, candidates, x.reshape(len(candidates), len(FEATURES)))


def calibration_values(scored: Scored, best: int) -> dict[str, float]:
    """The named calibration features (CALIBRATION_FEATURES) of candidate `best`."""
    logits = scored.logits
    p = np.exp(logits - logits.max())
    p /= p.sum()
    cand = scored.candidates[best]
    others = np.delete(logits, best)
    overlap = sum(
        p[i] for i, c in enumerate(scored.candidates) if c.start < cand.end and cand.start < c.end
    )
    col = {f: i for i, f in enumerate(FEATURES)}
    row = scored.x[best]
    values = {
        "top_logit": float(logits[best]),
        "margin": float(logits[best] - others.max()) if len(others) else 10.0,
        "p_top": float(p[best]),
        "p_overlap": float(overlap),
        "log_candidates": math.log(len(logits)),
        **{f"question_{k}": float(scored.question.kind == k) for k in QUESTION_TYPES},
        **{f"best_{k}": float(k in cand.kinds) for k in KINDS},
        **{f: float(row[col[f]]) for f in ("tokens", "in_question_share", "window_matches")},
        "focus_in_span": float(row[col["focus_in_span"]]),
    }
    return values


@dataclass(frozen=True)
class SpanScorer:
    """The candidate scorer (`features @ weights`), its calibration and the threshold."""

    weights: NDArray[np.float64]
    calibration_weights: NDArray[np.float64]
    calibration_bias: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, sentence: str, question: str | QuestionInfo) -> Scored:
        scored = featurize(sentence, question)
        scored.logits = scored.x @ self.weights
        return scored

    def probability(self, scored: Scored, best: int) -> float:
        values = calibration_values(scored, best)
        x = np.array([values[f] for f in CALIBRATION_FEATURES])
        z = float(x @ self.calibration_weights + self.calibration_bias)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def best(self, sentence: str, question: str) -> ShortAnswer | None:
        """The best candidate and its probability of being right, whatever the threshold."""
        q = question_info(question)
        if q.wants_sentence:
            return None
        scored = self.score(sentence, q)
        if not scored.candidates:
            return None
        top = int(np.argmax(scored.logits))
        cand = scored.candidates[top]
        return ShortAnswer(cand.start, cand.end, cand.text, self.probability(scored, top))

    def span(self, sentence: str, question: str) -> ShortAnswer | None:
        """The best candidate when it is likely right (probability >= threshold), else None."""
        got = self.best(sentence, question)
        return got if got is not None and got.probability >= self.threshold else None

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "calibration": {
                "features": list(CALIBRATION_FEATURES),
                "weights": [round(float(w), 6) for w in self.calibration_weights],
                "bias": round(self.calibration_bias, 6),
            },
            "threshold": round(self.threshold, 4),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> SpanScorer:
        """Read a scorer, refusing one whose feature names differ from this code's."""
        try:
            calibration = data["calibration"]
            _check_names(source, "features", data["features"], FEATURES, data["weights"])
            _check_names(
                source,
                "calibration features",
                calibration["features"],
                CALIBRATION_FEATURES,
                calibration["weights"],
            )
            return cls(
                np.asarray(data["weights"], dtype=np.float64),
                np.asarray(calibration["weights"], dtype=np.float64),
                float(calibration["bias"]),
                float(data["threshold"]),
                dict(data.get("meta", {})),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"span scorer {source}: missing or malformed {err}") from None

    @classmethod
    def load(cls, path: Path | None = None) -> SpanScorer:
        if path is None:
            text = resources.files("qa").joinpath(DEFAULT_SCORER).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text), DEFAULT_SCORER)
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))


def _check_names(
    source: str, what: str, names: list[str], expected: tuple[str, ...], weights: list[float]
) -> None:
    if tuple(names) != expected:
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise ValueError(
            f"span scorer {source}: its {what} do not match the code "
            f"(missing {missing}, extra {extra}, or a different order); retrain with "
            "`qa train-spans`"
        )
    if len(weights) != len(names):
        raise ValueError(f"span scorer {source}: {len(names)} {what} but {len(weights)} weights")


@lru_cache(maxsize=1)
def default_scorer() -> SpanScorer:
    """The packaged scorer (src/qa/spans.json), read once on first use."""
    return SpanScorer.load()


def best_span(sentence: str, question: str) -> ShortAnswer | None:
    """The short answer to `question` inside `sentence` when it is likely right, else None."""
    return default_scorer().span(sentence, question)
