"""Who may see a page: the page counterparts of `ortholens.auth.deps`.

    StaffPage                 a signed-in staff member (sent to /account first while their clinic
                              requires two-factor sign-in they have not set up)
    StaffAccountPage          a signed-in staff member, also while that set-up is pending
    RequirePagePermission(p)  a staff member whose role grants `p` (an audited 403 page otherwise)
    PatientPage               a patient signed in to the portal

They depend on `current_staff` / `current_patient`, so pages and the API share one sign-in check;
when it fails, the page error handler (`ortholens.web.routing`) redirects to the sign-in page
instead of answering 401.

Forms: the form's `csrf_token` field, or for htmx the X-CSRF-Token header, must be the CSRF token
of the signed-in session (an HMAC of its id; before sign-in, the `ol_csrf` cookie's value, double
submit), else 403. Every page router runs `verify_page_csrf` on unsafe requests
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

from ortholens.auth.cookie_names import cookie_names
from ortholens.auth.deps import (
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    SAFE_METHODS,
    CurrentPatient,
    CurrentStaff,
    SignerDep,
    authorize,
    mark_permission,
)
from ortholens.auth.policy import Permission, allowed
from ortholens.auth.principals import Authorized, PatientPrincipal, StaffPrincipal
from ortholens.auth.service import IssuedTokens
from ortholens.auth.tokens import TokenSigner, TokenType
from ortholens.dashboard.worklist import menu_counts
from ortholens.http.deps import SessionDep
from ortholens.http.schemas import CONTROL_CHARACTER_MESSAGE, has_control_characters
from ortholens.kit.errors import Forbidden, InvalidInput, Unauthorized
from ortholens.messaging.badge_repository import unread_for_patient
from ortholens.models import User
from ortholens.web.routing import PageResponse, redirect
from ortholens.web.session import end_session, start_session

ACCOUNT_PATH = "/account"


async def _sent_token(request: Request) -> str:
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form: FormData = await request.form()
        field = form.get(CSRF_FORM_FIELD)
        sent = field if isinstance(field, str) else ""
    return sent


def _session_token(request: Request, signer: TokenSigner) -> str | None:
    """The CSRF token of the session the access cookie belongs to (None if the cookie is no
    valid token: the sign-in check refuses such a request anyway)."""
    names = cookie_names(request)
    for name, kind in ((names.access, TokenType.STAFF), (names.patient_access, TokenType.PATIENT)):
        cookie = request.cookies.get(name)
        if cookie:
            try:
                session_id = signer.decode(cookie, kind).session_id
            except Unauthorized:
                continue
            return signer.csrf_token(session_id) if session_id else None
    return None


async def _check_form_csrf(request: Request, expected: str | None) -> None:
    """`expected` is the session's token; without a session, the `ol_csrf` cookie's value."""
    sent = await _sent_token(request)
    expected = expected or request.cookies.get(cookie_names(request).csrf, "")
    if not expected or not hmac.compare_digest(expected, sent):
        raise Forbidden("This form has expired. Reload the page and try again.")
    if CSRF_HEADER not in request.headers:
        # `request.headers` shares its list with the ASGI scope, so the dependencies that run
        # after this one (current_staff's own CSRF check) see the verified token as the header.
        request.scope["headers"].append((CSRF_HEADER.encode(), sent.encode()))


def _has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def refuse_control_characters_in_form(request: Request) -> None:
    """Refuse (422) a form whose text fields hold control characters such as NUL: the pages'
    counterpart of the API's text types (`ortholens.http.schemas`), for every form at once."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method in SAFE_METHODS or media_type not in _FORM_TYPES:
        return
    form: FormData = await request.form()  # parsed once: the route's Form fields reuse it
    if any(isinstance(v, str) and has_control_characters(v) for _, v in form.multi_items()):
        raise InvalidInput(CONTROL_CHARACTER_MESSAGE)


async def verify_page_csrf(request: Request, signer: SignerDep) -> None:
    """Refuse (403) a cookie-authenticated form post whose CSRF token is not its session's, and
    (422) any form with control characters in its text."""
    await refuse_control_characters_in_form(request)
    if request.method in SAFE_METHODS or _has_bearer(request):
        return
    names = cookie_names(request)
    if names.access in request.cookies or names.patient_access in request.cookies:
        await _check_form_csrf(request, _session_token(request, signer))


async def verify_form_csrf(request: Request) -> None:
    """Refuse (403) a sign-in or registration post whose CSRF token does not match its cookie
    (no session yet: the double submit guards against signing someone in as someone else)."""
    await refuse_control_characters_in_form(request)
    if request.method not in SAFE_METHODS:
        await _check_form_csrf(request, None)


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
    # The menu's badges on every staff page; plain ints, so error pages can show them too.
    request.state.menu_counts = menu_counts(
        db,
        principal,
        check_ins=allowed(principal.role, Permission.MONITORING_READ),
        messages=allowed(principal.role, Permission.MESSAGES_READ),
    )


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


@dataclass(frozen=True)
class PortalCounts:
    """The portal bar's badges (`NavItem.badge` names a field), like the staff menu's counts."""

    unread_messages: int


def patient_page(request: Request, db: SessionDep, principal: CurrentPatient) -> PatientPrincipal:
    """The patient signed in to the portal (and the unread badge of the bottom bar's Messages)."""
    request.state.patient = principal
    request.state.menu_counts = PortalCounts(unread_for_patient(db, principal.patient_id))
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
    token = request.cookies.get(cookie_names(request).refresh_for(patient=patient))
    if not token:
        return RedirectResponse(login, status_code=303)
    try:
        tokens = refresh(token)
    except Unauthorized:
        ended = RedirectResponse(login, status_code=303)
        end_session(request, ended, patient=patient)
        raise PageResponse(ended) from None  # roll back: a replayed token revokes its family
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, tokens, patient=patient)
    return response
