"""Seed 000 "3D Mesh Export": ask for an export (a background job), then poll it for a signed
download link (served by `ortholens.export.endpoints`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, status

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.export.endpoints import DownloadPolicyDep
from ortholens.http.deps import SessionDep
from ortholens.intraoral import (
    export_tasks,  # noqa: F401  (registers the job handler: the API process requests the job)
    exporting,
)
from ortholens.intraoral.export_schemas import (
    ScanExportCreate,
    ScanExportFile,
    ScanExportQueued,
    ScanExportRead,
)

router = APIRouter(tags=["intraoral scans"])
CanExport = Annotated[Authorized, RequirePermission(Permission.IMAGING_EXPORT)]


@router.post(
    "/api/imaging/3d/export",
    response_model=ScanExportQueued,
    status_code=status.HTTP_202_ACCEPTED,
)
def create_scan_export(
    body: ScanExportCreate, auth: CanExport, session: SessionDep
) -> ScanExportQueued:
    """Export scans as STL, OBJ, PLY or 3MF in the background; poll the returned job."""
    options = exporting.options_from_args(body.model_dump(by_alias=False, exclude={"image_ids"}))
    job = exporting.request_export(session, auth, body.image_ids, options)
    return ScanExportQueued(job_id=job.id)


@router.get("/api/imaging/3d/exports/{job_id}", response_model=ScanExportRead)
def get_scan_export(
    job_id: uuid.UUID, auth: CanExport, session: SessionDep, policy: DownloadPolicyDep
) -> ScanExportRead:
    """Progress of a scan export, with a short-lived download link once it is done."""
    view = exporting.export_status(session, auth, job_id, policy)
    files = view.file.details.get("files", []) if view.file else []
    return ScanExportRead.from_view(view, files=[ScanExportFile.model_validate(f) for f in files])
