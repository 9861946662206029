"""Words of a sentence for short-answer rules, and what a question asks for.

The tokenizer keeps every token's character offsets and works out once what the rules in
`qa.answer.span_candidates` and the features in `qa.answer.span_features` ask of it (stem,
stopword, capitalised, number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.answer.cues import AnswerType, answer_type, focus_word

_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}"  # U.S., e.g.
    r"|\d+(?:[.,:]\d+)*(?:st|nd|rd|th|s)?(?![\w-])"  # 1,300  3.5  10:30  19th  1990s
    r"|['’]s\b"  # possessive, its own token
    r"|\w+(?:[-–]\w+)*(?:['’](?!s\b)\w+)*"  # words, hyphenated words, O'Brien, don't
    r"|[^\w\s]"
)


def words(text: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string."""
    return frozenset(text.split())


STOPWORDS = words(
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
NUMBER_WORDS = words(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred hundreds thousand thousands million millions billion billions trillion
    dozen dozens"""
)

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
    **dict.fromkeys(words("year years decade century date month day era period"), AnswerType.DATE),
    **dict.fromkeys(
        words("percentage percent number amount proportion share population size"),
        AnswerType.NUMBER,
    ),
    **dict.fromkeys(
        words(
            "person man woman king queen president leader ruler emperor general minister "
            "scientist author writer player coach director founder artist"
        ),
        AnswerType.PERSON,
    ),
    **dict.fromkeys(
        words("country city state place region town nation continent island river area"),
        AnswerType.PLACE,
    ),
}


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
                word[0].isdigit() or lower in NUMBER_WORDS,
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
