"""Schemathesis, in-process against the app's own OpenAPI schema: every operation (writes too,
with the token) gets generated requests, valid and invalid; no response may be a 5xx or break
the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from qa.api import create_app
from qa.config import Settings
from qa.engine import Engine
from tests.conftest import ARTICLES, FakeEmbedder

TOKEN = "schemathesis-token-0123456789"
# Building the app loads nothing (that happens at start-up), so its schema is cheap to list.
SPEC = create_app(Settings()).openapi()
OPERATIONS = [
    (method.upper(), path) for path, methods in SPEC["paths"].items() for method in methods
]
# Invalid requests can be made only for operations that take some input.
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE
    or {"parameters", "requestBody", "security"} & set(SPEC["paths"][path][method.lower()])
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    config = Settings(
        seeds_dir=seeds,
        index_dir=root / "index",
        feedback_path=root / "feedback.jsonl",
        api_token=TOKEN,
        max_article_bytes=20_000,
        reload_interval=0,
    )
    engine, _ = Engine.open(config, embedder=FakeEmbedder())
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config, engine))


def test_every_operation_is_covered() -> None:
    assert ("POST", "/documents") in OPERATIONS and ("DELETE", "/documents/{doc_id}") in OPERATIONS
    assert len(OPERATIONS) >= 12


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_errors_and_responses_match_the_schema(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()
