"""The cookies of a signed-in browser: the session cookies of `ortholens.auth.cookies`, plus a
non-secret hint that a session may still be alive.

The access cookie lives as long as the access token (1 hour) and the refresh cookie only travels
to the refresh endpoints, so a page cannot tell "signed out" from "access token expired" by itself.
The hint (`ol_session` / `patient_session`, `__Host-` prefixed on https, value "1", lifetime of
the refresh token) tells it:
with the hint and no access cookie, a page GET goes through the refresh hop instead of the sign-in
form. The hint grants nothing; a forged one only costs an extra redirect.
"""

from __future__ import annotations

from fastapi import Request, Response

from ortholens.auth.cookie_names import PLAIN, cookie_names
from ortholens.auth.cookies import clear_session_cookies, set_session_cookies
from ortholens.auth.service import IssuedTokens
from ortholens.kit.db import utcnow

STAFF_HINT = PLAIN.staff_hint
PATIENT_HINT = PLAIN.patient_hint


def start_session(
    request: Request, response: Response, tokens: IssuedTokens, *, patient: bool
) -> None:
    """Set the session cookies and the hint on `response` (sign-in, registration, refresh)."""
    set_session_cookies(request, response, tokens, patient=patient)
    response.set_cookie(
        cookie_names(request).hint_for(patient=patient),
        "1",
        max_age=max(0, int((tokens.refresh_expires_at - utcnow()).total_seconds())),
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
    )


def end_session(request: Request, response: Response, *, patient: bool) -> None:
    """Remove the session cookies and the hint (sign-out, or a refresh that failed)."""
    clear_session_cookies(request, response, patient=patient)
    response.delete_cookie(
        cookie_names(request).hint_for(patient=patient), path="/", secure=True, httponly=True
    )


def may_resume(request: Request, *, patient: bool) -> bool:
    """True when the access cookie is gone but the browser had a session: worth a refresh."""
    names = cookie_names(request)
    access, hint = names.access_for(patient=patient), names.hint_for(patient=patient)
    return access not in request.cookies and hint in request.cookies
