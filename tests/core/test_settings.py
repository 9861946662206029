"""One `Settings`: `QA_*` variables, validated at once with messages that name the knob."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from qa.core.settings import Settings, get_settings, settings_for

SECRET = "s3cret-token-0123456789"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("QA_")]:
        monkeypatch.delenv(name)


def test_each_field_is_read_from_its_qa_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CHUNK_SIZE", "5")
    monkeypatch.setenv("QA_SEEDS_DIR", "articles")
    monkeypatch.setenv("QA_ENCODER", "torch")
    settings = Settings()
    assert (settings.chunk_size, settings.seeds_dir, settings.encoder) == (
        5,
        Path("articles"),
        "torch",
    )


def test_an_overlap_not_below_the_chunk_size_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QA_CHUNK_SIZE", "2")
    monkeypatch.setenv("QA_CHUNK_OVERLAP", "2")
    with pytest.raises(ValidationError, match=r"QA_CHUNK_OVERLAP \(2\).*QA_CHUNK_SIZE \(2\)"):
        Settings()


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("QA_PORT", "70000", "port"),
        ("QA_ENCODER", "gpu", "encoder"),
        ("QA_MILVUS_COLLECTION", "1-bad", "milvus_collection"),
        ("QA_THREADS", "-1", "threads"),
    ],
)
def test_a_bad_value_names_its_field(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=field):
        Settings()


@pytest.mark.parametrize("name", ["QA_API_TOKEN", "QA_READ_TOKEN", "QA_MILVUS_TOKEN"])
def test_a_blank_token_means_unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "   ")
    settings = Settings()
    assert (settings.api_token, settings.read_token, settings.milvus_token) == (None, None, None)


def test_a_short_token_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_API_TOKEN", "short-secret")
    with pytest.raises(ValidationError, match="api_token") as info:
        Settings()
    assert "short-secret" not in str(info.value)


def test_tokens_stay_out_of_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_API_TOKEN", SECRET)
    monkeypatch.setenv("QA_READ_TOKEN", SECRET)
    settings = Settings()
    assert settings.api_token == SECRET and SECRET not in repr(settings)


def test_settings_for_puts_the_given_values_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QA_SEEDS_DIR", "from-env")
    monkeypatch.setenv("QA_PORT", "9000")
    settings = settings_for(None, Path("idx"), port=None, chunk_size=4)
    assert settings.seeds_dir == Path("from-env") and settings.index_dir == Path("idx")
    assert (settings.port, settings.chunk_size) == (9000, 4)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"port": 0}, "port"), ({"workers": 0}, "workers"), ({"chunk_overlap": 3}, "QA_CHUNK_SIZE")],
)
def test_settings_for_validates_the_values_it_is_given(
    overrides: dict[str, int], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings_for(None, None, **overrides)


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("QA_PORT", "9001")
        first = get_settings()
        monkeypatch.setenv("QA_PORT", "9002")
        assert get_settings() is first and first.port == 9001
    finally:
        get_settings.cache_clear()


def test_feeds_are_comma_separated_urls_or_the_json_list_workers_get(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QA_FEEDS", " https://a.example/rss.xml, http://b.example/atom ,")
    assert Settings().feeds == ["https://a.example/rss.xml", "http://b.example/atom"]
    monkeypatch.setenv("QA_FEEDS", '["https://a.example/rss.xml"]')
    assert Settings().feeds == ["https://a.example/rss.xml"]
    monkeypatch.setenv("QA_FEEDS", "")
    assert Settings().feeds == []
    monkeypatch.setenv("QA_FEEDS", "https://a.example/rss.xml,file:///etc/passwd")
    with pytest.raises(ValidationError, match="QA_FEEDS: 'file:///etc/passwd' is not an http"):
        Settings()
    monkeypatch.setenv("QA_FEED_INTERVAL", "0.5")
    with pytest.raises(ValidationError, match="feed_interval"):
        Settings(feeds=[])
