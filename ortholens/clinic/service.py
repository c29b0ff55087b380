"""Clinic and staff rules: clinic admins manage their own clinic's staff; super admins any."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth import service as auth_service
from ortholens.auth.principals import StaffPrincipal
from ortholens.auth.tokens import INVITE_TTL, TokenSigner, TokenType
from ortholens.clinic import repository
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from ortholens.kit.passwords import hash_password
from ortholens.models import ActorType, Clinic, Role, User

# A stored value no password can match: the user sets theirs through the invite link.
UNUSABLE_PASSWORD = "!invite-pending"  # noqa: S105 - not a password: never a valid argon2 hash


@dataclass(frozen=True)
class NewStaff:
    user: User
    invite_url: str | None = None
    invite_token: str | None = None


def create_clinic(session: Session, name: str, *, settings: dict[str, Any] | None = None) -> Clinic:
    """A new practice (tenant)."""
    name = name.strip()
    if not name:
        raise InvalidInput("Give the clinic a name.")
    clinic = Clinic(name=name, settings=settings or {})
    session.add(clinic)
    session.flush()
    audit.record(
        session,
        audit.SYSTEM,
        "clinic.create",
        clinic_id=clinic.id,
        target_type="clinic",
        target_id=clinic.id,
    )
    return clinic


def _scoped_user(session: Session, principal: StaffPrincipal, user_id: uuid.UUID) -> User:
    user = repository.get_user(session, user_id)
    scope = principal.clinic_scope
    if user is None or (scope is not None and user.clinic_id != scope):
        raise NotFound("No staff member with this id.")
    return user


def _check_role_assignable(principal: StaffPrincipal, role: Role) -> None:
    if role is Role.SUPER_ADMIN and principal.role is not Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin can make someone a super admin.")


def list_staff(session: Session, principal: StaffPrincipal) -> list[User]:
    """Staff of the principal's clinic (every clinic's for a super admin)."""
    return repository.list_staff(session, principal.clinic_scope)


def create_user(
    session: Session,
    *,
    clinic_id: uuid.UUID | None,
    email: str,
    full_name: str,
    role: Role,
    password: str | None,
    actor: audit.Actor = audit.SYSTEM,
) -> User:
    """A staff account; without a password it cannot sign in until its invite is accepted."""
    email = email.strip().lower()
    if repository.email_taken(session, email):
        raise Conflict("A staff member with this e-mail already exists.")
    if role is not Role.SUPER_ADMIN and clinic_id is None:
        raise InvalidInput("Staff other than super admins belong to a clinic.")
    if clinic_id is not None and repository.get_clinic(session, clinic_id) is None:
        raise NotFound("No clinic with this id.")
    if password is not None:
        auth_service.check_password_strength(password)
    user = User(
        clinic_id=clinic_id,
        email=email,
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password) if password else UNUSABLE_PASSWORD,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "staff.create",
        clinic_id=clinic_id,
        target_type="user",
        target_id=user.id,
        details={"role": role.value},
    )
    return user


def add_staff(
    session: Session,
    principal: StaffPrincipal,
    signer: TokenSigner,
    *,
    public_url: str,
    email: str,
    full_name: str,
    role: Role,
    clinic_id: uuid.UUID | None = None,
) -> NewStaff:
    """Add a staff member to the principal's clinic and make their set-your-password link."""
    _check_role_assignable(principal, role)
    target_clinic = principal.clinic_scope if principal.clinic_scope is not None else clinic_id
    user = create_user(
        session,
        clinic_id=target_clinic,
        email=email,
        full_name=full_name,
        role=role,
        password=None,
        actor=principal.actor,
    )
    token, _ = signer.issue(
        TokenType.INVITE, user.id, now=utcnow(), ttl=INVITE_TTL, version=user.token_version
    )
    return NewStaff(user=user, invite_url=f"{public_url}/welcome/{token}", invite_token=token)


def accept_staff_invite(session: Session, signer: TokenSigner, token: str, password: str) -> User:
    """Set the password of a new staff member from their invite link (works once)."""
    claims = signer.decode(token, TokenType.INVITE)
    user = repository.get_user(session, claims.subject)
    if user is None or user.token_version != claims.version or user.disabled_at is not None:
        raise InvalidInput(
            "This invitation is no longer valid; ask your clinic admin for a new one."
        )
    auth_service.check_password_strength(password)
    user.password_hash = hash_password(password)
    user.token_version += 1  # the link is spent
    audit.record(
        session,
        audit.Actor(ActorType.USER, user.id, user.clinic_id),
        "staff.invite_accepted",
        target_type="user",
        target_id=user.id,
    )
    return user


def update_staff(
    session: Session,
    principal: StaffPrincipal,
    user_id: uuid.UUID,
    *,
    role: Role | None = None,
    full_name: str | None = None,
) -> User:
    """Change a staff member's role or name; a role change takes effect on their next request."""
    user = _scoped_user(session, principal, user_id)
    if role is not None and role is not user.role:
        _check_role_assignable(principal, role)
        if user.role is Role.SUPER_ADMIN and principal.role is not Role.SUPER_ADMIN:
            raise Forbidden("Only a super admin can change a super admin.")
        _keep_an_admin(session, user, leaving=user.role is Role.CLINIC_ADMIN)
        audit.record(
            session,
            principal.actor,
            "staff.role_change",
            clinic_id=user.clinic_id,
            target_type="user",
            target_id=user.id,
            details={"from": user.role.value, "to": role.value},
        )
        user.role = role
    if full_name is not None and full_name.strip():
        user.full_name = full_name.strip()
        audit.record(
            session,
            principal.actor,
            "staff.update",
            clinic_id=user.clinic_id,
            target_type="user",
            target_id=user.id,
        )
    session.flush()
    return user


def set_disabled(
    session: Session, principal: StaffPrincipal, user_id: uuid.UUID, *, disabled: bool
) -> User:
    """Disable (every session ends at once) or re-enable a staff member."""
    user = _scoped_user(session, principal, user_id)
    if user.id == principal.user_id:
        raise Conflict("You cannot disable your own account.")
    if user.role is Role.SUPER_ADMIN and principal.role is not Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin can disable a super admin.")
    if disabled and user.disabled_at is None:
        _keep_an_admin(session, user, leaving=user.role is Role.CLINIC_ADMIN)
        user.disabled_at = utcnow()
        auth_service.end_all_sessions(session, user, reason="disabled")
        audit.record(
            session,
            principal.actor,
            "staff.disable",
            clinic_id=user.clinic_id,
            target_type="user",
            target_id=user.id,
        )
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        audit.record(
            session,
            principal.actor,
            "staff.enable",
            clinic_id=user.clinic_id,
            target_type="user",
            target_id=user.id,
        )
    session.flush()
    return user


def _keep_an_admin(session: Session, user: User, *, leaving: bool) -> None:
    """A clinic must keep at least one active clinic admin."""
    if (
        leaving
        and user.clinic_id
        and user.disabled_at is None
        and repository.count_active_admins(session, user.clinic_id) <= 1
    ):
        raise Conflict("A clinic needs at least one active clinic admin.")


def set_mfa_requirement(
    session: Session,
    principal: StaffPrincipal,
    *,
    required: bool,
    clinic_id: uuid.UUID | None = None,
) -> Clinic:
    """Require (or stop requiring) two-factor sign-in for every staff member of a clinic."""
    target = principal.clinic_scope or clinic_id
    clinic = repository.get_clinic(session, target) if target else None
    if clinic is None:
        raise NotFound("No clinic with this id.")
    clinic.settings = {**clinic.settings, "require_mfa": required}
    audit.record(
        session,
        principal.actor,
        "clinic.mfa_requirement",
        clinic_id=clinic.id,
        target_type="clinic",
        target_id=clinic.id,
        details={"required": required},
    )
    session.flush()
    return clinic
