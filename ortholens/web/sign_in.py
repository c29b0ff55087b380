"""Staff sign-in pages: `/login` (with the two-factor step), `/logout`, the refresh hop and the
`/welcome/{token}` page where a new staff member sets their password.

Two-factor step. When `sign_in_staff` answers `MfaRequired`, the form asks for the code and carries
a *challenge*: the e-mail and password sealed with AES-GCM (the storage key), bound to this
browser's CSRF cookie and valid for `MFA_TTL` (5 minutes). The second post unseals it and calls
`sign_in_staff` again with the code, so throttling, auditing, the disabled-account check and equal
timing stay in the one sign-in service. The password never appears in the page (unlike re-posting
it in a hidden field, which browsers may keep in history or form restore), a copied challenge is
useless in another browser or after five minutes, and it is still worth nothing without the code.
"""

from __future__ import annotations

import json
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ortholens.auth import service as auth_service
from ortholens.auth.cookie_names import cookie_names
from ortholens.auth.deps import Public, SignerDep
from ortholens.auth.tokens import MFA_TTL, TokenType
from ortholens.clinic import repository as clinic_repository
from ortholens.clinic import service as clinic_service
from ortholens.http.deps import RuntimeDep, SessionDep, writes
from ortholens.kit.crypto import SealBroken, seal, unseal
from ortholens.kit.errors import OrthoLensError, TooManyRequests, Unauthorized
from ortholens.kit.resources import Resources
from ortholens.models import SubjectType, User
from ortholens.web.auth import FormCsrf, PageCsrf, StaffAccountPage, refresh_hop
from ortholens.web.routing import STAFF_LOGIN, PageResponse, PageRoute, redirect, safe_next
from ortholens.web.session import end_session, start_session
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

FormText = Annotated[str, Form(max_length=320)]
Password = Annotated[str, Form(max_length=256)]

NOTICES = {
    "signed-out": "You have signed out.",
    "password-set": "Your password is set. Sign in to continue.",
    "password-changed": "Your password has changed. Sign in again.",
}


# ---- The two-factor challenge --------------------------------------------------------------------


def _challenge_context(request: Request) -> bytes:
    return b"ortholens-web-mfa:" + request.cookies.get(cookie_names(request).csrf, "").encode()


def seal_challenge(runtime: Resources, request: Request, email: str, password: str) -> str:
    """E-mail and password, sealed for the code step (this browser only, `MFA_TTL`)."""
    payload = {"e": email, "p": password, "x": int(time.time() + MFA_TTL.total_seconds())}
    return seal(
        runtime.secrets.storage_encryption_key,
        json.dumps(payload).encode(),
        context=_challenge_context(request),
    )


def open_challenge(runtime: Resources, request: Request, challenge: str) -> tuple[str, str] | None:
    """The e-mail and password of a challenge; None if it was altered, moved or has expired."""
    try:
        raw = unseal(
            runtime.secrets.storage_encryption_key, challenge, context=_challenge_context(request)
        )
        payload = json.loads(raw)
    except (SealBroken, ValueError):
        return None
    if int(payload.get("x", 0)) < time.time():
        return None
    return str(payload["e"]), str(payload["p"])


# ---- Pages ---------------------------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
    challenge: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "auth/login.html",
        {
            "step": "code" if challenge else "password",
            "email": email,
            "next": next_path,
            "error": error,
            "notice": notice,
            "challenge": challenge or "",
        },
        status_code=status_code,
    )


@router.get("/login", dependencies=[Public])
def login_form(request: Request, next: str = "", notice: str = "") -> Response:
    """Staff sign-in form."""
    return _login_page(request, next_path=safe_next(next, ""), notice=NOTICES.get(notice))


@router.post("/login", dependencies=[Public, FormCsrf])
def login(
    *,
    request: Request,
    db: SessionDep,
    signer: SignerDep,
    runtime: RuntimeDep,
    email: FormText = "",
    password: Password = "",
    code: Annotated[str, Form(max_length=12)] = "",
    challenge: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the credentials (and the two-factor code); on success set the session cookies."""
    target = safe_next(next)
    if challenge:
        opened = open_challenge(runtime, request, challenge)
        if opened is None:
            raise PageResponse(
                _login_page(
                    request,
                    next_path=target,
                    email=email,
                    error="That took too long. Enter your password again.",
                    status_code=401,
                )
            )
        email, password = opened
    email = email.strip()
    if not email or not password:
        raise PageResponse(
            _login_page(
                request,
                next_path=target,
                email=email,
                error="Enter your e-mail address and password.",
                status_code=422,
            )
        )
    try:
        _user, tokens = auth_service.sign_in_staff(
            db,
            signer,
            throttle_secret=runtime.secrets.token_signing_key,
            mfa_key=runtime.secrets.storage_encryption_key,
            email=email,
            password=password,
            totp_code=code.strip() or None,
        )
    except auth_service.MfaRequired:
        sealed = challenge or seal_challenge(runtime, request, email, password)
        error = "Enter the 6-digit code." if challenge else None
        raise PageResponse(
            _login_page(
                request,
                next_path=target,
                email=email,
                challenge=sealed,
                error=error,
                status_code=401 if error else 200,
            )
        ) from None
    except (Unauthorized, TooManyRequests) as refused:
        # A wrong code keeps the challenge so the user only retypes the code.
        keep = challenge if challenge and not isinstance(refused, TooManyRequests) else None
        headers = {}
        if isinstance(refused, TooManyRequests):
            headers["Retry-After"] = str(refused.extra.get("retry_after_seconds", 60))
        page = _login_page(
            request,
            next_path=target,
            email=email,
            error=refused.detail,
            challenge=keep,
            status_code=refused.status_code,
        )
        page.headers.update(headers)
        raise PageResponse(page) from None
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, tokens, patient=False)
    return response


@router.post("/logout")
def logout(request: Request, db: SessionDep, principal: StaffAccountPage) -> Response:
    """Sign out of this browser; the session's tokens stop working at once."""
    auth_service.end_session(db, principal.session_id, principal.actor)
    response = redirect(request, "/signed-out")
    end_session(request, response, patient=False)
    return response


@router.get("/signed-out", dependencies=[Public])
def signed_out(request: Request) -> Response:
    """Confirms the sign-out, with the form to sign in again."""
    return _login_page(request, next_path="", notice=NOTICES["signed-out"])


@router.get("/api/auth/web-refresh", dependencies=[Public])
@writes  # rotates the refresh token
def refresh_session(
    request: Request, db: SessionDep, signer: SignerDep, next: str = "/"
) -> Response:
    """The refresh hop of the pages (under the refresh cookie's path): new tokens, then back."""
    target = safe_next(next)
    login = f"{STAFF_LOGIN}?next={quote(target, safe='/')}" if target != "/" else STAFF_LOGIN
    return refresh_hop(
        request,
        lambda token: auth_service.refresh(db, signer, token, subject_type=SubjectType.STAFF),
        patient=False,
        target=target,
        login=login,
    )


# ---- Welcome (a new staff member's invitation) ------------------------------------------------


def _invited_user(db: SessionDep, signer: SignerDep, token: str) -> User | None:
    """The staff member an invitation link is for, if it can still be used (for the greeting;
    `accept_staff_invite` decides)."""
    try:
        claims = signer.decode(token, TokenType.INVITE)
    except Unauthorized:
        return None
    user = clinic_repository.get_user(db, claims.subject)
    if user is None or user.token_version != claims.version or user.disabled_at is not None:
        return None
    return user


@router.get("/welcome/{token}", dependencies=[Public])
def welcome_form(request: Request, token: str, db: SessionDep, signer: SignerDep) -> Response:
    """Where a new staff member chooses their password."""
    user = _invited_user(db, signer, token)
    return render(
        request,
        "auth/welcome.html",
        {"invited": user, "error": None},
        status_code=200 if user else 410,
    )


@router.post("/welcome/{token}", dependencies=[Public, FormCsrf])
def welcome(
    *,
    request: Request,
    token: str,
    db: SessionDep,
    signer: SignerDep,
    password: Password = "",
    confirm: Password = "",
) -> Response:
    """Set the password of a new staff member, then send them to sign in."""
    user = _invited_user(db, signer, token)

    def again(error: str, status_code: int = 422) -> PageResponse:
        page = render(
            request,
            "auth/welcome.html",
            {"invited": user, "error": error},
            status_code=status_code if user else 410,
        )
        return PageResponse(page)

    if user is None:
        raise again("This invitation is no longer valid.")
    if password != confirm:
        raise again("The two passwords are not the same.")
    try:
        clinic_service.accept_staff_invite(db, signer, token, password)
    except OrthoLensError as refused:
        raise again(refused.detail, refused.status_code) from None
    return RedirectResponse(f"{STAFF_LOGIN}?notice=password-set", status_code=303)
