"""The sign-in cookies the web pages use. Access and refresh cookies are httpOnly, Secure and
SameSite; the CSRF cookie is readable by our own scripts so they can echo it in a header."""

from __future__ import annotations

import secrets
from datetime import datetime

from fastapi import Request, Response

from ortholens.auth.deps import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    PATIENT_ACCESS_COOKIE,
    PATIENT_REFRESH_COOKIE,
    REFRESH_COOKIE,
)
from ortholens.auth.service import IssuedTokens
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Unauthorized

STAFF_REFRESH_PATH = "/api/auth"
PATIENT_REFRESH_PATH = "/api/patient-auth"


def refresh_token_from(request: Request, body_token: str | None, *, patient: bool) -> str:
    """The refresh token an API client sent in the body, else the httpOnly cookie (401 if none)."""
    token = body_token or request.cookies.get(PATIENT_REFRESH_COOKIE if patient else REFRESH_COOKIE)
    if not token:
        raise Unauthorized("Sign in to continue.")
    return token


def _max_age(expires_at: datetime) -> int:
    return max(0, int((expires_at - utcnow()).total_seconds()))


def set_session_cookies(response: Response, tokens: IssuedTokens, *, patient: bool) -> str:
    """Set access, refresh and CSRF cookies; returns the CSRF token for the page to embed."""
    access_name = PATIENT_ACCESS_COOKIE if patient else ACCESS_COOKIE
    refresh_name = PATIENT_REFRESH_COOKIE if patient else REFRESH_COOKIE
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
    csrf = secrets.token_urlsafe(32)
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=_max_age(tokens.refresh_expires_at),
        secure=True,
        samesite="strict",
        path="/",
    )
    return csrf


def clear_session_cookies(response: Response, *, patient: bool) -> None:
    if patient:
        response.delete_cookie(PATIENT_ACCESS_COOKIE, path="/", secure=True, httponly=True)
        response.delete_cookie(
            PATIENT_REFRESH_COOKIE, path=PATIENT_REFRESH_PATH, secure=True, httponly=True
        )
    else:
        response.delete_cookie(ACCESS_COOKIE, path="/", secure=True, httponly=True)
        response.delete_cookie(REFRESH_COOKIE, path=STAFF_REFRESH_PATH, secure=True, httponly=True)
    response.delete_cookie(CSRF_COOKIE, path="/", secure=True)
