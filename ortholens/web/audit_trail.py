"""`/audit`: the clinic's audit trail for its clinic admins, newest first, filtered and paged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ortholens.audit import repository
from ortholens.audit import service as audit
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.clinic import service as clinic_service
from ortholens.http.deps import SessionDep
from ortholens.kit.errors import Forbidden
from ortholens.models import AuditOutcome
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageRoute, QueryFilters, is_htmx
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

AuditReader = Annotated[Authorized, RequirePagePermission(Permission.AUDIT_READ)]
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters(QueryFilters):
    """The filter form as typed; invalid values are reported, not silently dropped."""

    action: str = ""
    outcome: str = ""
    actor: str = ""
    target: str = ""
    since: str = ""
    until: str = ""


def _uuid(value: str, label: str, errors: list[str]) -> uuid.UUID | None:
    if not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        errors.append(f"{label} must be a full id (like 3f2b9c1e-…).")
        return None


def _day(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label} must be a date.")
        return None


@router.get("/audit")
def audit_trail(
    *,
    request: Request,
    db: SessionDep,
    auth: AuditReader,
    action: Annotated[str, Query(max_length=60)] = "",
    outcome: Annotated[str, Query(max_length=10)] = "",
    actor: Annotated[str, Query(max_length=40)] = "",
    target: Annotated[str, Query(max_length=40)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The clinic's audit events, newest first; "load more" pages with the cursor."""
    clinic_id = auth.principal.clinic_id
    if clinic_id is None:
        raise Forbidden("Only a clinic's own administrators read its audit trail.")
    filters = AuditFilters(action.strip(), outcome, actor.strip(), target.strip(), since, until)
    errors: list[str] = []
    outcome_value = AuditOutcome(outcome) if outcome in set(AuditOutcome) else None
    actor_id = _uuid(filters.actor, "Actor", errors)
    target_id = _uuid(filters.target, "Target", errors)
    first_day, last_day = _day(since, "From", errors), _day(until, "To", errors)
    events = []
    next_cursor = None
    if not errors:
        events = repository.list_events(
            db,
            clinic_id=clinic_id,
            action=filters.action or None,
            actor_id=actor_id,
            target_id=target_id,
            outcome=outcome_value,
            since=datetime.combine(first_day, time(), UTC) if first_day else None,
            until=datetime.combine(last_day + timedelta(days=1), time(), UTC) if last_day else None,
            before_seq=cursor,
            limit=PAGE_SIZE + 1,
        )
        if len(events) > PAGE_SIZE:
            events = events[:PAGE_SIZE]
            next_cursor = events[-1].seq
        audit.record(db, auth.principal.actor, "audit.read", details={"count": len(events)})
    names = {user.id: user.full_name for user in clinic_service.list_staff(db, auth.principal)}
    context = {
        "events": events,
        "names": names,
        "filters": filters,
        "errors": errors,
        "outcomes": list(AuditOutcome),
        "more_url": f"/audit?{filters.query(cursor=next_cursor)}" if next_cursor else None,
    }
    if is_htmx(request) and cursor:
        return render(request, "fragments/audit_rows.html", context)
    return render(request, "audit.html", context)
