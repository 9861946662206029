"""How the reader sees a (question, candidate) pair: one token layout for training and serving.

`[CLS] question [SEP] previous sentence [SEP] sentence [SEP]`, token types 0 for the question
part and 1 after it. The candidate sentence keeps its tokens first (the answer is in it), the
question is cut at `max_question` tokens, and the previous sentence, which is only context,
gives at most `max_previous` tokens from its end (the words next to the sentence matter most).
The span head may only point at the sentence's own tokens, whose character offsets are kept so
a span maps back to `sentence[start:end]`.

Training (`qa.training.reader_model`) and the ONNX runtime (`qa.answer.reader`) both build their
inputs here, so the model never sees a layout at run time that it was not trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from tokenizers import Tokenizer

MAX_QUESTION_TOKENS = 32
MAX_PREVIOUS_TOKENS = 24  # context only: its last words; fewer tokens train and read faster
SPECIAL_TOKENS = 4  # [CLS] and three [SEP]


@dataclass(frozen=True, slots=True)
class PairInput:
    """Token ids of one pair, and where the sentence's tokens are."""

    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    sentence_start: int  # index of the sentence's first token in `ids`
    offsets: tuple[tuple[int, int], ...]  # character span in the sentence of each sentence token

    @property
    def sentence_end(self) -> int:
        """One past the sentence's last token."""
        return self.sentence_start + len(self.offsets)


class PairEncoder:
    """Encodes pairs with a WordPiece `tokenizers.Tokenizer` (truncation and padding are off)."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        max_len: int,
        max_question: int = MAX_QUESTION_TOKENS,
        max_previous: int = MAX_PREVIOUS_TOKENS,
    ) -> None:
        if max_len < SPECIAL_TOKENS + 8:
            raise ValueError(f"max_len {max_len} is too short for a question and a sentence")
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.max_len = max_len
        self.max_question = min(max_question, (max_len - SPECIAL_TOKENS) // 2)
        self.max_previous = max_previous
        self.cls = _special(tokenizer, "[CLS]")
        self.sep = _special(tokenizer, "[SEP]")
        self.pad = tokenizer.token_to_id("[PAD]") or 0

    def encode(self, question: str, previous: str, sentence: str) -> PairInput:
        q = self.tokenizer.encode(question, add_special_tokens=False).ids[: self.max_question]
        sent = self.tokenizer.encode(sentence, add_special_tokens=False)
        room = self.max_len - SPECIAL_TOKENS - len(q)
        s_ids = sent.ids[:room]
        offsets = tuple((int(a), int(b)) for a, b in sent.offsets[: len(s_ids)])
        room = min(room - len(s_ids), self.max_previous)
        p_ids: list[int] = []
        if room > 0 and previous:
            p_ids = self.tokenizer.encode(previous, add_special_tokens=False).ids[-room:]
        ids = [self.cls, *q, self.sep, *p_ids, self.sep, *s_ids, self.sep]
        first = 2 + len(q)
        types = [0] * first + [1] * (len(ids) - first)
        return PairInput(tuple(ids), tuple(types), first + len(p_ids) + 1, offsets)


def _special(tokenizer: Tokenizer, token: str) -> int:
    found = tokenizer.token_to_id(token)
    if found is None:
        raise ValueError(f"the tokenizer has no {token} token")
    return int(found)


def token_span(pair: PairInput, start: int, end: int) -> tuple[int, int] | None:
    """Token indices (in `pair.ids`, inclusive) of the sentence tokens covering characters
    `start:end` of the sentence; None when the span lies (partly) past the kept tokens."""
    first = last = None
    for k, (a, b) in enumerate(pair.offsets):
        if first is None and b > start:
            first = k
        if a < end:
            last = k
    if first is None or last is None or last < first or pair.offsets[-1][1] < end:
        return None
    return pair.sentence_start + first, pair.sentence_start + last


def best_span(
    start_logits: Sequence[float] | NDArray[np.float32],
    end_logits: Sequence[float] | NDArray[np.float32],
    pair: PairInput,
    max_tokens: int = 30,
) -> tuple[int, int, float]:
    """The highest-scoring span of sentence tokens (start <= end, at most `max_tokens` long) as
    character offsets in the sentence, and its log-probability (start and end each a softmax
    over the sentence's tokens), which reads the same for a short sentence and a long one."""
    lo, hi = pair.sentence_start, pair.sentence_end
    if hi <= lo:
        return 0, 0, float("-inf")
    s = np.asarray(start_logits, dtype=np.float64)[lo:hi]
    e = np.asarray(end_logits, dtype=np.float64)[lo:hi]
    n = hi - lo
    grid = s[:, None] + e[None, :]
    k = np.arange(n)
    allowed = (k[None, :] >= k[:, None]) & (k[None, :] - k[:, None] < max_tokens)
    grid = np.where(allowed, grid, -np.inf)
    i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)
    norm = _logsumexp(s) + _logsumexp(e)
    return pair.offsets[int(i)][0], pair.offsets[int(j)][1], float(grid[i, j] - norm)


def _logsumexp(x: NDArray[np.float64]) -> float:
    top = float(np.max(x))
    return top + float(np.log(np.sum(np.exp(x - top))))
