"""The reader network: a BERT cross-encoder with a relevance head, a span head and a none logit.

Relevance is a logit on the [CLS] vector; the span head gives start and end logits per token
(only the candidate sentence's tokens are ever read from them). "None of these" is one learned
scalar that stands in a listwise softmax beside the candidates' logits, so `relevance - none`
means the same in a list of one candidate or of thirty: the reader's score of a candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from qa.answer.reader import ReadCandidate, Reading
from qa.answer.reader_inputs import PairEncoder, PairInput, best_span, token_span
from qa.training.pooling import Pooling
from qa.training.reader_data import NONE, ReaderList


class ReaderNet(nn.Module):
    """`encoder` is a BertModel (or anything returning `last_hidden_state`). The relevance head
    reads the [CLS] vector (`pooling="cls"`, the shipped reader) or the mean of the pair's token
    vectors (`"mean"`, as all-MiniLM-L6-v2 was trained to pool)."""

    def __init__(self, encoder: nn.Module, hidden: int, pooling: str = Pooling.CLS) -> None:
        super().__init__()
        if pooling not in set(Pooling):
            raise ValueError(
                f"pooling must be one of {[p.value for p in Pooling]}, not {pooling!r}"
            )
        self.pooling = Pooling(pooling)
        self.encoder = encoder
        self.relevance = nn.Linear(hidden, 1)
        self.span = nn.Linear(hidden, 2)
        self.none = nn.Parameter(torch.zeros(1))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Relevance (B), start and end logits (B, T), and the none logit (1)."""
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        if self.pooling == Pooling.MEAN:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        else:
            pooled = hidden[:, 0]
        relevance = self.relevance(pooled).squeeze(-1)
        start, end = self.span(hidden).unbind(-1)
        return relevance, start, end, self.none


def bundled_encoder(layers: int) -> tuple[nn.Module, int, Path]:
    """The bundled all-MiniLM-L6-v2 transformer cut to its first `layers` layers, its hidden
    size and its folder (which holds the tokenizer)."""
    from transformers import BertModel

    from qa.embed.model import force_offline, verify_model

    force_offline()
    folder, _, _ = verify_model(None)
    model = BertModel.from_pretrained(
        str(folder),
        local_files_only=True,
        num_hidden_layers=layers,
        add_pooling_layer=False,
        attn_implementation="eager",
    )
    return model, int(model.config.hidden_size), folder


@dataclass
class Batch:
    """Tensors of the flattened candidates of some lists."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    sentence_mask: torch.Tensor  # (B, T) true on the candidate sentence's tokens
    list_of: list[int]  # candidate -> list number
    targets: list[int]  # list number -> target position, or NONE
    weights: torch.Tensor  # list number -> weight
    span_rows: torch.Tensor  # candidates whose answer span is known
    span_start: torch.Tensor
    span_end: torch.Tensor


def pad_inputs(pairs: Sequence[PairInput], pad: int) -> tuple[torch.Tensor, ...]:
    """ids, attention mask, token types and sentence mask, padded to the longest pair."""
    width = max(len(p.ids) for p in pairs)
    ids = torch.full((len(pairs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    types = torch.zeros((len(pairs), width), dtype=torch.long)
    sentence = torch.zeros((len(pairs), width), dtype=torch.bool)
    for row, p in enumerate(pairs):
        n = len(p.ids)
        ids[row, :n] = torch.tensor(p.ids)
        mask[row, :n] = 1
        types[row, :n] = torch.tensor(p.type_ids)
        sentence[row, p.sentence_start : p.sentence_end] = True
    return ids, mask, types, sentence


def collate(lists: Sequence[ReaderList], encoder: PairEncoder) -> Batch:
    pairs: list[PairInput] = []
    list_of: list[int] = []
    rows: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for number, item in enumerate(lists):
        for c in item.candidates:
            pair = encoder.encode(item.question, c.previous, c.sentence)
            if c.answer is not None:
                span = token_span(pair, *c.answer)
                if span is not None:
                    rows.append(len(pairs))
                    starts.append(span[0])
                    ends.append(span[1])
            pairs.append(pair)
            list_of.append(number)
    ids, mask, types, sentence = pad_inputs(pairs, encoder.pad)
    return Batch(
        ids,
        mask,
        types,
        sentence,
        list_of,
        [item.target for item in lists],
        torch.tensor([item.weight for item in lists], dtype=torch.float32),
        torch.tensor(rows, dtype=torch.long),
        torch.tensor(starts, dtype=torch.long),
        torch.tensor(ends, dtype=torch.long),
    )


def loss(net: ReaderNet, batch: Batch, span_weight: float = 1.0) -> tuple[torch.Tensor, float]:
    """Weighted listwise cross-entropy over [none, candidates] plus the span loss of the
    candidates whose answer lies in their sentence; also the list loss alone (for the log)."""
    relevance, start, end, none = net(batch.input_ids, batch.attention_mask, batch.token_type_ids)
    device = relevance.device
    list_of = torch.tensor(batch.list_of, device=device)
    losses = []
    for number, target in enumerate(batch.targets):
        logits = torch.cat([none, relevance[list_of == number]])
        index = torch.tensor(0 if target == NONE else target + 1, device=device)
        losses.append(nn.functional.cross_entropy(logits[None], index[None]))
    weights = batch.weights.to(device)
    list_loss = (torch.stack(losses) * weights).sum() / weights.sum()
    total = list_loss
    if len(batch.span_rows):
        rows = batch.span_rows.to(device)
        allowed = batch.sentence_mask.to(device)[rows]
        floor = torch.finfo(start.dtype).min
        s = start[rows].masked_fill(~allowed, floor)
        e = end[rows].masked_fill(~allowed, floor)
        span_loss = (
            nn.functional.cross_entropy(s, batch.span_start.to(device))
            + nn.functional.cross_entropy(e, batch.span_end.to(device))
        ) / 2
        total = total + span_weight * span_loss
    return total, float(list_loss.detach())


class TorchReader:
    """The torch network behind the `Reader` interface (for held-out figures and agreement)."""

    def __init__(self, net: ReaderNet, encoder: PairEncoder, max_tokens: int = 30) -> None:
        self.net = net.eval()
        self.encoder = encoder
        self.max_tokens = max_tokens

    @torch.no_grad()
    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading:
        none = float(self.net.none.detach().cpu()[0])
        if not candidates:
            return Reading(none, ())
        pairs = [self.encoder.encode(question, p, s) for p, s in candidates]
        ids, mask, types, _ = pad_inputs(pairs, self.encoder.pad)
        dev = next(self.net.parameters()).device
        relevance, start, end, _ = self.net(ids.to(dev), mask.to(dev), types.to(dev))
        rel, s, e = relevance.cpu().numpy(), start.cpu().numpy(), end.cpu().numpy()
        out = []
        for k, pair in enumerate(pairs):
            a, b, score = best_span(s[k], e[k], pair, self.max_tokens)
            out.append(ReadCandidate(float(rel[k]) - none, a, b, score))
        return Reading(none, tuple(out))
