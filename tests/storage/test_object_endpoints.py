"""Signed upload and download of local objects through the HTTP API."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2
import pytest
from fastapi.testclient import TestClient

from ortholens.kit.storage.local import LocalObjectStore
from ortholens.runtime import Runtime

KEY = "c1/p1/photo/00000000-0000-0000-0000-000000000001/original.png"
DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture
def store(runtime: Runtime) -> LocalObjectStore:
    assert isinstance(runtime.store, LocalObjectStore)
    return runtime.store


def upload(
    client: TestClient, store: LocalObjectStore, data: bytes = DATA, **overrides: object
) -> httpx2.Response:
    options: dict[str, object] = {"content_type": "image/png", "max_size": 64_000, "expires_in": 60}
    options.update(overrides)
    target = store.presign_upload(KEY, **options)  # type: ignore[arg-type]
    return client.put(target.url, content=data, headers=target.headers)


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query)) | {name: value}
    return urlunsplit(parts._replace(query=urlencode(params)))


def assert_problem(response: httpx2.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert str(body["type"]).startswith("https://")
    assert body["title"]
    assert body["detail"]
    return body


def test_upload_then_download(client: TestClient, store: LocalObjectStore) -> None:
    response = upload(client, store)
    assert response.status_code == 201
    assert response.json() == {
        "key": KEY,
        "size": len(DATA),
        "sha256": hashlib.sha256(DATA).hexdigest(),
    }
    url = store.presign_download(KEY, expires_in=60, filename="Röntgen 2024.png")
    download = client.get(url)
    assert download.status_code == 200
    assert download.content == DATA
    assert download.headers["content-type"] == "image/png"
    assert download.headers["cache-control"] == "private, max-age=60"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"R_ntgen 2024.png\"; filename*=UTF-8''R%C3%B6ntgen%202024.png"
    )


def test_download_without_filename_is_inline(client: TestClient, store: LocalObjectStore) -> None:
    assert upload(client, store).status_code == 201
    download = client.get(store.presign_download(KEY, expires_in=60))
    assert download.content == DATA
    assert "content-disposition" not in download.headers


def test_expired_link_is_forbidden(client: TestClient, store: LocalObjectStore) -> None:
    expired = store.signer.sign(
        "PUT", KEY, expires_at=int(time.time()) - 1, max_size=64_000, content_type="image/png"
    )
    response = client.put(expired, content=DATA, headers={"Content-Type": "image/png"})
    assert assert_problem(response, 403)["detail"] == "this link has expired"
    assert store.head(KEY) is None


def test_tampered_links_are_forbidden(client: TestClient, store: LocalObjectStore) -> None:
    target = store.presign_upload(KEY, content_type="image/png", max_size=100, expires_in=60)
    bigger = with_param(target.url, "max_size", "1000000")
    response = client.put(bigger, content=DATA, headers=target.headers)
    assert assert_problem(response, 403)["detail"] == "invalid signature"
    other_key = target.url.replace("/original.png", "/other.png")
    response = client.put(other_key, content=DATA[:50], headers=target.headers)
    assert assert_problem(response, 403)["detail"] == "invalid signature"
    assert list(store.iter_keys()) == []

    assert upload(client, store).status_code == 201
    download = store.presign_download(KEY, expires_in=60)
    response = client.get(with_param(download, "signature", "x" * 43))
    assert_problem(response, 403)
    response = client.get(target.url)  # an upload link does not allow a download
    assert_problem(response, 403)


def test_too_large_upload_stores_nothing(client: TestClient, store: LocalObjectStore) -> None:
    response = upload(client, store, max_size=len(DATA) - 1)
    assert_problem(response, 413)
    assert store.head(KEY) is None
    assert [path for path in store.root.rglob("*") if path.is_file()] == []


def test_too_large_streamed_upload_stores_nothing(
    client: TestClient, store: LocalObjectStore
) -> None:
    # No Content-Length (chunked transfer): the limit is enforced while reading the body.
    target = store.presign_upload(KEY, content_type="image/png", max_size=1000, expires_in=60)
    response = client.put(
        target.url, content=iter([b"a" * 600, b"b" * 600]), headers=target.headers
    )
    assert_problem(response, 413)
    assert store.head(KEY) is None


def test_wrong_content_type_is_rejected(client: TestClient, store: LocalObjectStore) -> None:
    target = store.presign_upload(KEY, content_type="image/png", max_size=64_000, expires_in=60)
    response = client.put(target.url, content=DATA, headers={"Content-Type": "text/html"})
    assert_problem(response, 415)
    assert store.head(KEY) is None


def test_empty_upload_is_rejected(client: TestClient, store: LocalObjectStore) -> None:
    assert_problem(upload(client, store, data=b""), 422)
    assert store.head(KEY) is None


def test_second_upload_conflicts(client: TestClient, store: LocalObjectStore) -> None:
    assert upload(client, store).status_code == 201
    assert_problem(upload(client, store, data=b"other bytes"), 409)
    assert store.read(KEY) == DATA


def test_missing_object_is_not_found(client: TestClient, store: LocalObjectStore) -> None:
    assert_problem(client.get(store.presign_download(KEY, expires_in=60)), 404)
