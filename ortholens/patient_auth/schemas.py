from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import AliasChoices, Field

from ortholens.auth.schemas import SessionTokens
from ortholens.http.email import EmailAddress
from ortholens.http.schemas import ApiModel
from ortholens.models import PatientStatus

InviteProblem = Literal["unknown", "expired", "used", "revoked"]


class InviteValidation(ApiModel):
    valid: bool
    patient_name: str | None = Field(
        None,
        description="The patient's first name only: a leaked link shows as little as possible.",
    )
    email: str | None = Field(None, description="The address the clinic gave with the invitation.")
    reason: InviteProblem | None = Field(
        None,
        description="Why the link cannot be used: unknown, expired, used, or revoked "
        "(a newer invitation replaced it, or the patient was archived).",
    )


class RegisterRequest(ApiModel):
    token: str = Field(max_length=128)
    email: EmailAddress
    password: str = Field(max_length=256)


class PatientLoginRequest(ApiModel):
    email: str = Field(max_length=320, description="Looked up, not validated.")
    password: str = Field(max_length=256)


class PatientProfile(ApiModel):
    """What a patient sees of their own record."""

    id: uuid.UUID
    clinic_id: uuid.UUID
    first_name: str
    last_name: str
    date_of_birth: date | None
    status: PatientStatus
    scan_frequency_days: int
    email: str | None = Field(validation_alias=AliasChoices("portal_email", "email"))
    onboarded_at: datetime | None


class PatientSession(SessionTokens):
    patient: PatientProfile
