from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from ortholens.http.email import EmailAddress
from ortholens.http.schemas import ApiModel, OneLineText
from ortholens.models import Role


class StaffCreate(ApiModel):
    email: EmailAddress
    full_name: OneLineText = Field(min_length=1, max_length=200)
    role: Role
    clinic_id: uuid.UUID | None = Field(None, description="Super admins only: which clinic.")


class StaffUpdate(ApiModel):
    role: Role | None = None
    full_name: OneLineText | None = Field(None, min_length=1, max_length=200)


class StaffMember(ApiModel):
    id: uuid.UUID
    clinic_id: uuid.UUID | None
    email: str
    full_name: str
    role: Role
    disabled_at: datetime | None
    mfa_enabled_at: datetime | None
    created_at: datetime


class StaffCreated(ApiModel):
    user: StaffMember
    invite_url: str = Field(description="Where the new staff member sets their password (7 days).")


class MfaRequirement(ApiModel):
    required: bool


class InviteAcceptance(ApiModel):
    token: str = Field(max_length=2000)
    password: str = Field(max_length=256)
