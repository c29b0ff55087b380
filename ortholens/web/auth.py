"""Who may see a page: the page counterparts of `ortholens.auth.deps`.

    StaffPage                 a signed-in staff member (sent to /account first while their clinic
                              requires two-factor sign-in they have not set up)
    StaffAccountPage          a signed-in staff member, also while that set-up is pending
    RequirePagePermission(p)  a staff member whose role grants `p` (an audited 403 page otherwise)
    PatientPage               a patient signed in to the portal

They depend on `current_staff` / `current_patient`, so pages and the API share one sign-in check;
when it fails, the page error handler (`ortholens.web.routing`) redirects to the sign-in page
instead of answering 401.

Forms (double submit): the form's `csrf_token` field, or for htmx the X-CSRF-Token header, must
equal the `ol_csrf` cookie, else 403. Every page router runs `verify_page_csrf` on unsafe requests
that carry a session cookie (a Bearer token is no ambient credential, and a request with neither
is refused by the sign-in check anyway); the sign-in and registration forms add `FormCsrf`, which
always checks (no login CSRF). A verified token is then presented as the header `current_staff` /
`current_patient` check for cookie-authenticated writes, so pages and API share one rule.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from ortholens.auth.deps import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    PATIENT_ACCESS_COOKIE,
    PATIENT_REFRESH_COOKIE,
    REFRESH_COOKIE,
    SAFE_METHODS,
    Authorized,
    CurrentPatient,
    CurrentStaff,
    PatientPrincipal,
    StaffPrincipal,
    authorize,
    mark_permission,
)
from ortholens.auth.policy import Permission
from ortholens.auth.service import IssuedTokens
from ortholens.http.deps import SessionDep
from ortholens.kit.errors import Forbidden, Unauthorized
from ortholens.models import User
from ortholens.web.routing import PageResponse, redirect
from ortholens.web.session import end_session, start_session

ACCOUNT_PATH = "/account"


async def _check_form_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form: FormData = await request.form()
        field = form.get(CSRF_FORM_FIELD)
        sent = field if isinstance(field, str) else ""
    if not cookie or not hmac.compare_digest(cookie, sent):
        raise Forbidden("This form has expired. Reload the page and try again.")
    if CSRF_HEADER not in request.headers:
        # `request.headers` shares its list with the ASGI scope, so the dependencies that run
        # after this one (current_staff's own CSRF check) see the verified token as the header.
        request.scope["headers"].append((CSRF_HEADER.encode(), sent.encode()))


def _has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


async def verify_page_csrf(request: Request) -> None:
    """Refuse (403) a cookie-authenticated form post whose CSRF token does not match."""
    if request.method in SAFE_METHODS or _has_bearer(request):
        return
    if ACCESS_COOKIE in request.cookies or PATIENT_ACCESS_COOKIE in request.cookies:
        await _check_form_csrf(request)


async def verify_form_csrf(request: Request) -> None:
    """Refuse (403) a sign-in or registration post whose CSRF token does not match."""
    if request.method not in SAFE_METHODS:
        await _check_form_csrf(request)


PageCsrf = Depends(verify_page_csrf)
FormCsrf = Depends(verify_form_csrf)


@dataclass(frozen=True)
class StaffIdentity:
    """What the layout shows of the signed-in staff member. Plain values, not the ORM row: error
    pages render after the request's transaction has rolled back."""

    full_name: str
    email: str


def _remember_staff(request: Request, db: SessionDep, principal: StaffPrincipal) -> None:
    """Keep who is signed in on the request, for the layout (name, navigation)."""
    request.state.staff = principal
    user = db.get(User, principal.user_id)  # in the identity map already: current_staff loaded it
    if user is not None:
        request.state.staff_user = StaffIdentity(user.full_name, user.email)


def staff_account_page(request: Request, db: SessionDep, principal: CurrentStaff) -> StaffPrincipal:
    """Any signed-in staff member, even one who still has to set up two-factor sign-in."""
    _remember_staff(request, db, principal)
    return principal


def staff_page(request: Request, db: SessionDep, principal: CurrentStaff) -> StaffPrincipal:
    """A signed-in staff member; while their clinic requires two-factor sign-in they have not set
    up, every page sends them to their account page to do that first."""
    _remember_staff(request, db, principal)
    if principal.mfa_enrollment_required:
        raise PageResponse(redirect(request, f"{ACCOUNT_PATH}?notice=mfa-required"))
    return principal


StaffAccountPage = Annotated[StaffPrincipal, Depends(staff_account_page)]
StaffPage = Annotated[StaffPrincipal, Depends(staff_page)]


def RequirePagePermission(permission: Permission, *, full_scope: bool = False) -> Any:  # noqa: N802 - reads as a type
    """`Annotated[Authorized, RequirePagePermission(p)]`: staff whose role grants `p`; others see
    an audited 403 page (as `RequirePermission`, `full_scope` refuses limited grants too)."""

    def require(request: Request, db: SessionDep, principal: StaffPage) -> Authorized:
        refusal = "Your role does not give access to this page."
        return authorize(request, db, principal, permission, full_scope=full_scope, refusal=refusal)

    return mark_permission(require, permission, full_scope=full_scope)


def patient_page(request: Request, principal: CurrentPatient) -> PatientPrincipal:
    """The patient signed in to the portal."""
    request.state.patient = principal
    return principal


PatientPage = Annotated[PatientPrincipal, Depends(patient_page)]


def refresh_hop(
    request: Request,
    refresh: Callable[[str], IssuedTokens],
    *,
    patient: bool,
    target: str,
    login: str,
) -> Response:
    """Rotate the refresh cookie and go back to `target`, or to `login` when the session is over."""
    token = request.cookies.get(PATIENT_REFRESH_COOKIE if patient else REFRESH_COOKIE)
    if not token:
        return RedirectResponse(login, status_code=303)
    try:
        tokens = refresh(token)
    except Unauthorized:
        ended = RedirectResponse(login, status_code=303)
        end_session(ended, patient=patient)
        raise PageResponse(ended) from None  # roll back: a replayed token revokes its family
    response = RedirectResponse(target, status_code=303)
    start_session(response, tokens, patient=patient)
    return response
