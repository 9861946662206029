"""The reader at run time: its token layout, the hash check, and the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from qa.answer.reader import Reader, ReaderError, default_paths
from qa.answer.reader_inputs import PairEncoder, best_span, token_span
from qa.embed.model import bundled_model_path


@pytest.fixture(scope="module")
def encoder() -> PairEncoder:
    return PairEncoder(Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json")), 40)


def test_the_layout_is_question_previous_sentence(encoder: PairEncoder) -> None:
    pair = encoder.encode("Who won?", "It rained all day.", "Anna Berg won the race.")
    tokens = [encoder.tokenizer.id_to_token(i) for i in pair.ids]
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 3 and tokens[-1] == "[SEP]"
    question_end = tokens.index("[SEP]")
    assert pair.type_ids == tuple([0] * (question_end + 1) + [1] * (len(tokens) - question_end - 1))
    assert tokens[pair.sentence_start : pair.sentence_end] == [
        "anna",
        "berg",
        "won",
        "the",
        "race",
        ".",
    ]
    assert tokens[pair.sentence_start - 1] == "[SEP]"


def test_a_long_pair_keeps_the_sentence_and_the_end_of_the_previous_one(
    encoder: PairEncoder,
) -> None:
    previous = " ".join(f"word{i}" for i in range(60)) + " closing words"
    pair = encoder.encode("Who won?", previous, "Anna Berg won the race.")
    tokens = [encoder.tokenizer.id_to_token(i) for i in pair.ids]
    assert len(pair.ids) <= 40
    assert tokens[pair.sentence_start : pair.sentence_end][:2] == ["anna", "berg"]
    assert tokens[pair.sentence_start - 3 : pair.sentence_start - 1] == ["closing", "words"]


def test_spans_map_between_characters_and_tokens(encoder: PairEncoder) -> None:
    sentence = "Anna Berg won the race."
    pair = encoder.encode("Who won?", "", sentence)
    first, last = token_span(pair, 0, 9) or (0, 0)
    assert (first, last) == (pair.sentence_start, pair.sentence_start + 1)
    start = [0.0] * len(pair.ids)
    end = [0.0] * len(pair.ids)
    start[first], end[last] = 5.0, 5.0
    start[0] = end[0] = 100.0  # [CLS] is never a span
    a, b, _ = best_span(start, end, pair)
    assert sentence[a:b] == "Anna Berg"


def test_a_tampered_model_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "reader.onnx"
    model.write_bytes(b"not the trained model")
    (tmp_path / "reader.json").write_text(json.dumps({"sha256": "0" * 64, "max_len": 64}))
    reader = Reader(model)  # cheap: nothing is read yet
    with pytest.raises(ReaderError, match="altered"):
        reader.warm_up()


def test_the_shipped_reader_prefers_the_answering_sentence() -> None:
    model, meta = default_paths()
    assert model.is_file() and meta.is_file(), "train it: qa train-reader"
    reading = Reader().read(
        "Who won the 2024 city marathon?",
        [
            ("The bakery opened a second shop.", "Its bread is baked with rye flour."),
            ("The city marathon was held in April.", "Anna Berg won the 2024 city marathon."),
        ],
    )
    unrelated, answering = reading.candidates
    assert answering.relevance > unrelated.relevance
    assert answering.relevance > 0 > unrelated.relevance
    sentence = "Anna Berg won the 2024 city marathon."
    assert "Anna Berg" in sentence[answering.start : answering.end]


def test_pairs_read_in_parallel_score_exactly_as_one_after_another() -> None:
    question = "Who won the 2024 city marathon?"
    pairs = [
        ("The bakery opened a second shop.", "Its bread is baked with rye flour."),
        ("The city marathon was held in April.", "Anna Berg won the 2024 city marathon."),
        ("", "The race started at the harbour and ended in the old town."),
        ("Anna Berg trains in Lindvik.", "She finished in two hours and nine minutes."),
    ]
    alone = Reader(parallel=1).read(question, pairs)
    together = Reader(parallel=4).read(question, pairs)
    assert together == alone
    assert Reader(parallel=3).read(question, pairs[1:2]).candidates == alone.candidates[1:2]
