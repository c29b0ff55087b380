"""Choose and build the configured object store."""

from __future__ import annotations

from ortholens.kit.errors import ConfigurationError
from ortholens.kit.secrets import Secrets
from ortholens.kit.storage.base import ObjectStore
from ortholens.kit.storage.local import LocalObjectStore
from ortholens.kit.storage.s3 import S3ObjectStore, make_s3_client
from ortholens.kit.storage.signing import UrlSigner
from ortholens.settings import Settings, StorageBackend


def build_store(settings: Settings, secrets: Secrets) -> ObjectStore:
    """The object store named by `settings.storage_backend`."""
    if settings.storage_backend is StorageBackend.LOCAL:
        return LocalObjectStore(
            root=settings.resolved_storage_dir,
            encryption_key=secrets.storage_encryption_key,
            signer=UrlSigner(secret=secrets.token_signing_key, base_url=settings.public_url),
        )
    if not settings.s3_bucket:
        raise ConfigurationError("ORTHOLENS_S3_BUCKET is required when the storage backend is s3.")
    client = make_s3_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=(
            settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key
            else None
        ),
    )
    sse = (
        None
        if settings.s3_server_side_encryption.lower() == "none"
        else settings.s3_server_side_encryption
    )
    return S3ObjectStore(client=client, bucket=settings.s3_bucket, server_side_encryption=sse)
