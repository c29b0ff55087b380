"""Who is calling, and may they: the `Annotated` dependencies every route declares.

    CurrentStaff             a signed-in staff member (any role)
    RequirePermission(p)     a staff member whose role has permission `p` (403 otherwise)
    CurrentPatient           a patient signed in to the portal
    Public                   no sign-in needed (declared explicitly, so nothing is public by accident)

Tokens come from `Authorization: Bearer ...` (API clients, the portal's scripts) or from the
httpOnly cookies the web pages use; cookie-authenticated writes must also carry the CSRF token.
Every check reads the database: a revoked session, a disabled user or a changed role takes effect on
the very next request, however long the access token still has to live.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.policy import Permission, Scope, grant
from ortholens.auth.service import clinic_requires_mfa
from ortholens.auth.tokens import TokenSigner, TokenType
from ortholens.http.deps import RuntimeDep, SessionDep
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Forbidden, Unauthorized
from ortholens.models import (
    ActorType,
    AuthSession,
    Clinic,
    Patient,
    PatientStatus,
    Role,
    User,
)

ACCESS_COOKIE = "ol_access"
REFRESH_COOKIE = "ol_refresh"
PATIENT_ACCESS_COOKIE = "patient_access"
PATIENT_REFRESH_COOKIE = "patient_refresh"  # the name seed 004 gives it
CSRF_COOKIE = "ol_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    def actor(self) -> audit.Actor:
        return audit.Actor(ActorType.USER, self.user_id, self.clinic_id)


@dataclass(frozen=True)
class PatientPrincipal:
    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    session_id: uuid.UUID

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(ActorType.PATIENT, self.patient_id, self.clinic_id)


@dataclass(frozen=True)
class Authorized:
    """A staff member allowed to use a route, with the scope of that permission."""

    principal: StaffPrincipal
    permission: Permission
    scope: Scope


def token_signer(runtime: RuntimeDep) -> TokenSigner:
    return runtime.signer


SignerDep = Annotated[TokenSigner, Depends(token_signer)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _check_csrf(request: Request) -> None:
    """Cookie-authenticated writes must echo the CSRF cookie in a header (double submit).

    Form posts from our own pages are checked by the page handlers, which read the form field.
    """
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, sent):
        raise Forbidden("This request is missing its CSRF token; reload the page and try again.")


def _token(request: Request, cookie_name: str) -> str | None:
    bearer = _bearer(request)
    if bearer:
        return bearer
    cookie = request.cookies.get(cookie_name)
    if cookie:
        _check_csrf(request)
    return cookie


def _live_session(db: Session, session_id: uuid.UUID | None) -> AuthSession:
    auth = db.get(AuthSession, session_id) if session_id else None
    if auth is None or auth.revoked_at is not None or auth.expires_at <= utcnow():
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    return auth


def current_staff(request: Request, db: SessionDep, signer: SignerDep) -> StaffPrincipal:
    """The signed-in staff member (401 when there is none or the sign-in has ended)."""
    token = _token(request, ACCESS_COOKIE)
    if token is None:
        raise Unauthorized("Sign in to continue.")
    claims = signer.decode(token, TokenType.STAFF)
    auth = _live_session(db, claims.session_id)
    user = db.get(User, claims.subject)
    clinic = db.get(Clinic, user.clinic_id) if user and user.clinic_id else None
    if (
        user is None
        or auth.user_id != user.id
        or user.disabled_at is not None
        or user.token_version != claims.version
    ):
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    return StaffPrincipal(
        user_id=user.id,
        clinic_id=user.clinic_id,
        role=user.role,
        session_id=auth.id,
        mfa_enrollment_required=clinic_requires_mfa(clinic) and user.mfa_enabled_at is None,
    )


def current_patient(request: Request, db: SessionDep, signer: SignerDep) -> PatientPrincipal:
    """The patient signed in to the portal (401 otherwise; staff tokens are not accepted)."""
    token = _token(request, PATIENT_ACCESS_COOKIE)
    if token is None:
        raise Unauthorized("Sign in to continue.")
    claims = signer.decode(token, TokenType.PATIENT)
    auth = _live_session(db, claims.session_id)
    patient = db.get(Patient, claims.subject)
    if patient is None or auth.patient_id != patient.id or patient.status is PatientStatus.ARCHIVED:
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    return PatientPrincipal(patient_id=patient.id, clinic_id=patient.clinic_id, session_id=auth.id)


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]
CurrentPatient = Annotated[PatientPrincipal, Depends(current_patient)]


def authorize(
    request: Request,
    db: Session,
    principal: StaffPrincipal,
    permission: Permission,
    *,
    full_scope: bool,
    refusal: str,
) -> Authorized:
    """The principal's grant of `permission`, or an audited Forbidden(`refusal`). With
    `full_scope`, a limited grant (front desk capture: photos and documents only) is refused too."""
    scope = grant(principal.role, permission)
    if scope is None or (full_scope and scope is not Scope.FULL):
        audit.record_denied(
            db,
            principal.actor,
            "access.denied",
            details={"permission": permission.value, "route": _route_template(request)},
        )
        raise Forbidden(refusal)
    return Authorized(principal=principal, permission=permission, scope=scope)


def mark_permission(require: Any, permission: Permission, *, full_scope: bool) -> Any:
    """Label a dependency with what it checks, for the route-by-role access tests."""
    require.__ortholens_permission__ = permission
    require.__ortholens_full_scope__ = full_scope
    return Depends(require)


def RequirePermission(permission: Permission, *, full_scope: bool = False) -> Any:  # noqa: N802 - reads as a type in signatures
    """`Annotated[Authorized, RequirePermission(p)]`: staff whose role grants `p`; others get an
    audited 403. Use `full_scope` for routes that only handle X-ray, CBCT or 3D data."""

    def require(request: Request, db: SessionDep, principal: CurrentStaff) -> Authorized:
        if principal.mfa_enrollment_required:
            raise Forbidden("Your clinic requires two-factor sign-in: set it up first.")
        refusal = f"Your role does not allow this ({permission.value})."
        return authorize(request, db, principal, permission, full_scope=full_scope, refusal=refusal)

    return mark_permission(require, permission, full_scope=full_scope)


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def public() -> None:
    """Marks a route as reachable without signing in."""


Public = Depends(public)

# The dependencies that count as an access declaration (checked for every route by the tests).
ACCESS_DECLARATIONS: tuple[Callable[..., Any], ...] = (current_staff, current_patient, public)
