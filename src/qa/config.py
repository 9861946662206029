"""One `Settings` object for the whole service, read from `QA_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each field is set by the env var `QA_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    seeds_dir: Path = Field(Path("seeds"), description="Folder of articles (.txt / .md).")
    index_dir: Path = Field(Path("index"), description="Folder that `qa index` writes.")
    model: Path | None = Field(
        None,
        description="Local sentence-transformers folder; default: the bundled all-MiniLM-L6-v2.",
    )
    chunk_size: int = Field(3, ge=1, le=50, description="Sentences per chunk.")
    chunk_overlap: int = Field(1, ge=0, le=49, description="Sentences shared by adjacent chunks.")
    abstain_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Answers with a lower confidence are withheld."
    )
    candidates: int = Field(
        30, ge=1, le=1000, description="Sentences and chunks fetched from the index per question."
    )
    ranker: Path | None = Field(
        None, description="Ranker weights (JSON); default: the ranker packaged with qa."
    )
    host: str = Field("127.0.0.1", description="Address `qa serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `qa serve` binds.")
    threads: int = Field(0, ge=0, le=256, description="CPU threads for the encoder; 0 = cores.")
    batch_size: int = Field(64, ge=1, le=4096, description="Sentences per encoder batch.")

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
