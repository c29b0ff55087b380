"""The scaled object store: any S3-compatible service (AWS S3, MinIO, Ceph RGW).

Every put carries the plaintext SHA-256 twice: as `ChecksumSHA256` (the service verifies the body
against it) and as user metadata `x-amz-meta-sha256` (hex, returned by `head`). Overwrites are
refused with a conditional write (`If-None-Match: *`), honoured by AWS S3 since 2024, MinIO and
recent Ceph RGW. Browsers upload with a presigned POST because only its policy can cap the size.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ortholens.kit.errors import (
    ConfigurationError,
    InvalidInput,
    PayloadTooLarge,
    ServiceUnavailable,
)
from ortholens.kit.storage.base import (
    ObjectExists,
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    UploadTarget,
)
from ortholens.kit.storage.keys import validate_content_type, validate_key
from ortholens.kit.storage.signing import attachment_disposition

if TYPE_CHECKING:  # boto3-stubs is a development dependency
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import ServerSideEncryptionType

SERVER_SIDE_ENCRYPTIONS = ("AES256", "aws:kms", "aws:kms:dsse")
# S3's limit for a single PutObject. Larger objects need a multipart upload, which boto3's managed
# transfer cannot make conditional (it does not pass If-None-Match), so that path is not built yet.
MAX_PUT_BYTES = 5 * 1024**3
SPOOL_MEMORY_BYTES = 8 * 1024**2
COPY_BYTES = 1024**2
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_EXISTS_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def make_s3_client(
    *,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> S3Client:
    """A boto3 S3 client: SigV4, path-style addressing for custom endpoints, bounded timeouts.

    Without credentials boto3 falls back to its usual chain (environment, profile, instance role).
    """
    config = Config(
        signature_version="s3v4",
        # MinIO and Ceph behind one hostname rarely have wildcard DNS for virtual-hosted buckets.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 5, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unavailable(exc: Exception) -> ServiceUnavailable:
    # The service's message can name the bucket or key; only its type goes to the client.
    return ServiceUnavailable(f"The object store did not answer ({type(exc).__name__}).")


def _spool(source: BinaryIO) -> tuple[IO[bytes], int, hashlib._Hash]:
    """Copy `source` into a temporary file (memory up to 8 MiB), hashing it on the way."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    try:
        while block := source.read(COPY_BYTES):
            size += len(block)
            if size > MAX_PUT_BYTES:
                raise PayloadTooLarge("Objects larger than 5 GiB are not supported on S3.")
            digest.update(block)
            spool.write(block)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool, size, digest


class S3ObjectStore(ObjectStore):
    """Immutable objects in one bucket; `server_side_encryption` is requested on every write."""

    def __init__(
        self, *, client: S3Client, bucket: str, server_side_encryption: str | None
    ) -> None:
        if server_side_encryption is not None and (
            server_side_encryption not in SERVER_SIDE_ENCRYPTIONS
        ):
            raise ConfigurationError(
                f"ORTHOLENS_S3_SERVER_SIDE_ENCRYPTION must be one of {SERVER_SIDE_ENCRYPTIONS}"
                " or none."
            )
        self.client = client
        self.bucket = bucket
        self.server_side_encryption = cast(
            "ServerSideEncryptionType | None", server_side_encryption
        )

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> ObjectInfo:
        """Upload `data` in one conditional PutObject (at most 5 GiB); file objects are spooled
        first because the SHA-256 must be known before the request starts."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        body: bytes | IO[bytes]
        if isinstance(data, bytes | bytearray | memoryview):
            body = bytes(data)
            size, digest = len(data), hashlib.sha256(data)
        else:
            body, size, digest = _spool(data)
        extra: dict[str, Any] = {}
        if self.server_side_encryption:
            extra["ServerSideEncryption"] = self.server_side_encryption
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentLength=size,
                ContentType=content_type,
                ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
                Metadata={"sha256": digest.hexdigest()},
                IfNoneMatch="*",
                **extra,
            )
        except ClientError as exc:
            if _error_code(exc) in _EXISTS_CODES:
                raise ObjectExists("An object with this key already exists.") from exc
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        finally:
            if not isinstance(body, bytes):
                body.close()
        return ObjectInfo(key=key, size=size, sha256=digest.hexdigest(), content_type=content_type)

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The object's bytes; the GET is sent here, so ObjectMissing raises before iterating."""
        validate_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise ObjectMissing("No object exists with this key.") from exc
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return self._stream(response["Body"], chunk_size)

    @staticmethod
    def _stream(body: Any, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def head(self, key: str) -> ObjectInfo | None:
        """Size, SHA-256 and type; `sha256` is "" for objects a client uploaded with a presigned
        POST (S3 does not hash those for us; the upload pipeline computes and records it)."""
        validate_key(key)
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            sha256=response.get("Metadata", {}).get("sha256", ""),
            content_type=response.get("ContentType", "application/octet-stream"),
        )

    def delete(self, key: str) -> None:
        """Remove an object; S3 answers success for a missing key too."""
        validate_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys under `prefix`, in S3's (lexicographic) order."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if "Key" in item:
                    yield item["Key"]

    def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> UploadTarget:
        """A presigned POST whose policy fixes the key and Content-Type, caps the size to
        [1, max_size] bytes and requires the configured server-side encryption."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        if max_size < 1:
            raise InvalidInput("The maximum upload size must be at least one byte.")
        fields: dict[str, str] = {"Content-Type": content_type}
        if self.server_side_encryption:
            fields["x-amz-server-side-encryption"] = self.server_side_encryption
        conditions: list[Any] = [["content-length-range", 1, max_size]]
        conditions += [{name: value} for name, value in fields.items()]
        post = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )
        return UploadTarget(
            url=str(post["url"]),
            method="POST",
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
            max_size=max_size,
            fields={name: str(value) for name, value in post["fields"].items()},
        )

    def presign_download(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A presigned GET; `filename` makes the service answer as an attachment."""
        validate_key(key)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def check(self) -> None:
        """Raise ServiceUnavailable unless the bucket answers."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc
