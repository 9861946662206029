"""A client of the app over the two-article test corpus, with the fake embedder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.service.app import create_app
from qa.service.engine import Engine
from tests.conftest import FakeEmbedder


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c
