"""Every error is RFC 9457 problem+json with a request id, and leaks nothing."""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from ortholens.app import create_app
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.kit.logging import configure_logging
from ortholens.runtime import Runtime
from ortholens.settings import LogFormat

SECRET_LOOKING = "SELECT * FROM patients WHERE name = 'Jane Doe'"

failing = APIRouter(prefix="/api/_test")


@failing.get("/not-found")
def raise_not_found() -> None:
    raise NotFound("No patient with this id.")


@failing.get("/invalid")
def raise_invalid() -> None:
    raise InvalidInput("The photo is larger than 50 MB.", field="file")


@failing.get("/conflict")
def raise_conflict() -> None:
    raise Conflict("This session was already reviewed.")


@failing.get("/crash")
def crash() -> None:
    raise RuntimeError(SECRET_LOOKING)


@failing.post("/echo")
def echo(payload: dict[str, int]) -> dict[str, int]:
    return payload


@pytest.fixture
def app_client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime)
    app.include_router(failing)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_problem(response, status: int, slug: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + slug)
    assert body["title"] and body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("path", "status", "slug", "detail"),
    [
        ("/api/_test/not-found", 404, "not-found", "No patient with this id."),
        ("/api/_test/invalid", 422, "invalid-input", "The photo is larger than 50 MB."),
        ("/api/_test/conflict", 409, "conflict", "This session was already reviewed."),
    ],
)
def test_domain_errors_render_as_problems(
    app_client: TestClient, path: str, status: int, slug: str, detail: str
) -> None:
    body = assert_problem(app_client.get(path), status, slug)
    assert body["detail"] == detail


def test_extra_members_are_kept(app_client: TestClient) -> None:
    assert app_client.get("/api/_test/invalid").json()["field"] == "file"


def test_unexpected_errors_hide_their_message_and_trace(app_client: TestClient) -> None:
    response = app_client.get("/api/_test/crash")
    body = assert_problem(response, 500, "internal-error")
    assert "Jane" not in response.text and "SELECT" not in response.text
    assert "Traceback" not in response.text
    assert "request id" in body["detail"]


def test_validation_errors_do_not_echo_the_input(app_client: TestClient) -> None:
    response = app_client.post("/api/_test/echo", json={"name": "Jane Doe"})
    body = assert_problem(response, 422, "invalid-input")
    assert "Jane" not in response.text
    assert body["errors"][0]["loc"] == ["body", "name"]


def test_unknown_route_and_method(app_client: TestClient) -> None:
    assert_problem(app_client.get("/api/nothing-here"), 404, "not-found")
    assert_problem(app_client.delete("/healthz"), 405, "method-not-allowed")


def test_request_id_is_generated_or_taken_from_a_well_formed_header(app_client: TestClient) -> None:
    generated = app_client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    given = app_client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    assert given.headers["x-request-id"] == "lb-1234abcd"
    hostile = app_client.get("/healthz", headers={"X-Request-ID": "x\r\nSet-Cookie: a=b"})
    assert hostile.headers["x-request-id"] != "x\r\nSet-Cookie: a=b"


def test_security_headers_on_every_response(app_client: TestClient) -> None:
    for response in (app_client.get("/healthz"), app_client.get("/api/_test/not-found")):
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    assert app_client.get("/api/_test/not-found").headers["cache-control"] == "no-store"


def test_logs_are_json_with_request_id_and_route_template_only(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("INFO", LogFormat.JSON)
    job_id = uuid.uuid4()
    response = app_client.get(f"/api/jobs/{job_id}?email=jane@example.org")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines, stream.getvalue()
    entry = request_lines[-1]
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["route"] == "/api/jobs/{job_id}"
    assert entry["status"] == 401  # not signed in
    assert str(job_id) not in stream.getvalue()
    assert "jane@example.org" not in stream.getvalue()


def test_logged_exceptions_carry_type_and_frames_but_no_message(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("INFO", LogFormat.JSON)
    app_client.get("/api/_test/crash")
    logged = stream.getvalue()
    assert "Jane" not in logged
    entry = next(json.loads(line) for line in logged.splitlines() if '"request.unhandled"' in line)
    assert entry["exception"]["type"] == "builtins.RuntimeError"
    assert any("in crash" in frame for frame in entry["exception"]["frames"])
