"""A request's session is a read transaction for GET and HEAD, a write transaction otherwise, and
a write transaction for a GET endpoint marked `writes`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ortholens.http.deps import SessionDep, writes
from ortholens.kit.db import is_read_transaction
from ortholens.runtime import Runtime


@pytest.fixture
def kinds(runtime: Runtime) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.runtime = runtime

    @app.get("/kind")
    def read_kind(db: SessionDep) -> dict[str, bool]:
        return {"read": is_read_transaction(db)}

    @app.post("/kind")
    def write_kind(db: SessionDep) -> dict[str, bool]:
        return {"read": is_read_transaction(db)}

    @app.get("/hop")
    @writes
    def hop_kind(db: SessionDep) -> dict[str, bool]:
        return {"read": is_read_transaction(db)}

    with TestClient(app) as client:
        yield client


def test_a_get_reads(kinds: TestClient) -> None:
    assert kinds.get("/kind").json() == {"read": True}


def test_a_post_writes(kinds: TestClient) -> None:
    assert kinds.post("/kind").json() == {"read": False}


def test_a_get_marked_writes_writes(kinds: TestClient) -> None:
    assert kinds.get("/hop").json() == {"read": False}
