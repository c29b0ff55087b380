"""Seed 001 iTero endpoints: connecting a clinic (OAuth), listing its scans, and syncing them.

    GET  /api/imaging/3d/itero/auth    imaging:admin    start connecting (302 to iTero), and the
                                                        redirect back from iTero (`code`, `state`)
    GET  /api/imaging/3d/itero/scans   imaging:capture  the clinic's iTero scans, marked imported
    POST /api/imaging/3d/itero/sync    imaging:capture  202 + job `intraoral.itero_sync`

After a successful connection the callback answers `{"connected": true, ...}` to a client that asks
for JSON (`Accept: application/json`) and otherwise sends the browser to the patient list (303).
A clinic that is not connected, or whose connection iTero no longer accepts, gets 409.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import Field

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.clinic.tenancy import target_clinic
from ortholens.http.deps import RuntimeDep, SessionDep, writes
from ortholens.http.schemas import ApiModel
from ortholens.intraoral import itero
from ortholens.intraoral.itero_tasks import SYNC_JOB, arch_files
from ortholens.job import repository as jobs
from ortholens.kit.errors import Conflict
from ortholens.kit.jobs import request_job
from ortholens.patient.service import find_patient

router = APIRouter(tags=["intraoral scans"])
Admin = Annotated[Authorized, RequirePermission(Permission.IMAGING_ADMIN)]
Capturer = Annotated[Authorized, RequirePermission(Permission.IMAGING_CAPTURE, full_scope=True)]
CONNECTED_PAGE = "/patients?itero=connected"
MAX_SYNC_SCANS = 50


class IteroFileRead(ApiModel):
    file_id: str
    jaw: str | None = Field(description="upper, lower, bite, or null for non-arch files.")
    format: str
    size: int | None
    imported: bool | None = Field(description="Null for files that are not arches (order XML).")


class IteroScanRead(ApiModel):
    scan_id: str
    order_id: str
    patient_name: str | None
    patient_ref: str | None = Field(description="The practice's chart number as typed in iTero.")
    scanned_at: datetime
    imported: bool = Field(description="Every arch of this scan is already in OrthoLens.")
    files: list[IteroFileRead]


class IteroScanList(ApiModel):
    last_sync_at: datetime | None
    scans: list[IteroScanRead]


class IteroSyncRequest(ApiModel):
    scan_ids: list[str] = Field(min_length=1, max_length=MAX_SYNC_SCANS)
    patient_id: uuid.UUID | None = Field(
        None, description="Without it, each scan goes to the patient its name matches, or pending."
    )
    clinic_id: uuid.UUID | None = Field(None, description="Super admins: the clinic to sync.")


class IteroSyncAccepted(ApiModel):
    job_id: uuid.UUID


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.get("/api/imaging/3d/itero/auth", response_model=None)
@writes  # stores the grant the callback brings
def itero_auth(
    request: Request,
    auth: Admin,
    db: SessionDep,
    runtime: RuntimeDep,
    clinic_id: Annotated[uuid.UUID | None, Query(alias="clinicId")] = None,
) -> Response:
    """Connect the clinic's iTero account: without `code` or `error`, redirects to iTero's sign-in;
    iTero redirects back here with `code` and `state` (or `error`) to finish."""
    principal = auth.principal
    key = runtime.secrets.storage_encryption_key
    query = dict(request.query_params)
    secure = runtime.settings.public_url.startswith("https://")
    if "code" not in query and "error" not in query:
        clinic = target_clinic(db, principal, clinic_id)
        started = itero.start_auth(
            runtime.settings, key, clinic_id=clinic, user_id=principal.user_id
        )
        response: Response = RedirectResponse(started.redirect_url, status_code=302)
        response.set_cookie(
            itero.STATE_COOKIE,
            started.cookie,
            max_age=started.max_age,
            path=itero.AUTH_PATH,
            httponly=True,
            secure=secure,
            samesite="lax",  # sent on iTero's top-level redirect back, not on cross-site posts
        )
        return response
    integration = itero.finish_auth(
        db,
        runtime.settings,
        key,
        query=query,
        cookie=request.cookies.get(itero.STATE_COOKIE),
        actor=principal.actor,
        user_id=principal.user_id,
        clinic_scope=principal.clinic_scope,
    )
    if _wants_json(request):
        response = JSONResponse(
            {
                "connected": True,
                "clinicId": str(integration.clinic_id),
                "scannerType": integration.scanner_type,
            }
        )
    else:
        response = RedirectResponse(CONNECTED_PAGE, status_code=303)
    response.delete_cookie(itero.STATE_COOKIE, path=itero.AUTH_PATH, secure=secure, httponly=True)
    return response


@router.get("/api/imaging/3d/itero/scans", response_model=IteroScanList)
@writes  # stores renewed tokens and the region found
def list_itero_scans(
    auth: Capturer,
    db: SessionDep,
    runtime: RuntimeDep,
    since: datetime | None = None,
    clinic_id: Annotated[uuid.UUID | None, Query(alias="clinicId")] = None,
) -> IteroScanList:
    """The clinic's iTero scans taken at or after `since` (all without it), oldest first."""
    clinic = target_clinic(db, auth.principal, clinic_id)
    integration = itero.require_integration(db, clinic)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    deactivate = itero.deactivate_in_request(db, integration.id)
    with (
        itero.reconnect_on_auth_error(deactivate),
        itero.client_in_request(db, runtime, integration) as client,
    ):
        scans = client.list_scans(since=since)
    held = itero.imported_refs(db, clinic)
    listed = []
    for scan in scans:
        arches = {f.file_id for f in arch_files(scan)}
        files = [
            IteroFileRead(
                file_id=f.file_id,
                jaw=f.jaw,
                format=f.format,
                size=f.size,
                imported=(f.file_id in held) if f.file_id in arches else None,
            )
            for f in scan.files
        ]
        listed.append(
            IteroScanRead(
                scan_id=scan.scan_id,
                order_id=scan.order_id,
                patient_name=scan.patient_name,
                patient_ref=scan.patient_ref,
                scanned_at=scan.scanned_at,
                imported=bool(arches) and arches <= held,
                files=files,
            )
        )
    return IteroScanList(
        last_sync_at=integration.last_sync_at,
        scans=listed,
    )


@router.post("/api/imaging/3d/itero/sync", response_model=IteroSyncAccepted, status_code=202)
def sync_itero_scans(
    body: IteroSyncRequest, auth: Capturer, db: SessionDep, runtime: RuntimeDep
) -> IteroSyncAccepted:
    """Import the chosen iTero scans in the background; follow the job for the outcome."""
    patient = (
        find_patient(db, auth.principal, body.patient_id, action="scan.import")
        if body.patient_id
        else None
    )
    clinic = patient.clinic_id if patient else target_clinic(db, auth.principal, body.clinic_id)
    itero.require_integration(db, clinic)
    itero.itero_config(runtime.settings)  # 503 now rather than a failed job
    if jobs.active_job_id(db, SYNC_JOB, clinic) is not None:
        # Two syncs at once could spend one refresh token twice, which ends the connection.
        raise Conflict("An iTero sync is already under way for this clinic; wait for it to finish.")
    job = request_job(
        db,
        SYNC_JOB,
        {
            "clinic_id": str(clinic),
            "scan_ids": list(dict.fromkeys(body.scan_ids)),
            "patient_id": str(patient.id) if patient else None,
            "user_id": str(auth.principal.user_id),
        },
        clinic_id=clinic,
    )
    return IteroSyncAccepted(job_id=job.id)
