"""The sign-in cookies the web pages use. Access and refresh cookies are httpOnly, Secure and
SameSite; the CSRF cookie is readable by our own scripts so they can echo it in a header."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from ortholens.auth.cookie_names import cookie_names
from ortholens.auth.deps import check_csrf
from ortholens.auth.service import IssuedTokens
from ortholens.auth.tokens import TokenSigner, TokenType
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Unauthorized

STAFF_REFRESH_PATH = "/api/auth"
PATIENT_REFRESH_PATH = "/api/patient-auth"


def refresh_token_from(
    request: Request, signer: TokenSigner, body_token: str | None, *, patient: bool
) -> str:
    """The refresh token an API client sent in the body, else the httpOnly cookie (401 if none).

    The cookie is an ambient credential, so a refresh made with it must echo the session's CSRF
    token like any other cookie-authenticated write (a cross-site form could otherwise rotate it).
    """
    if body_token:
        return body_token
    token = request.cookies.get(cookie_names(request).refresh_for(patient=patient))
    if not token:
        raise Unauthorized("Sign in to continue.")
    check_csrf(request, signer, signer.decode(token, TokenType.REFRESH).session_id)
    return token


def _max_age(expires_at: datetime) -> int:
    return max(0, int((expires_at - utcnow()).total_seconds()))


def set_session_cookies(
    request: Request, response: Response, tokens: IssuedTokens, *, patient: bool
) -> str:
    """Set access, refresh and CSRF cookies; returns the CSRF token for the page to embed."""
    names = cookie_names(request)
    access_name = names.access_for(patient=patient)
    refresh_name = names.refresh_for(patient=patient)
    refresh_path = PATIENT_REFRESH_PATH if patient else STAFF_REFRESH_PATH
    response.set_cookie(
        access_name,
        tokens.access_token,
        max_age=_max_age(tokens.access_expires_at),
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
    )
    response.set_cookie(
        refresh_name,
        tokens.refresh_token,
        max_age=_max_age(tokens.refresh_expires_at),
        httponly=True,
        secure=True,
        samesite="strict",
        path=refresh_path,
    )
    csrf = tokens.csrf_token
    response.set_cookie(
        names.csrf,
        csrf,
        max_age=_max_age(tokens.refresh_expires_at),
        secure=True,
        samesite="strict",
        path="/",
    )
    return csrf


def clear_session_cookies(request: Request, response: Response, *, patient: bool) -> None:
    names = cookie_names(request)
    refresh_path = PATIENT_REFRESH_PATH if patient else STAFF_REFRESH_PATH
    response.delete_cookie(names.access_for(patient=patient), path="/", secure=True, httponly=True)
    response.delete_cookie(
        names.refresh_for(patient=patient), path=refresh_path, secure=True, httponly=True
    )
    response.delete_cookie(names.csrf, path="/", secure=True)
