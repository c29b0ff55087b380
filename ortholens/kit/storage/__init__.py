"""Object storage: one interface (`ObjectStore`), a local encrypted directory and S3."""

from ortholens.kit.storage.base import (
    ObjectExists,
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    UploadTarget,
    put_once,
)

__all__ = ["ObjectExists", "ObjectInfo", "ObjectMissing", "ObjectStore", "UploadTarget", "put_once"]
