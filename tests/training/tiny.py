"""A randomly initialised one-layer BERT reader with the bundled tokenizer, for fast tests."""

from __future__ import annotations

from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

from qa.answer.reader_inputs import PairEncoder
from qa.embed.model import bundled_model_path
from qa.training.reader_model import ReaderNet

HIDDEN = 32


def tiny_net(pooling: str = "cls") -> ReaderNet:
    config = BertConfig(
        vocab_size=30522,
        hidden_size=HIDDEN,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        attn_implementation="eager",
    )
    return ReaderNet(BertModel(config, add_pooling_layer=False), HIDDEN, pooling)


def tiny_encoder(max_len: int = 48) -> PairEncoder:
    return PairEncoder(Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json")), max_len)
