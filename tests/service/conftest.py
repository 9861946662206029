"""A client of the app over the two-article test corpus, with the fake embedder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import FakeEmbedder


def make_client(settings: Settings, **overrides: object) -> TestClient:
    """A client of an app over `settings` with `overrides`, its engine on the fake embedder."""
    settings = settings.model_copy(update=overrides)
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    return TestClient(create_app(settings, engine), raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings) as c:
        yield c
