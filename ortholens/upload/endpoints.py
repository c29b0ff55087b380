"""Uploads: the patient's scan flow (seed 004) and the same flow for staff."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from ortholens.auth.deps import CurrentPatient, RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, SettingsDep, StoreDep
from ortholens.ingest import Incoming
from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.kit.storage import UploadTarget
from ortholens.models import ImageSource
from ortholens.patient.service import find_patient
from ortholens.upload import checkin, service
from ortholens.upload.schemas import (
    CheckinRead,
    ConfirmRequest,
    IngestedPhoto,
    PhotoVerdictRead,
    ScanSessionRead,
    UploadedImage,
    UploadUrlRequest,
    UploadUrlResponse,
)

router = APIRouter(tags=["uploads"])
Capturer = Annotated[Authorized, RequirePermission(Permission.IMAGING_CAPTURE)]


def _patient_uploader(principal: CurrentPatient) -> service.Uploader:
    return service.Uploader(
        clinic_id=principal.clinic_id,
        patient_id=principal.patient_id,
        actor=principal.actor,
        source=ImageSource.PATIENT_APP,
    )


def _staff_uploader(db: SessionDep, auth: Authorized, patient_id: uuid.UUID) -> service.Uploader:
    patient = find_patient(db, auth.principal, patient_id, action="image.upload")
    return service.Uploader(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        actor=auth.principal.actor,
        source=ImageSource.UPLOAD,
        user_id=auth.principal.user_id,
    )


def _target(image_key: str, target: UploadTarget) -> UploadUrlResponse:
    return UploadUrlResponse(
        url=target.url,
        key=image_key,
        method=target.method,
        headers=target.headers,
        fields=target.fields,
        expires_at=target.expires_at,
        max_size=target.max_size,
    )


def _uploaded(result: service.ConfirmedUpload) -> UploadedImage:
    return UploadedImage(
        id=result.image.id,
        status=result.image.status,
        view_code=result.image.view_code,
        scan_session_id=result.image.scan_session_id,
        duplicate_of=result.duplicate_of,
        already_confirmed=result.already_confirmed,
    )


@router.post("/api/patient/scans/sessions", response_model=ScanSessionRead, status_code=201)
def start_session(principal: CurrentPatient, db: SessionDep) -> ScanSessionRead:
    """Start a check-in: a PENDING scan session with no photos yet."""
    return ScanSessionRead.model_validate(
        service.start_scan_session(db, _patient_uploader(principal))
    )


@router.get("/api/patient/scans/sessions/{session_id}", response_model=CheckinRead)
def checkin_status(session_id: uuid.UUID, principal: CurrentPatient, db: SessionDep) -> CheckinRead:
    """One of the patient's check-ins with the server's verdict on each photo (polled by the
    scan wizard while photos are processed)."""
    status = checkin.checkin_status(db, principal.patient_id, principal.actor, session_id)
    return CheckinRead.model_validate(
        {
            **ScanSessionRead.model_validate(status.scan).model_dump(),
            "photos": [
                PhotoVerdictRead(
                    id=photo.id,
                    view_code=photo.view_code,
                    state=photo.state,
                    quality_score=photo.quality_score,
                    reasons=list(photo.reasons),
                    advice=photo.advice,
                )
                for photo in status.photos
            ],
        }
    )


@router.post("/api/patient/scans/sessions/{session_id}/submit", response_model=ScanSessionRead)
def submit_checkin(
    session_id: uuid.UUID, principal: CurrentPatient, db: SessionDep
) -> ScanSessionRead:
    """Send the check-in to the practice ("Send photos"): only sent check-ins are reviewed."""
    scan = checkin.submit(db, principal.patient_id, principal.actor, session_id)
    return ScanSessionRead.model_validate(scan)


@router.post("/api/patient/scans/upload-url", response_model=UploadUrlResponse)
def patient_upload_url(
    body: UploadUrlRequest,
    principal: CurrentPatient,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
) -> UploadUrlResponse:
    """A short-lived URL to send one photo of the session straight to storage."""
    if body.session_id is None:
        raise InvalidInput("Say which scan session (sessionId) the photo belongs to.")
    image, target = service.request_upload(
        db,
        store,
        _patient_uploader(principal),
        scan_session_id=body.session_id,
        image_type=body.image_type,
        content_type=body.content_type,
        expires_in=settings.signed_url_seconds,
    )
    return _target(image.original_key, target)


@router.post("/api/patient/scans/upload/confirm", response_model=UploadedImage)
def patient_confirm(
    body: ConfirmRequest, principal: CurrentPatient, db: SessionDep, store: StoreDep
) -> UploadedImage:
    """Tell us the photo arrived: it is checked, counted and processed (confirming twice is harmless)."""
    result = service.confirm_upload(
        db,
        store,
        _patient_uploader(principal),
        key=body.key,
        scan_session_id=body.session_id,
        image_type=body.image_type,
    )
    return _uploaded(result)


@router.post("/api/patients/{patient_id}/uploads/url", response_model=UploadUrlResponse)
def staff_upload_url(
    *,
    patient_id: uuid.UUID,
    body: UploadUrlRequest,
    auth: Capturer,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
) -> UploadUrlResponse:
    """A short-lived URL to send one photo of a patient straight to storage."""
    image, target = service.request_upload(
        db,
        store,
        _staff_uploader(db, auth, patient_id),
        scan_session_id=body.session_id,
        image_type=body.image_type,
        content_type=body.content_type,
        expires_in=settings.signed_url_seconds,
    )
    return _target(image.original_key, target)


@router.post("/api/patients/{patient_id}/uploads/confirm", response_model=UploadedImage)
def staff_confirm(
    patient_id: uuid.UUID, body: ConfirmRequest, auth: Capturer, db: SessionDep, store: StoreDep
) -> UploadedImage:
    """Confirm a staff upload: checked, de-duplicated by SHA-256, and processed."""
    result = service.confirm_upload(
        db,
        store,
        _staff_uploader(db, auth, patient_id),
        key=body.key,
        scan_session_id=body.session_id,
        image_type=body.image_type,
    )
    return _uploaded(result)


MAX_REQUEST_BYTES = 200 * 1024 * 1024


@router.post(
    "/api/patients/{patient_id}/images", response_model=list[IngestedPhoto], status_code=201
)
def upload_photos(
    patient_id: uuid.UUID,
    auth: Capturer,
    db: SessionDep,
    store: StoreDep,
    files: Annotated[
        list[UploadFile],
        File(description="Up to 50 photos, 50 MB each.", json_schema_extra={"minItems": 1}),
    ],
) -> list[IngestedPhoto]:
    """Upload several photos of a patient at once; duplicates of earlier photos are reported."""
    uploader = _staff_uploader(db, auth, patient_id)
    items: list[Incoming] = []
    total = 0
    for upload in files[: service.MAX_FILES_PER_REQUEST + 1]:
        data = upload.file.read(service.MAX_PHOTO_BYTES + 1)
        total += len(data)
        if total > MAX_REQUEST_BYTES:
            raise PayloadTooLarge("Send at most 200 MB of photos per request.")
        items.append(Incoming(name=upload.filename or f"file {len(items) + 1}", data=data))
    return [
        IngestedPhoto(name=r.name, image_id=r.images[0].id, duplicate_of=r.duplicate_of)
        for r in service.add_photos(db, store, uploader, items)
    ]
