"""Signed upload (PUT) and download (GET) of local objects.

The URLs come from `LocalObjectStore.presign_upload` / `presign_download`; the signature in the
query string is the only authorization, so a link can be handed to a browser or a phone as is.
"""

from __future__ import annotations

import tempfile
from typing import BinaryIO, cast

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from ortholens.auth.deps import Public
from ortholens.http.deps import RuntimeDep
from ortholens.kit.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from ortholens.kit.storage.base import ObjectExists
from ortholens.kit.storage.local import LocalObjectStore
from ortholens.kit.storage.signing import attachment_disposition

# Public: a signed URL is its own authorization (checked in each handler).
router = APIRouter(prefix="/api/storage", tags=["storage"], dependencies=[Public])

# Request bodies above this size are spooled to an unnamed file in the store's private temp dir.
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 256 * 1024
# Stored objects are user uploads: never let one run script or load anything on our origin.
OBJECT_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"


class UnsupportedMediaType(InvalidInput):
    status_code = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ObjectReceipt(BaseModel):
    key: str = Field(description="The object key the bytes were stored under.")
    size: int = Field(description="Plaintext size in bytes.")
    sha256: str = Field(description="SHA-256 of the plaintext, lower-case hex.")


def _local_store(runtime: RuntimeDep) -> LocalObjectStore:
    if not isinstance(runtime.store, LocalObjectStore):
        raise NotFound("Nothing exists at this address.")
    return runtime.store


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


# Public route: authorized by the URL signature only.
@router.put("/objects/{key:path}", status_code=201, response_model=ObjectReceipt)
async def upload_object(key: str, request: Request, runtime: RuntimeDep) -> ObjectReceipt:
    """Store the request body as a new object at a signed upload URL (201; 409 if it exists)."""
    store = _local_store(runtime)
    grant = store.signer.verify("PUT", key, request.query_params)
    if grant.max_size is None or grant.content_type is None:
        raise Forbidden("This link does not allow uploads.")
    if _media_type(request.headers.get("content-type")) != grant.content_type:
        raise UnsupportedMediaType(f"This link accepts only Content-Type {grant.content_type}.")
    too_large = PayloadTooLarge(f"This link accepts at most {grant.max_size} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > grant.max_size:
        raise too_large
    if await run_in_threadpool(store.head, key) is not None:
        raise ObjectExists("An object with this key already exists.")
    with tempfile.SpooledTemporaryFile(
        max_size=SPOOL_MEMORY_BYTES, dir=str(store.temp_dir)
    ) as spool:
        size = 0
        async for block in request.stream():
            size += len(block)
            if size > grant.max_size:
                raise too_large
            spool.write(block)
        if size == 0:
            raise InvalidInput("The upload is empty.")
        spool.seek(0)
        info = await run_in_threadpool(
            store.put, key, cast(BinaryIO, spool), content_type=grant.content_type
        )
    return ObjectReceipt(key=info.key, size=info.size, sha256=info.sha256)


# Public route: authorized by the URL signature only.
@router.get("/objects/{key:path}", response_class=StreamingResponse)
async def download_object(key: str, request: Request, runtime: RuntimeDep) -> StreamingResponse:
    """Stream an object's plaintext from a signed download URL."""
    store = _local_store(runtime)
    grant = store.signer.verify("GET", key, request.query_params)
    info, chunks = await run_in_threadpool(store.stream, key, DOWNLOAD_CHUNK_BYTES)
    headers = {
        "Content-Length": str(info.size),
        "Cache-Control": "private, max-age=60",
        "Content-Security-Policy": OBJECT_CSP,
    }
    if grant.filename:
        headers["Content-Disposition"] = attachment_disposition(grant.filename)
    return StreamingResponse(chunks, media_type=info.content_type, headers=headers)
