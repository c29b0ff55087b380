from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from ortholens.http.schemas import ApiModel
from ortholens.models import Role


class LoginRequest(ApiModel):
    email: str = Field(max_length=320, description="Looked up, not validated: any stored address.")
    password: str = Field(max_length=256)
    totp: str | None = Field(None, max_length=12, description="The 6-digit code, when enrolled.")


class RefreshRequest(ApiModel):
    refresh_token: str | None = Field(
        None, description="For API clients; the web pages send the httpOnly cookie instead."
    )


class StaffRead(ApiModel):
    id: uuid.UUID
    clinic_id: uuid.UUID | None
    email: str
    full_name: str
    role: Role
    mfa_enabled: bool = False


class SessionTokens(ApiModel):
    access_token: str
    expires_at: datetime = Field(description="When the access token expires (1 hour).")
    refresh_token: str = Field(description="Single use; also set as an httpOnly cookie.")
    csrf_token: str = Field(description="Echo in X-CSRF-Token on writes made with cookies.")


class StaffLoginResponse(SessionTokens):
    user: StaffRead


class MeResponse(ApiModel):
    user: StaffRead
    permissions: list[str]
    mfa_enrollment_required: bool


class PasswordChange(ApiModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class MfaSetup(ApiModel):
    secret: str = Field(description="Base32 TOTP secret, to type into an authenticator app.")
    otpauth_uri: str


class MfaCode(ApiModel):
    code: str = Field(pattern=r"^ *[0-9]{3} ?[0-9]{3} *$", description="The 6-digit code.")
