"""The reader network's relevance head: what it reads of the pair."""

from __future__ import annotations

import pytest
import torch

from qa.training.reader_model import pad_inputs
from tests.training.tiny import tiny_encoder, tiny_net

QUESTION = "Who keeps the harbour?"
SHORT = ("", "Anna keeps it.")
LONG = ("The harbour was rebuilt in spring after the storm.", "Its new keeper is Anna Berg.")


def _relevance(pooling: str, pairs: list[tuple[str, str]]) -> list[float]:
    torch.manual_seed(0)
    net = tiny_net(pooling).eval()
    encoder = tiny_encoder()
    ids, mask, types, _ = pad_inputs([encoder.encode(QUESTION, p, s) for p, s in pairs], 0)
    with torch.no_grad():
        relevance = net(ids, mask, types)[0]
    return [float(r) for r in relevance]


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_a_pairs_relevance_ignores_the_padding_a_longer_batch_mate_adds(pooling: str) -> None:
    alone = _relevance(pooling, [SHORT])[0]
    padded = _relevance(pooling, [SHORT, LONG])[0]
    assert padded == pytest.approx(alone, abs=1e-5)


def test_mean_pooling_reads_every_token_and_cls_pooling_the_first() -> None:
    torch.manual_seed(0)
    net = tiny_net("mean").eval()
    encoder = tiny_encoder()
    ids, mask, types, _ = pad_inputs([encoder.encode(QUESTION, *LONG)], 0)
    with torch.no_grad():
        hidden = net.encoder(
            input_ids=ids, attention_mask=mask, token_type_ids=types
        ).last_hidden_state
        relevance = net(ids, mask, types)[0]
        net.pooling = "cls"
        first = net(ids, mask, types)[0]
        mean_head = net.relevance(hidden.mean(1)).squeeze(-1)
        cls_head = net.relevance(hidden[:, 0]).squeeze(-1)
    assert float(relevance[0]) == pytest.approx(float(mean_head[0]), abs=1e-5)
    assert float(first[0]) == pytest.approx(float(cls_head[0]), abs=1e-5)
    assert abs(float(relevance[0]) - float(first[0])) > 1e-4


def test_an_unknown_pooling_is_refused() -> None:
    with pytest.raises(ValueError, match="pooling"):
        tiny_net("max")
