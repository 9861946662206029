"""Bearer tokens on a bare app: 401 without a usable header, 403 for a wrong token or while
writes are off, and the read token (or the API token) for reads once one is set."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.service.auth import Reader, Writer, matches

API = "api-token-0123456789abcdef"
READ = "read-token-0123456789abcdef"


def client(api_token: str | None = API, read_token: str | None = None) -> TestClient:
    app = FastAPI()
    app.state.settings = Settings(api_token=api_token, read_token=read_token)

    @app.post("/write", dependencies=[Writer])
    def write() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/read", dependencies=[Reader])
    def read() -> dict[str, bool]:
        return {"ok": True}

    return TestClient(app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("headers", "sent"),
    [({}, "no header"), ({"Authorization": "Basic dXNlcjpwdw=="}, "a malformed header")],
)
def test_a_write_without_a_bearer_token_is_401_saying_what_was_sent(
    headers: dict[str, str], sent: str
) -> None:
    r = client().post("/write", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "writes need a token" in r.json()["detail"] and sent in r.json()["detail"]


@pytest.mark.parametrize("token", ["wrong", API + "x", API[:-1], READ])
def test_a_write_with_another_token_is_403(token: str) -> None:
    r = client(read_token=READ).post("/write", headers=bearer(token))
    assert r.status_code == 403 and "wrong token" in r.json()["detail"]


def test_a_write_with_the_api_token_passes_spaces_aside() -> None:
    assert client().post("/write", headers=bearer(API)).status_code == 200
    assert client().post("/write", headers={"Authorization": f"Bearer  {API} "}).json() == {
        "ok": True
    }


def test_writes_are_off_without_an_api_token_whatever_is_sent() -> None:
    for headers in ({}, bearer(API)):
        r = client(api_token=None).post("/write", headers=headers)
        assert r.status_code == 403 and "set QA_API_TOKEN" in r.json()["detail"]


def test_reads_are_open_without_a_read_token() -> None:
    assert client().get("/read").status_code == 200
    assert client().get("/read", headers=bearer("anything")).status_code == 200


def test_a_read_token_guards_reads_and_the_api_token_reads_too() -> None:
    guarded = client(read_token=READ)
    missing = guarded.get("/read")
    assert missing.status_code == 401 and "reads on this server need a token" in missing.text
    assert guarded.get("/read", headers=bearer("wrong")).status_code == 403
    assert guarded.get("/read", headers=bearer(READ)).status_code == 200
    assert guarded.get("/read", headers=bearer(API)).status_code == 200
    reads_only = client(api_token=None, read_token=READ)
    assert reads_only.get("/read", headers=bearer(READ)).status_code == 200
    assert reads_only.get("/read", headers=bearer(API)).status_code == 403


def test_matches_any_expected_token_and_ignores_unset_ones() -> None:
    assert matches(API, None, API) and matches(READ, READ, None)
    assert not matches(API, None, None) and not matches("", READ)
    assert not matches("ключ\udcff", API)  # undecodable input is compared, not an error
