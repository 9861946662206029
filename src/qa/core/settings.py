"""One `Settings` object for the whole service, read from `QA_*` environment variables."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each field is set by the env var `QA_<NAME>`."""

    # Inputs are kept out of error messages: they may be tokens.
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore", hide_input_in_errors=True)

    seeds_dir: Path = Field(Path("seeds"), description="Folder of articles (.txt / .md).")
    index_dir: Path = Field(Path("index"), description="Folder that `qa index` writes.")
    model: Path | None = Field(
        None,
        description="Local sentence-transformers folder; default: the bundled all-MiniLM-L6-v2.",
    )
    chunk_size: int = Field(3, ge=1, le=50, description="Sentences per chunk.")
    chunk_overlap: int = Field(1, ge=0, le=49, description="Sentences shared by adjacent chunks.")
    abstain_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="An answer is withheld when its `confidence` (the calibrated probability "
        "that the quoted sentence answers the question, the number shown) is lower; default: the "
        "threshold chosen by `qa train-confidence` (`meta.abstain_threshold` in ranker.json).",
    )
    candidates: int = Field(
        30, ge=1, le=1000, description="Sentences and chunks fetched from the index per question."
    )
    reader_candidates: int = Field(
        4,
        ge=0,
        le=100,
        description="The ranker's best candidates that the reader (a cross-encoder trained by "
        "`qa train-reader`) reads per question and re-orders; 0 = the ranker alone.",
    )
    ranker: Path | None = Field(
        None, description="Ranker weights (JSON); default: the ranker packaged with qa."
    )
    host: str = Field("127.0.0.1", description="Address `qa serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `qa serve` binds.")
    threads: int = Field(
        0,
        ge=0,
        le=256,
        description="CPU threads of one process (encoder, FAISS, BLAS; questions answered at "
        "once); 0 = its share of the cores (cores / workers).",
    )
    batch_size: int = Field(64, ge=1, le=4096, description="Sentences per encoder batch.")
    encoder: Literal["onnx-int8", "onnx-fp32", "torch"] = Field(
        "onnx-int8",
        description="How sentences are embedded: the model exported to ONNX with int8 weights "
        "(default; serving never imports torch), the same in fp32, or sentence-transformers on "
        "torch. Changing it makes the index stale.",
    )
    encoder_cache: Path | None = Field(
        None,
        description="Folder of exported ONNX encoders; default $XDG_CACHE_HOME/qa/encoders.",
    )
    workers: int = Field(1, ge=1, le=64, description="Server processes for `qa serve`.")
    feedback_path: Path = Field(
        Path("feedback.jsonl"), description="JSON-lines file that POST /feedback appends to."
    )
    feedback_max_bytes: int = Field(
        50 * 1024 * 1024,
        ge=1024,
        le=1024**4,
        description="Largest size of the feedback file; a vote that would pass it is refused "
        "(507) until the file is moved away.",
    )
    feedback_rate: float = Field(
        30.0,
        gt=0.0,
        le=100_000.0,
        description="Votes per minute that POST /feedback takes from one client address (in "
        "bursts of as many); faster is a 429 with Retry-After. Per worker process.",
    )
    api_token: str | None = Field(
        None,
        min_length=16,
        repr=False,
        description="Bearer token that POST/PUT/DELETE /documents require; unset = writes off.",
    )
    read_token: str | None = Field(
        None,
        min_length=16,
        repr=False,
        description="Bearer token that reads (/ask, /documents, /health, /metrics) require; "
        "unset = reads are open. The API token is accepted too.",
    )
    max_article_bytes: int = Field(
        1024 * 1024,
        ge=1,
        le=1024**3,
        description="Largest article (UTF-8 bytes) accepted; at 1 MiB (ten times a long news "
        "feature) serving stays under 500 MB resident through such uploads.",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Largest request body outside article uploads (e.g. POST /ask).",
    )
    body_timeout: float = Field(
        60.0,
        gt=0.0,
        le=3600.0,
        description="Seconds a client may take to send a request's whole body, from the "
        "request's start; slower is a 408 and the connection is closed.",
    )
    fetch_allow_private: bool = Field(
        False,
        description='Let POST/PUT /documents {"url"} fetch loopback, private and link-local '
        "addresses (tests, intranets); off, the server fetches only public addresses.",
    )
    fetch_timeout: float = Field(
        20.0, gt=0.0, le=600.0, description="Seconds one page or feed fetch may take in all."
    )
    fetch_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=1024**3, description="Largest page or feed fetched (bytes)."
    )
    fetch_max_redirects: int = Field(
        5, ge=0, le=20, description="Redirects followed when fetching a page or feed."
    )
    reload_interval: float = Field(
        1.0,
        ge=0.0,
        le=3600.0,
        description="Seconds between checks for an index another process published "
        "(`qa add`, another worker); 0 = never check.",
    )
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="RSS or Atom feeds (comma-separated http(s) URLs) that `qa serve` follows: "
        "each is polled every QA_FEED_INTERVAL seconds and its new articles stored.",
    )
    feed_interval: float = Field(
        900.0,
        ge=1.0,
        le=7 * 86400.0,
        description="Seconds between two polls of a feed (10 % jitter either way; doubled "
        "after each failure in a row, up to 32 times).",
    )
    store: Literal["faiss", "milvus"] = Field(
        "faiss",
        description="Where the vectors are searched: FAISS files in the index folder (default) "
        "or a Milvus collection (QA_MILVUS_*). Changing it makes the index stale.",
    )
    milvus_uri: str = Field(
        "milvus.db",
        min_length=1,
        description="A local file path (Milvus Lite, one process) or http://host:19530 "
        "(a Milvus server or cluster).",
    )
    milvus_token: str | None = Field(
        None, repr=False, description="Milvus credentials, `user:password` or an API key."
    )
    milvus_collection: str = Field(
        "qa",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,180}$",
        description="Collection name prefix; the collection is `<prefix>_<model hash>`.",
    )
    milvus_index: Literal["FLAT", "HNSW"] = Field(
        "FLAT", description="Milvus index over the dense vectors (metric IP = cosine)."
    )
    milvus_search: Literal["separate", "hybrid"] = Field(
        "separate",
        description="How Milvus finds candidates: a dense and a BM25 full-text search per "
        "question and kind (`separate`, their union), or one hybrid search fusing both (RRF).",
    )

    @field_validator("api_token", "read_token", "milvus_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("feeds", mode="before")
    @classmethod
    def _feed_list(cls, value: object) -> object:
        # QA_FEEDS is comma-separated; a JSON list is what `qa serve --workers` passes on.
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else text.split(",")
        return value

    @field_validator("feeds")
    @classmethod
    def _feeds_are_web(cls, value: list[str]) -> list[str]:
        feeds = [url.strip() for url in value if url.strip()]
        for url in feeds:
            parts = urlsplit(url)
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ValueError(f"QA_FEEDS: {url[:300]!r} is not an http(s) URL")
        return list(dict.fromkeys(feeds))

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"QA_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than "
                f"QA_CHUNK_SIZE ({self.chunk_size})"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once."""
    return Settings()


def settings_for(seeds_dir: Path | None, index_dir: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment with the given values on top (None keeps a value as is),
    all of them validated."""
    values = {"seeds_dir": seeds_dir, "index_dir": index_dir, **overrides}
    # Keyword arguments take precedence over the environment in pydantic-settings.
    return Settings(**{k: v for k, v in values.items() if v is not None})
