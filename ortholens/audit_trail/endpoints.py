"""The clinic's audit trail, for clinic admins only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ortholens.audit import repository
from ortholens.audit import service as audit
from ortholens.audit_trail.schemas import AuditEventRead, AuditPage
from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep
from ortholens.kit.errors import Forbidden
from ortholens.models import AuditOutcome

router = APIRouter(prefix="/api/audit", tags=["audit"])
AuditReader = Annotated[Authorized, RequirePermission(Permission.AUDIT_READ)]


@router.get("/events", response_model=AuditPage)
def list_events(
    *,
    auth: AuditReader,
    db: SessionDep,
    action: Annotated[
        str | None, Query(max_length=60, description="Prefix, e.g. `patient.`")
    ] = None,
    actor_id: uuid.UUID | None = None,
    target_id: uuid.UUID | None = None,
    outcome: AuditOutcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[
        int | None, Query(ge=1, description="`nextCursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Your clinic's audit events, newest first, with filters."""
    clinic_id = auth.principal.clinic_id
    if clinic_id is None:
        raise Forbidden("Only a clinic's own administrators read its audit trail.")
    events = repository.list_events(
        db,
        clinic_id=clinic_id,
        action=action,
        actor_id=actor_id,
        target_id=target_id,
        outcome=outcome,
        since=since,
        until=until,
        before_seq=cursor,
        limit=limit + 1,
    )
    audit.record(db, auth.principal.actor, "audit.read", details={"count": min(len(events), limit)})
    more = len(events) > limit
    events = events[:limit]
    return AuditPage(
        items=[AuditEventRead.model_validate(e) for e in events],
        next_cursor=events[-1].seq if more and events else None,
    )
