"""Staff management for clinic administrators: `/api/clinic/*`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response

from ortholens.auth.deps import Public, RequirePermission, SignerDep
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.clinic import service
from ortholens.clinic.schemas import (
    InviteAcceptance,
    MfaRequirement,
    StaffCreate,
    StaffCreated,
    StaffMember,
    StaffUpdate,
)
from ortholens.http.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/clinic", tags=["clinic"])
StaffManager = Annotated[Authorized, RequirePermission(Permission.STAFF_MANAGE)]


@router.get("/staff", response_model=list[StaffMember])
def list_staff(auth: StaffManager, db: SessionDep) -> list[StaffMember]:
    """Your clinic's staff."""
    return [StaffMember.model_validate(u) for u in service.list_staff(db, auth.principal)]


@router.post("/staff", response_model=StaffCreated, status_code=201)
def add_staff(
    body: StaffCreate, auth: StaffManager, db: SessionDep, signer: SignerDep, settings: SettingsDep
) -> StaffCreated:
    """Add a staff member; they set their own password through the returned invite link."""
    created = service.add_staff(
        db,
        auth.principal,
        signer,
        public_url=settings.public_url,
        email=body.email,
        full_name=body.full_name,
        role=body.role,
        clinic_id=body.clinic_id,
    )
    assert created.invite_url is not None
    return StaffCreated(
        user=StaffMember.model_validate(created.user), invite_url=created.invite_url
    )


@router.patch("/staff/{user_id}", response_model=StaffMember)
def update_staff(
    user_id: uuid.UUID, body: StaffUpdate, auth: StaffManager, db: SessionDep
) -> StaffMember:
    """Change a staff member's role or name (effective on their next request)."""
    user = service.update_staff(
        db, auth.principal, user_id, role=body.role, full_name=body.full_name
    )
    return StaffMember.model_validate(user)


@router.post("/staff/{user_id}/disable", response_model=StaffMember)
def disable_staff(user_id: uuid.UUID, auth: StaffManager, db: SessionDep) -> StaffMember:
    """Disable a staff member; all their sign-ins end at once."""
    return StaffMember.model_validate(
        service.set_disabled(db, auth.principal, user_id, disabled=True)
    )


@router.post("/staff/{user_id}/enable", response_model=StaffMember)
def enable_staff(user_id: uuid.UUID, auth: StaffManager, db: SessionDep) -> StaffMember:
    """Re-enable a disabled staff member."""
    return StaffMember.model_validate(
        service.set_disabled(db, auth.principal, user_id, disabled=False)
    )


@router.put("/settings/mfa", response_model=MfaRequirement)
def require_mfa(body: MfaRequirement, auth: StaffManager, db: SessionDep) -> MfaRequirement:
    """Require two-factor sign-in for every staff member of your clinic."""
    clinic = service.set_mfa_requirement(db, auth.principal, required=body.required)
    return MfaRequirement(required=bool(clinic.settings.get("require_mfa")))


@router.post("/staff/accept-invite", status_code=204, dependencies=[Public])
def accept_invite(body: InviteAcceptance, db: SessionDep, signer: SignerDep) -> Response:
    """A new staff member sets their password with the token from their invite link."""
    service.accept_staff_invite(db, signer, body.token, body.password)
    return Response(status_code=204)
