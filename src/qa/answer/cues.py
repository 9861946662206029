"""Answer-type cues: what kind of thing a question asks for, and whether a sentence has one.

A "who" question is answered by a sentence naming someone the question does not already name;
"when" by a date; "how many" by a number. Sentences that match the topic but hold no such thing
are the usual wrong answers to questions the articles cannot answer.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache


class AnswerType(Enum):
    PERSON = "person"
    DATE = "date"
    NUMBER = "number"
    PLACE = "place"
    NONE = "none"


_TYPE_RULES = (
    (AnswerType.DATE, re.compile(r"\b(when|what (year|date|day|month|time|century|decade))\b")),
    (
        AnswerType.NUMBER,
        re.compile(
            r"\b(how (many|much|long|old|far|large|big|often|high|tall|fast)|what (percentage|"
            r"percent|number|amount|proportion|share|size|population))\b"
        ),
    ),
    (AnswerType.PERSON, re.compile(r"\b(who|whom|whose)\b")),
    (AnswerType.PLACE, re.compile(r"\b(where|what (city|country|place|state|region|town))\b")),
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"\b(1[0-9]\d\d|20\d\d|\d{{1,4}}s|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|century|centuries|decade|today|yesterday|tomorrow|this year|last year|"
    r"next year|bc|ad|\d+(st|nd|rd|th))\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    r"dozen|dozens|half|third|quarter|percent|several|few)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*[a-z][\w’'-]*")
_PLACE = re.compile(r"\b(in|at|from|near|to|across|throughout)\s+(the\s+)?[A-Z][\w-]+")


def answer_type(question: str) -> AnswerType:
    """The kind of answer a question wants, from its wh-words."""
    q = question.lower()
    for kind, rule in _TYPE_RULES:
        if rule.search(q):
            return kind
    return AnswerType.NONE


def question_words(question: str) -> frozenset[str]:
    """The question's lower-cased words: what a sentence's cue must not merely repeat."""
    return frozenset(re.findall(r"[\w’'-]+", question.lower()))


@lru_cache(maxsize=32_768)
def _cues(kind: AnswerType, sentence: str) -> tuple[str, ...]:
    """The lower-cased words of `sentence` that could answer a `kind` question, whatever the
    question (none for a place question without a place phrase). Cached: the same sentences
    come back question after question, and the scan is the costly part."""
    if kind is AnswerType.DATE:
        return tuple(m.group().lower() for m in _DATE.finditer(sentence))
    if kind is AnswerType.NUMBER:
        return tuple(m.group().lower() for m in _NUMBER.finditer(sentence))
    if kind is AnswerType.PLACE and not _PLACE.search(sentence):
        return ()
    return tuple(m.group().lower() for m in _NAME.finditer(sentence))  # person or place


def has_answer(kind: AnswerType, sentence: str, question_words: frozenset[str]) -> bool:
    """Does `sentence` hold something of `kind` that the question (its `question_words`) does
    not already say?"""
    if kind is AnswerType.NONE:
        return True
    return any(word not in question_words for word in _cues(kind, sentence))


def is_answer_of_kind(kind: AnswerType, span: str, question_words: frozenset[str]) -> bool:
    """Is the short answer `span` the kind of thing asked for? As `has_answer`, but stricter
    where a sentence may hold other things besides the answer: a who-question's span must name
    someone with a word that is no month or weekday ("on Friday", "in March" are dates)."""
    if kind is not AnswerType.PERSON:
        return has_answer(kind, span, question_words)
    return any(
        word not in question_words and not _DATE.fullmatch(word) for word in _cues(kind, span)
    )


_FOCUS = re.compile(
    r"\b(?:what|which|whose|how many|how much)\s+(?:(?:kind|type|sort|form|part|percentage|"
    r"amount|number)s?\s+of\s+)?(?:the\s+|a\s+|an\s+)?([A-Za-z][\w-]*)",
    re.IGNORECASE,
)
_AUXILIARIES = frozenset(
    [
        "is",
        "was",
        "are",
        "were",
        "did",
        "does",
        "do",
        "has",
        "had",
        "have",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
    ]
)
_CAPITALISED = re.compile(r"\b[A-Z][\w-]+")
_FIGURE = re.compile(r"\d[\d,.]*")


def focus_word(question: str) -> str | None:
    """The word a "what/which/how many X" question asks about ("Which *city* will host…"), or
    None when the wh-word is followed by a verb ("What is…") or there is none."""
    match = _FOCUS.search(question)
    if match is None:
        return None
    word = match.group(1).lower()
    return None if word in _AUXILIARIES else word


def capitalised(text: str) -> list[str]:
    """Capitalised words (names, places, acronyms, and sentence-initial words)."""
    return _CAPITALISED.findall(text)


def figures(text: str) -> set[str]:
    """Numbers written in digits."""
    return set(_FIGURE.findall(text))
