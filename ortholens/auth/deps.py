"""Who is calling, and may they: the `Annotated` dependencies every route declares.

    CurrentStaff             a signed-in staff member (any role)
    RequirePermission(p)     a staff member whose role has permission `p` (403 otherwise)
    CurrentPatient           a patient signed in to the portal
    Public                   no sign-in needed (declared explicitly, so nothing is public by accident)

Tokens come from `Authorization: Bearer ...` (API clients, the portal's scripts) or from the
httpOnly cookies the web pages use; cookie-authenticated writes must also carry the CSRF token
of their session (`check_csrf`).
Every check reads the database: a revoked session, a disabled user or a changed role takes effect on
the very next request, however long the access token still has to live.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.cookie_names import PLAIN, cookie_names
from ortholens.auth.policy import Permission, Scope, grant
from ortholens.auth.principals import Authorized, PatientPrincipal, StaffPrincipal
from ortholens.auth.service import clinic_requires_mfa
from ortholens.auth.tokens import TokenSigner, TokenType
from ortholens.http.deps import SessionDep
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Forbidden, Unauthorized
from ortholens.models import (
    AuthSession,
    Clinic,
    Patient,
    PatientStatus,
    User,
)

# The development (http) names; `cookie_names(request)` gives the deployment's (`__Host-` on https).
ACCESS_COOKIE = PLAIN.access
REFRESH_COOKIE = PLAIN.refresh
PATIENT_ACCESS_COOKIE = PLAIN.patient_access
PATIENT_REFRESH_COOKIE = PLAIN.patient_refresh
CSRF_COOKIE = PLAIN.csrf
CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _HoldsSigner(Protocol):
    @property
    def signer(self) -> TokenSigner: ...


def token_signer(request: Request) -> TokenSigner:
    """The process's token signer, built once by the composition layer (`app.state.runtime`)."""
    holder: _HoldsSigner = request.app.state.runtime
    return holder.signer


SignerDep = Annotated[TokenSigner, Depends(token_signer)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def check_csrf(request: Request, signer: TokenSigner, session_id: uuid.UUID | None) -> None:
    """A cookie-authenticated write must send the session's CSRF token in a header: an HMAC of the
    session id (`TokenSigner.csrf_token`), which the sign-in response and every page hand to our
    own scripts. Comparing with the session, not only with the `ol_csrf` cookie, means a cookie
    planted by someone else (a sibling subdomain, an http page) is worth nothing.

    Form posts from our own pages carry it as a form field; the page handlers move it here.
    """
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    expected = signer.csrf_token(session_id) if session_id else ""
    if not expected or not hmac.compare_digest(expected, sent):
        raise Forbidden("This request is missing its CSRF token; reload the page and try again.")


def _token(request: Request, cookie_name: str) -> tuple[str | None, bool]:
    """The access token, and whether it came from a cookie (an ambient credential)."""
    bearer = _bearer(request)
    if bearer:
        return bearer, False
    return request.cookies.get(cookie_name) or None, True


def _live_session(db: Session, session_id: uuid.UUID | None) -> AuthSession:
    auth = db.get(AuthSession, session_id) if session_id else None
    if auth is None or auth.revoked_at is not None or auth.expires_at <= utcnow():
        raise Unauthorized("Your sign-in has ended; please sign in again.")
    return auth


def current_staff(request: Request, db: SessionDep, signer: SignerDep) -> StaffPrincipal:
    """The signed-in staff member (401 when there is none or the sign-in has ended)."""
    token, from_cookie = _token(request, cookie_names(request).access)
    if token is None:
        raise Unauthorized("Sign in to continue.")
    claims = signer.decode(token, TokenType.STAFF)
    if from_cookie:
        check_csrf(request, signer, claims.session_id)
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
    token, from_cookie = _token(request, cookie_names(request).patient_access)
    if token is None:
        raise Unauthorized("Sign in to continue.")
    claims = signer.decode(token, TokenType.PATIENT)
    if from_cookie:
        check_csrf(request, signer, claims.session_id)
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
