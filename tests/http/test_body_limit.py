"""Request bodies are limited before they are parsed (issue 12: a 300 MB JSON body to the sign-in
route took the server to a 1.31 GB peak before its 422).

The limit counts a declared Content-Length and the bytes actually streamed; file uploads in
multipart forms and the raw upload route keep their own, larger limits. The streamed case runs
against a real uvicorn server over a socket, so that "answered before the body was read" is what
a client sees, not what a test transport does.
"""

from __future__ import annotations

import json
import select
import socket
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from ortholens.app import create_app
from ortholens.http.middleware import JSON_BODY_LIMIT
from ortholens.runtime import Runtime
from tests.threaded_server import serve_in_thread

CHUNK = 64 * 1024
STREAM_TOTAL = 256 * 1024 * 1024  # what the client would send if nobody stopped it


def _problem(response: object) -> dict[str, object]:
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


def test_a_declared_large_json_body_is_refused_with_413(client: TestClient) -> None:
    body = b'{"email": "' + b"a" * (JSON_BODY_LIMIT + 10) + b'", "password": "x"}'
    response = client.post(
        "/api/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    problem = _problem(response)
    assert problem["status"] == 413 and str(problem["type"]).endswith("/payload-too-large")


def test_a_body_under_the_limit_is_parsed_as_before(client: TestClient) -> None:
    padding = "a" * (JSON_BODY_LIMIT - 1000)
    response = client.post(
        "/api/auth/login", json={"email": "x@example.org", "password": "p", "pad": padding}
    )
    assert response.status_code in (401, 422)


def test_any_content_type_counts_on_a_json_route(client: TestClient) -> None:
    """FastAPI reads a non-JSON body of a JSON route whole too: the media type is no way out."""
    big = b"x" * (JSON_BODY_LIMIT + 1)
    for content_type in ("application/octet-stream", "multipart/form-data; boundary=x", ""):
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/api/auth/login", content=big, headers=headers)
        assert response.status_code == 413, content_type


def test_urlencoded_form_posts_are_limited(client: TestClient) -> None:
    response = client.post(
        "/login",
        content=b"email=" + b"a" * (JSON_BODY_LIMIT + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_file_uploads_keep_their_own_limit(
    client: TestClient, doctor_headers: dict[str, str]
) -> None:
    """A scan import is a multipart file upload: 2 MB is far from its limit (it is refused as a
    file, not as a body)."""
    response = client.post(
        "/api/imaging/3d/import",
        headers=doctor_headers,
        files={"file": ("junk.stl", b"\x00" * (2 * JSON_BODY_LIMIT))},
    )
    assert response.status_code != 413
    assert response.status_code < 500


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
        block = sock.recv(65536)
        if not block:
            break
        data += block
    return data


def _length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 0


def _stream_until_answered(base_url: str) -> tuple[int, bytes]:
    """Send a chunked JSON body of STREAM_TOTAL bytes to the sign-in route, stopping as soon as
    the server answers; returns how many body bytes went out and the raw response."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.sendall(
        b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (CHUNK, b" " * CHUNK)
    sent = 0
    try:
        while sent < STREAM_TOTAL:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break
            if writable:
                sock.sendall(chunk)
                sent += CHUNK
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed; the answer is still in our receive buffer
    response = _read_response(sock)
    sock.close()
    return sent, response


def test_a_streamed_body_is_cut_off_with_413_long_before_its_end(runtime: Runtime) -> None:
    with serve_in_thread(create_app(runtime), name="body-limit") as base_url:
        sent, response = _stream_until_answered(base_url)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.split()[1] == b"413", response[:300]
    assert b"application/problem+json" in rest.split(b"\r\n\r\n", 1)[0]
    problem = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert problem["status"] == 413
    # The server stopped reading after about a megabyte; what went out beyond that sat in the
    # socket buffers. Without the limit the whole 256 MB is read before any answer.
    assert sent < STREAM_TOTAL // 4
