"""The gallery's buttons for a photo that failed processing: try again, or dismiss it (the rules
are `ortholens.image.failed`'s)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, StoreDep
from ortholens.image import failed
from ortholens.kit.errors import NotFound
from ortholens.models import Image
from ortholens.patient import service as patient_service
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageRoute, redirect

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

Capturer = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_CAPTURE)]


def _of_patient(image: Image, patient_id: uuid.UUID) -> None:
    # Raising rolls the request back, so nothing of another patient's photo changes.
    if image.patient_id != patient_id:
        raise NotFound(failed.NOT_FOUND)


@router.post("/patients/{patient_id}/photos/{image_id}/dismiss")
def dismiss(
    *,
    request: Request,
    patient_id: uuid.UUID,
    image_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    auth: Capturer,
) -> Response:
    """Dismiss a failed photo: its file is removed, the record and the reason kept."""
    patient = patient_service.get_patient(db, auth.principal, patient_id)
    _of_patient(failed.dismiss_failed_photo(db, store, auth, image_id), patient.id)
    return redirect(request, f"/patients/{patient.id}/photos?notice=dismissed")


@router.post("/patients/{patient_id}/photos/{image_id}/retry")
def retry(
    request: Request, patient_id: uuid.UUID, image_id: uuid.UUID, db: SessionDep, auth: Capturer
) -> Response:
    """Process a failed photo again."""
    patient = patient_service.get_patient(db, auth.principal, patient_id)
    _of_patient(failed.retry_failed_photo(db, auth, image_id), patient.id)
    return redirect(request, f"/patients/{patient.id}/photos?notice=retrying")
