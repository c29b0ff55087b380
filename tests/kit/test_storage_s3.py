"""The S3 object store against a real S3 HTTP endpoint (moto's server), through boto3 and httpx."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ortholens.kit.errors import InvalidInput
from ortholens.kit.secrets import load_secrets
from ortholens.kit.storage.base import ObjectExists, ObjectMissing
from ortholens.kit.storage.factory import build_store
from ortholens.kit.storage.s3 import S3ObjectStore, make_s3_client
from tests.conftest import make_settings
from tests.kit.s3server import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    S3Endpoint,
    running_s3_server,
)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    with running_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def store(s3_endpoint: S3Endpoint) -> S3ObjectStore:
    client = make_s3_client(
        endpoint_url=s3_endpoint.url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    return S3ObjectStore(client=client, bucket=s3_endpoint.bucket, server_side_encryption="AES256")


@pytest.fixture
def key() -> str:
    """A fresh key per test: the bucket lives for the whole session."""
    return f"c1/{uuid.uuid4()}/photo/{uuid.uuid4()}/original.jpg"


def test_round_trip_and_head(store: S3ObjectStore, key: str) -> None:
    data = b"\xff\xd8" + bytes(range(256)) * 100
    info = store.put(key, data, content_type="image/jpeg")
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read(key) == data
    assert store.head(key) == info
    assert store.head(key.replace("original", "missing")) is None


def test_file_object_is_streamed(store: S3ObjectStore, key: str) -> None:
    data = bytes(range(256)) * (12 * 4096 + 7)  # about 12 MiB: spills the spool to disk
    info = store.put(key, io.BytesIO(data), content_type="model/stl")
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert b"".join(store.iter_chunks(key, chunk_size=1 << 20)) == data


def test_put_records_sha256_and_requests_encryption(store: S3ObjectStore, key: str) -> None:
    data = b"x-ray bytes"
    store.put(key, data, content_type="application/dicom")
    response = store.client.head_object(Bucket=store.bucket, Key=key)
    assert response["ServerSideEncryption"] == "AES256"
    assert response["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert response["ContentType"] == "application/dicom"


def test_overwrite_is_refused(store: S3ObjectStore, key: str) -> None:
    store.put(key, b"original", content_type="image/jpeg")
    with pytest.raises(ObjectExists):
        store.put(key, b"replacement", content_type="image/jpeg")
    assert store.read(key) == b"original"


def test_missing_object(store: S3ObjectStore, key: str) -> None:
    with pytest.raises(ObjectMissing):
        store.iter_chunks(key)


def test_invalid_key_is_rejected(store: S3ObjectStore) -> None:
    with pytest.raises(InvalidInput):
        store.put("../escape.jpg", b"x", content_type="image/jpeg")


def test_iter_keys_and_delete(store: S3ObjectStore) -> None:
    prefix = f"c2/{uuid.uuid4()}/"
    keys = [f"{prefix}photo/a/original.jpg", f"{prefix}photo/a/thumb.jpg"]
    for item in keys:
        store.put(item, b"x", content_type="image/jpeg")
    assert list(store.iter_keys(prefix)) == keys
    store.delete(keys[0])
    store.delete(keys[0])  # missing is fine
    assert list(store.iter_keys(prefix)) == keys[1:]


def test_presigned_post_upload(store: S3ObjectStore, key: str) -> None:
    target = store.presign_upload(key, content_type="image/png", max_size=1000, expires_in=60)
    assert target.method == "POST"
    policy = json.loads(base64.b64decode(target.fields["policy"]))
    # What the service enforces is the signed policy; check it says what we mean.
    assert ["content-length-range", 1, 1000] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert {"x-amz-server-side-encryption": "AES256"} in policy["conditions"]
    assert {"key": key} in policy["conditions"]

    data = b"\x89PNG" + b"p" * 500
    response = httpx.post(
        target.url, data=target.fields, files={"file": ("scan.png", data, "image/png")}
    )
    assert response.status_code == 204
    assert store.read(key) == data
    info = store.head(key)
    assert info is not None
    assert (info.size, info.content_type) == (len(data), "image/png")
    # No over-size case: moto 5.2's POST handler (`_bucket_response_post`) never reads the policy,
    # so an over-size body, another Content-Type or an expired policy would all be stored, and the
    # SSE form field is not applied. AWS S3 and MinIO refuse such uploads (EntityTooLarge,
    # AccessDenied); here we assert the signed policy that makes them enforceable, not a fake 4xx.


def test_presigned_get_download(store: S3ObjectStore, key: str) -> None:
    data = b"download me"
    store.put(key, data, content_type="image/jpeg")
    url = store.presign_download(key, expires_in=60, filename="Röntgen.jpg")
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-disposition"].startswith('attachment; filename="R_ntgen.jpg"')
    # No tampered-signature check here: moto's server does not verify request signatures unless
    # its IAM emulation is switched on, so a 403 from it would prove nothing about our URLs.


def test_check(store: S3ObjectStore) -> None:
    store.check()


def test_build_store_from_settings(tmp_path: Path, s3_endpoint: S3Endpoint, key: str) -> None:
    settings = make_settings(
        tmp_path,
        "sqlite://",
        storage_backend="s3",
        s3_bucket=s3_endpoint.bucket,
        s3_endpoint_url=s3_endpoint.url,
        s3_region=REGION,
        s3_access_key_id=ACCESS_KEY_ID,
        s3_secret_access_key=SECRET_ACCESS_KEY,
    )
    built = build_store(settings, load_secrets(settings))
    assert isinstance(built, S3ObjectStore)
    built.check()
    info = built.put(key, b"configured", content_type="image/jpeg")
    assert built.head(key) == info
    assert built.read(key) == b"configured"
