"""Schemathesis, in-process against the app's own OpenAPI schema.

Every operation (writes too, with the token; reads need a token here as well, so a request
without one is invalid input) gets generated requests, valid and invalid. No response may be a
5xx, use a status code or content type the schema does not document, or break the schema; every
invalid request must be rejected (4xx); auth must be enforced. A stateful run then chains
POST /documents -> GET / PUT / DELETE /documents/{doc_id} through the links schemathesis infers
from the responses, checking that a created article can be read and a deleted one is gone.

QA_SCHEMATHESIS_EXAMPLES sets the examples per operation and mode (default 50: about half a minute
on 2 cores).
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import given, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.stateful.state_machine import DEFAULT_STATE_MACHINE_SETTINGS
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import ARTICLES, FakeEmbedder

TOKEN = "schemathesis-token-0123456789"
READ_TOKEN = "schemathesis-read-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("QA_SCHEMATHESIS_EXAMPLES", "50"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    ignored_auth,
]
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]
# Building the app loads nothing (that happens at start-up), so its schema is cheap to list.
APP = create_app(Settings())
SPEC = APP.openapi()
OPERATIONS = [
    (method.upper(), path) for path, methods in SPEC["paths"].items() for method in methods
]


def _handlers(routes: Iterable[object]) -> Iterator[object]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.endpoint
        included = getattr(route, "original_router", None)  # a router the app includes
        if included is not None:
            yield from _handlers(included.routes)


@schemathesis.python.constants
def _app_code() -> list[object]:
    """The factory and every route handler: schemathesis draws some values from the literals of
    the modules that define them (and of what those import). Left to itself it looks only at
    the app's top-level routes, and FastAPI lists an included router there as one entry."""
    return [create_app, *_handlers(APP.routes)]


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
        read_token=READ_TOKEN,
        max_article_bytes=20_000,
        reload_interval=0,
    )
    engine, _ = Engine.open(config, embedder=FakeEmbedder())
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config, engine))


def test_every_operation_is_covered() -> None:
    assert ("POST", "/documents") in OPERATIONS and ("DELETE", "/documents/{doc_id}") in OPERATIONS
    assert len(OPERATIONS) >= 12


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_valid_requests_conform_and_invalid_ones_are_rejected(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    def run(case: Any) -> None:
        case.call_and_validate(headers=AUTH, checks=CHECKS)

    run()


def test_create_read_replace_delete_sequences_keep_the_api_consistent(api_schema: Any) -> None:
    machine = api_schema.as_state_machine()
    rules = [name for name in dir(machine) if name.startswith("POST_documents___201_")]
    # The links from a created article to reading, replacing and deleting it.
    for method in ("GET", "PUT", "DELETE"):
        assert any(r.endswith(f"__{method}_documents_doc_id_") for r in rules), rules
    calls: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []

    def workflow() -> Any:
        class Workflow(api_schema.as_state_machine()):  # type: ignore[misc]
            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"headers": AUTH}

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                calls[(case.method, response.status_code)] += 1
                try:
                    case.validate_response(
                        response,
                        checks=STATEFUL_CHECKS,
                        headers=AUTH,
                        transport_kwargs=kwargs or None,
                        recorder=self.recorder,  # what came before: for use-after-free
                    )
                except BaseException as err:
                    failures.append(f"{case.method} {case.formatted_path}: {err}")
                    raise

        return Workflow

    # Schemathesis steers which links to follow by what earlier scenarios did, state Hypothesis
    # does not expect to change: a long run may stop with FlakyStrategyDefinition, which the
    # schemathesis runner answers with a fresh start. So: short runs, each on a fresh machine;
    # any check that failed on the way fails the test. Schemathesis' stateful settings
    # (generation only: the server's state carries over, so no replay would see the same
    # responses), with Hypothesis' health checks back on.
    for _ in range(max(EXAMPLES // 10, 3)):
        with contextlib.suppress(FlakyStrategyDefinition):
            workflow().run(
                settings=settings(
                    DEFAULT_STATE_MACHINE_SETTINGS,
                    max_examples=10,
                    stateful_step_count=6,
                    suppress_health_check=[],
                    database=None,
                    derandomize=True,  # the same chains every run: a pass is not luck
                )
            )
        assert not failures, failures[0]
    # The chains really ran: articles were created, then deleted by their id (derandomized, so
    # the same chains every run; which reads and replacements they include depends on what the
    # generator makes of the body schema, e.g. text and url together are a 422).
    for method, status in (("POST", 201), ("DELETE", 204)):
        assert calls[(method, status)] > 0, calls
