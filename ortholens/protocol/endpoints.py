"""Photo protocols: `/api/protocols` and a patient's completeness."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep
from ortholens.protocol import service
from ortholens.protocol.builtin import Protocol, Slot
from ortholens.protocol.schemas import CompletenessRead, ProtocolCreate, ProtocolRead, SlotRead

router = APIRouter(tags=["protocols"])
Viewer = Annotated[Authorized, RequirePermission(Permission.IMAGING_VIEW)]
Admin = Annotated[Authorized, RequirePermission(Permission.IMAGING_ADMIN)]


def _read(protocol: Protocol) -> ProtocolRead:
    return ProtocolRead(
        key=protocol.key,
        name=protocol.name,
        builtin=protocol.builtin,
        slots=[
            SlotRead(view_code=s.view_code, label=s.label, required=s.required)
            for s in protocol.slots
        ],
    )


@router.get("/api/protocols", response_model=list[ProtocolRead])
def list_protocols(auth: Viewer, db: SessionDep) -> list[ProtocolRead]:
    """The built-in photo series and your clinic's own."""
    return [_read(p) for p in service.list_protocols(db, auth.principal)]


@router.post("/api/protocols", response_model=ProtocolRead, status_code=201)
def create_protocol(body: ProtocolCreate, auth: Admin, db: SessionDep) -> ProtocolRead:
    """Define a photo series for your clinic."""
    slots = [Slot(s.view_code, s.label, s.required) for s in body.slots]
    protocol = service.create_protocol(
        db, auth.principal, name=body.name, slots=slots, clinic_id=body.clinic_id
    )
    return _read(protocol)


@router.delete("/api/protocols/{protocol_id}", status_code=204)
def delete_protocol(protocol_id: uuid.UUID, auth: Admin, db: SessionDep) -> Response:
    """Remove one of your clinic's photo series."""
    service.delete_protocol(db, auth.principal, protocol_id)
    return Response(status_code=204)


@router.get(
    "/api/patients/{patient_id}/protocols/{protocol_key}/completeness",
    response_model=CompletenessRead,
)
def completeness(
    patient_id: uuid.UUID,
    protocol_key: str,
    auth: Viewer,
    db: SessionDep,
    session_id: uuid.UUID | None = None,
) -> CompletenessRead:
    """Which views of a protocol a patient's photos (or one scan session's) cover."""
    result = service.patient_completeness(db, auth.principal, patient_id, protocol_key, session_id)
    return CompletenessRead(
        protocol_key=result.protocol_key,
        complete=result.complete,
        summary=result.summary,
        present=result.present,
        missing=result.missing,
        missing_optional=result.missing_optional,
    )
