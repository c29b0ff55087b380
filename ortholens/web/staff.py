"""`/staff`: clinic admins manage their clinic's staff and its two-factor requirement."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ortholens.auth import service as auth_service
from ortholens.auth.deps import SignerDep
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.clinic import repository as clinic_repository
from ortholens.clinic import service as clinic_service
from ortholens.clinic.service import UNUSABLE_PASSWORD, NewStaff
from ortholens.http.deps import RuntimeDep, SessionDep
from ortholens.kit.errors import InvalidInput, OrthoLensError
from ortholens.models import Role, User
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.routing import PageResponse, PageRoute, redirect
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

StaffManager = Annotated[Authorized, RequirePagePermission(Permission.STAFF_MANAGE)]
Text = Annotated[str, Form(max_length=320)]

NOTICES = {
    "role-changed": "The role has changed. It applies from their next click.",
    "disabled": "The account is disabled and its sign-ins have ended.",
    "enabled": "The account is enabled again.",
    "mfa-on": "Two-factor sign-in is now required for everyone in your clinic.",
    "mfa-off": "Two-factor sign-in is no longer required (staff who set it up keep it).",
}


def assignable_roles(auth: Authorized) -> list[Role]:
    """Roles the signed-in admin may give (only a super admin makes super admins)."""
    if auth.principal.role is Role.SUPER_ADMIN:
        return list(Role)
    return [role for role in Role if role is not Role.SUPER_ADMIN]


def staff_status(user: User) -> str:
    if user.disabled_at is not None:
        return "disabled"
    if user.password_hash == UNUSABLE_PASSWORD:
        return "invited"
    return "active"


def _staff_page(
    request: Request,
    db: SessionDep,
    auth: Authorized,
    *,
    notice: str = "",
    added: NewStaff | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = auth.principal
    clinic = clinic_repository.get_clinic(db, principal.clinic_id) if principal.clinic_id else None
    members = clinic_service.list_staff(db, principal)
    return render(
        request,
        "staff.html",
        {
            "members": [(user, staff_status(user)) for user in members],
            "clinic": clinic,
            "clinic_requires_mfa": auth_service.clinic_requires_mfa(clinic),
            "roles": assignable_roles(auth),
            "notice": NOTICES.get(notice),
            "added": added,
            "form": form or {"full_name": "", "email": "", "role": ""},  # no default role: a choice
            "error": error,
            "can_add": principal.clinic_scope is not None,
        },
        status_code=status_code,
    )


def _check_new_staff(full_name: str, email: str) -> None:
    """Say which of the two fields is wrong, not both."""
    if not full_name.strip():
        raise InvalidInput("Enter the person's full name.")
    if not email.strip():
        raise InvalidInput("Enter the person's e-mail address.")
    local, _, domain = email.strip().rpartition("@")
    if not local or "." not in domain.strip(".") or " " in email.strip():
        raise InvalidInput(
            f"“{email.strip()}” is not an e-mail address: it should look like name@example.com."
        )


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("Choose a role from the list.") from None


@router.get("/staff")
def staff(request: Request, db: SessionDep, auth: StaffManager, notice: str = "") -> Response:
    """The clinic's staff, with their roles and status."""
    return _staff_page(request, db, auth, notice=notice)


@router.post("/staff")
def add_staff(
    *,
    request: Request,
    db: SessionDep,
    signer: SignerDep,
    runtime: RuntimeDep,
    auth: StaffManager,
    full_name: Annotated[str, Form(max_length=200)] = "",
    email: Text = "",
    role: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Add a staff member and show the link where they choose their password."""
    form = {"full_name": full_name, "email": email, "role": role}
    try:
        _check_new_staff(full_name, email)
        added = clinic_service.add_staff(
            db,
            auth.principal,
            signer,
            public_url=runtime.settings.public_url.rstrip("/"),
            email=email,
            full_name=full_name,
            role=_role(role),
        )
    except OrthoLensError as refused:
        page = _staff_page(
            request, db, auth, form=form, error=refused.detail, status_code=refused.status_code
        )
        raise PageResponse(page) from None
    return _staff_page(request, db, auth, added=added, status_code=201)


def _change(request: Request, db: SessionDep, auth: Authorized, error: OrthoLensError) -> None:
    page = _staff_page(request, db, auth, error=error.detail, status_code=error.status_code)
    raise PageResponse(page)


@router.post("/staff/{user_id}/role")
def change_role(
    request: Request,
    user_id: uuid.UUID,
    db: SessionDep,
    auth: StaffManager,
    role: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Give a staff member another role."""
    try:
        clinic_service.update_staff(db, auth.principal, user_id, role=_role(role))
    except OrthoLensError as refused:
        _change(request, db, auth, refused)
    return redirect(request, "/staff?notice=role-changed")


@router.post("/staff/{user_id}/disable")
def disable_staff(
    request: Request, user_id: uuid.UUID, db: SessionDep, auth: StaffManager
) -> Response:
    """Disable a staff member: their sign-ins end at once."""
    try:
        clinic_service.set_disabled(db, auth.principal, user_id, disabled=True)
    except OrthoLensError as refused:
        _change(request, db, auth, refused)
    return redirect(request, "/staff?notice=disabled")


@router.post("/staff/{user_id}/enable")
def enable_staff(
    request: Request, user_id: uuid.UUID, db: SessionDep, auth: StaffManager
) -> Response:
    """Let a disabled staff member sign in again."""
    try:
        clinic_service.set_disabled(db, auth.principal, user_id, disabled=False)
    except OrthoLensError as refused:
        _change(request, db, auth, refused)
    return redirect(request, "/staff?notice=enabled")


@router.post("/staff/mfa-requirement")
def mfa_requirement(
    request: Request,
    db: SessionDep,
    auth: StaffManager,
    required: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Require (or stop requiring) two-factor sign-in for the whole clinic."""
    on = required == "on"
    try:
        clinic_service.set_mfa_requirement(db, auth.principal, required=on)
    except OrthoLensError as refused:
        _change(request, db, auth, refused)
    return redirect(request, f"/staff?notice={'mfa-on' if on else 'mfa-off'}")
