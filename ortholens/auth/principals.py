"""Who is acting: the signed-in staff member or patient, as plain dataclasses.

Services take these and never the request, so this module imports no web framework; the FastAPI
dependencies that build them from a token live in `ortholens.auth.deps`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ortholens.audit.service import Actor
from ortholens.auth.policy import Permission, Scope
from ortholens.models import ActorType, Role


@dataclass(frozen=True)
class StaffPrincipal:
    user_id: uuid.UUID
    clinic_id: uuid.UUID | None
    role: Role
    session_id: uuid.UUID
    mfa_enrollment_required: bool

    @property
    def clinic_scope(self) -> uuid.UUID | None:
        """The clinic every query is limited to; None for a super admin (all clinics)."""
        return None if self.role is Role.SUPER_ADMIN else self.clinic_id

    @property
    def actor(self) -> Actor:
        return Actor(ActorType.USER, self.user_id, self.clinic_id)


@dataclass(frozen=True)
class PatientPrincipal:
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    session_id: uuid.UUID

    @property
    def actor(self) -> Actor:
        return Actor(ActorType.PATIENT, self.patient_id, self.clinic_id)


@dataclass(frozen=True)
class Authorized:
    """A staff member allowed to use a route, with the scope of that permission."""

    principal: StaffPrincipal
    permission: Permission
    scope: Scope
