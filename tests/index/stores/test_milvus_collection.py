"""The Milvus collection's own rules, without a server: which URIs are Milvus Lite, article
version keys, collection names per model, row texts cut to the VARCHAR limit, short errors.

Syncing, verifying and searching a real collection are in test_milvus.py (Milvus Lite)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.stores.milvus_collection import (
    KEY_CHARS,
    MAX_TEXT_BYTES,
    SENTENCE,
    MilvusConfig,
    _row,
    collection_name,
    doc_key,
    short,
)


@pytest.mark.parametrize(
    ("uri", "lite"),
    [
        ("milvus.db", True),
        ("/var/lib/qa/milvus.db", True),
        ("http://milvus:19530", False),
        ("https://in01.cloud.zilliz.com", False),
        ("tcp://10.0.0.5:19530", False),
        ("unix:/run/milvus.sock", False),
    ],
)
def test_a_uri_without_a_scheme_is_milvus_lite(uri: str, lite: bool) -> None:
    assert MilvusConfig(uri).is_lite is lite


def test_an_article_versions_key_is_stable_and_tells_versions_and_ids_apart() -> None:
    key = doc_key("quad", "a" * 64)
    assert key == doc_key("quad", "a" * 64) and len(key) == KEY_CHARS
    assert int(key, 16) >= 0  # hex
    assert key != doc_key("quad", "b" * 64)
    assert doc_key("ab", "c") != doc_key("a", "bc")  # the separator keeps fields apart


def test_each_model_has_its_own_collection() -> None:
    config = MilvusConfig("milvus.db", collection="news")
    assert collection_name(config, "0123456789abcdef" * 4) == "news_0123456789ab"
    assert collection_name(config, "f" * 64) != collection_name(config, "e" * 64)


def test_a_row_text_is_cut_to_the_varchar_limit_on_a_character_boundary() -> None:
    text = "é" * MAX_TEXT_BYTES  # two bytes each: twice the limit
    row = _row("k", SENTENCE, 3, np.array([0.5, 0.25], np.float32), "quad", 10, 20, text)
    kept = row["text"].encode("utf-8")
    assert len(kept) <= MAX_TEXT_BYTES and len(kept) >= MAX_TEXT_BYTES - 1
    assert set(row["text"]) == {"é"}
    assert row["id"] == "k:0:3" and row["dense"] == [0.5, 0.25]
    assert (row["doc_id"], row["start"], row["end"], row["n"]) == ("quad", 10, 20, 3)
    short_row = _row("k", SENTENCE, 0, [1.0], "quad", 0, 5, "Hello")
    assert short_row["text"] == "Hello" and short_row["dense"] == [1.0]


def test_short_errors_are_one_line_of_bounded_length() -> None:
    assert short(RuntimeError("first line\nsecond line")) == "first line"
    assert short(TimeoutError()) == "TimeoutError"
    assert short(RuntimeError("  ")) == "RuntimeError"
    assert len(short(RuntimeError("x" * 1000))) == 300
