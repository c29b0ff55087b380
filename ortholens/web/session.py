"""The cookies of a signed-in browser: the session cookies of `ortholens.auth.cookies`, plus a
non-secret hint that a session may still be alive.

The access cookie lives as long as the access token (1 hour) and the refresh cookie only travels
to the refresh endpoints, so a page cannot tell "signed out" from "access token expired" by itself.
The hint (`ol_session` / `patient_session`, value "1", lifetime of the refresh token) tells it:
with the hint and no access cookie, a page GET goes through the refresh hop instead of the sign-in
form. The hint grants nothing; a forged one only costs an extra redirect.
"""

from __future__ import annotations

from fastapi import Request, Response

from ortholens.auth.cookies import clear_session_cookies, set_session_cookies
from ortholens.auth.deps import ACCESS_COOKIE, PATIENT_ACCESS_COOKIE
from ortholens.auth.service import IssuedTokens
from ortholens.kit.db import utcnow

STAFF_HINT = "ol_session"
PATIENT_HINT = "patient_session"


def start_session(response: Response, tokens: IssuedTokens, *, patient: bool) -> None:
    """Set the session cookies and the hint on `response` (sign-in, registration, refresh)."""
    set_session_cookies(response, tokens, patient=patient)
    response.set_cookie(
        PATIENT_HINT if patient else STAFF_HINT,
        "1",
        max_age=max(0, int((tokens.refresh_expires_at - utcnow()).total_seconds())),
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
    )


def end_session(response: Response, *, patient: bool) -> None:
    """Remove the session cookies and the hint (sign-out, or a refresh that failed)."""
    clear_session_cookies(response, patient=patient)
    response.delete_cookie(
        PATIENT_HINT if patient else STAFF_HINT, path="/", secure=True, httponly=True
    )


def may_resume(request: Request, *, patient: bool) -> bool:
    """True when the access cookie is gone but the browser had a session: worth a refresh."""
    access = PATIENT_ACCESS_COOKIE if patient else ACCESS_COOKIE
    hint = PATIENT_HINT if patient else STAFF_HINT
    return access not in request.cookies and hint in request.cookies
