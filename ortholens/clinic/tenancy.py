"""Tenancy rules shared by every domain: which clinic a staff request acts on, and how a record of
another clinic answers (the same 404 as a random id, audited as denied)."""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import StaffPrincipal
from ortholens.kit.errors import InvalidInput, NotFound
from ortholens.models import Clinic


class ClinicOwned(Protocol):
    id: uuid.UUID
    clinic_id: uuid.UUID


RowT = TypeVar("RowT", bound=ClinicOwned)


def target_clinic(
    session: Session, principal: StaffPrincipal, requested: uuid.UUID | None
) -> uuid.UUID:
    """The principal's own clinic; a super admin (who spans clinics) must name one (`clinicId`)."""
    if principal.clinic_scope is not None:
        return principal.clinic_scope
    if requested is None:
        raise InvalidInput("clinicId is required: say which clinic this is for.")
    if session.get(Clinic, requested) is None:
        raise InvalidInput("clinicId does not name a clinic.")
    return requested


def find_in_clinic(
    session: Session,
    principal: StaffPrincipal,
    model: type[RowT],
    row_id: uuid.UUID,
    *,
    action: str,
    target_type: str,
    not_found: str,
) -> RowT:
    """The row if it belongs to the principal's clinics; else NotFound, audited as a denied
    `action` when the row exists in another clinic."""
    row = session.get(model, row_id)
    scope = principal.clinic_scope
    if row is not None and (scope is None or row.clinic_id == scope):
        return row
    if row is not None:
        audit.record_denied(
            session, principal.actor, action, target_type=target_type, target_id=row_id
        )
    raise NotFound(not_found)
