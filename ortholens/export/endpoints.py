"""The download every generated file's link points at: check the signature, audit, stream.

Public: the link's signature is its authorization (like the local store's object links), and the
link names the actor it was granted to, under whom the download is audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from ortholens.auth.deps import Public
from ortholens.export import service
from ortholens.export.links import DownloadPolicy, download_policy
from ortholens.http.deps import RuntimeDep, SessionDep
from ortholens.kit.storage.signing import attachment_disposition

router = APIRouter(prefix="/api/exports", tags=["generated files"], dependencies=[Public])

# A generated file may hold PHI (meshes, reports): never cache it, never let it run on our origin.
DOWNLOAD_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


def get_download_policy(runtime: RuntimeDep) -> DownloadPolicy:
    """The deployment's link signer, link lifetime and retention."""
    settings = runtime.settings
    return download_policy(
        runtime.secrets.token_signing_key,
        public_url=settings.public_url,
        link_seconds=settings.signed_url_seconds,
        retention_hours=settings.export_retention_hours,
    )


DownloadPolicyDep = Annotated[DownloadPolicy, Depends(get_download_policy)]


# Public route: authorized by the link's signature only.
@router.get("/{job_id}/download", response_class=StreamingResponse)
async def download_generated_file(
    job_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    policy: DownloadPolicyDep,
) -> StreamingResponse:
    """Download a generated file from its signed link (each download audited)."""
    download, chunks = await run_in_threadpool(
        service.open_download,
        session,
        runtime.store,
        policy,
        job_id,
        dict(request.query_params),
    )
    file = download.file
    headers = {
        **DOWNLOAD_HEADERS,
        "Content-Length": str(file.size),
        "Content-Disposition": attachment_disposition(file.filename),
    }
    return StreamingResponse(chunks, media_type=file.content_type, headers=headers)
