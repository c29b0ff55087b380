"""The names of the sign-in cookies, by deployment.

Served over https (`ORTHOLENS_PUBLIC_URL` starts with `https://`), the cookies carry the prefixes
browsers enforce: `__Host-` (Secure, path /, no Domain: a sibling subdomain or an http page cannot
set or overwrite it) and `__Secure-` for the refresh cookies, whose path is the refresh endpoint
(`__Host-` requires path /). Over plain http in development the names stay unprefixed, since a
browser refuses prefixed cookies that are not Secure-capable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request


@dataclass(frozen=True)
class CookieNames:
    access: str
    refresh: str
    patient_access: str
    patient_refresh: str
    csrf: str
    staff_hint: str
    patient_hint: str

    def access_for(self, *, patient: bool) -> str:
        return self.patient_access if patient else self.access

    def refresh_for(self, *, patient: bool) -> str:
        return self.patient_refresh if patient else self.refresh

    def hint_for(self, *, patient: bool) -> str:
        return self.patient_hint if patient else self.staff_hint


PLAIN = CookieNames(
    access="ol_access",
    refresh="ol_refresh",
    patient_access="patient_access",
    patient_refresh="patient_refresh",  # the name seed 004 gives it
    csrf="ol_csrf",
    staff_hint="ol_session",
    patient_hint="patient_session",
)
PREFIXED = CookieNames(
    access="__Host-ol_access",
    refresh="__Secure-ol_refresh",
    patient_access="__Host-patient_access",
    patient_refresh="__Secure-patient_refresh",
    csrf="__Host-ol_csrf",
    staff_hint="__Host-ol_session",
    patient_hint="__Host-patient_session",
)


class _PublicUrl(Protocol):
    @property
    def public_url(self) -> str: ...


class _HoldsSettings(Protocol):
    @property
    def settings(self) -> _PublicUrl: ...


def names_for(public_url: str) -> CookieNames:
    return PREFIXED if public_url.startswith("https://") else PLAIN


def cookie_names(request: Request) -> CookieNames:
    """The cookie names of the deployment serving `request`."""
    holder: _HoldsSettings = request.app.state.runtime
    return names_for(holder.settings.public_url)
