from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator
from pydantic.alias_generators import to_camel, to_snake

from ortholens.http.email import EmailAddress
from ortholens.http.schemas import NON_BLANK_ONE_LINE, ApiModel
from ortholens.models import PatientStatus
from ortholens.models.patient import DEFAULT_SCAN_FREQUENCY_DAYS

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NON_BLANK_ONE_LINE
]
GuardianName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NON_BLANK_ONE_LINE
]
# A patient is archived by its own action (which records why); the document lists only the
# statuses create and update take, while the service answers ARCHIVED with that advice.
SettableStatus = Annotated[
    PatientStatus,
    WithJsonSchema(
        {
            "type": "string",
            "enum": [s.value for s in PatientStatus if s is not PatientStatus.ARCHIVED],
            "description": "Not ARCHIVED: use the archive action for that.",
        }
    ),
]
ScanFrequency = Annotated[int, Field(ge=1, le=365, description="Days between expected scans.")]


class PatientCreate(ApiModel):
    first_name: Name
    last_name: Name
    date_of_birth: date | None = None
    doctor_id: uuid.UUID | None = Field(None, description="A doctor of the patient's clinic.")
    status: SettableStatus = PatientStatus.ACTIVE
    scan_frequency_days: ScanFrequency = DEFAULT_SCAN_FREQUENCY_DAYS
    guardian_name: GuardianName | None = None
    guardian_email: EmailAddress | None = None
    clinic_id: uuid.UUID | None = Field(
        None, description="Super admins only (required for them); ignored for everyone else."
    )


# Fields that may be cleared with an explicit null; the others only take values.
NULLABLE_UPDATE_FIELDS = frozenset(
    {"date_of_birth", "doctor_id", "guardian_name", "guardian_email"}
)


def _null_only_where_clearable(schema: dict[str, Any]) -> None:
    # The required fields default to None only to tell "not sent"; the document says they take
    # no null, as `_no_null_for_required` enforces.
    for name, field_schema in schema.get("properties", {}).items():
        if to_snake(name) in NULLABLE_UPDATE_FIELDS or "anyOf" not in field_schema:
            continue
        kept = [s for s in field_schema.pop("anyOf") if s.get("type") != "null"]
        field_schema.pop("default", None)
        field_schema.update(kept[0] if len(kept) == 1 else {"anyOf": kept})


class PatientUpdate(ApiModel):
    """Only the fields sent are changed; send null to clear an optional one."""

    model_config = ConfigDict(json_schema_extra=_null_only_where_clearable)

    first_name: Name | None = None
    last_name: Name | None = None
    date_of_birth: date | None = None
    doctor_id: uuid.UUID | None = None
    status: SettableStatus | None = None
    scan_frequency_days: ScanFrequency | None = None
    guardian_name: GuardianName | None = None
    guardian_email: EmailAddress | None = None

    def changes(self) -> dict[str, object]:
        """The fields the client sent, by attribute name."""
        return {name: getattr(self, name) for name in self.model_fields_set}

    @model_validator(mode="after")
    def _no_null_for_required(self) -> PatientUpdate:
        for name in sorted(self.model_fields_set - NULLABLE_UPDATE_FIELDS):
            if getattr(self, name) is None:
                raise ValueError(f"{to_camel(name)} cannot be cleared")
        return self


class PatientRead(ApiModel):
    id: uuid.UUID
    clinic_id: uuid.UUID
    doctor_id: uuid.UUID | None
    first_name: str
    last_name: str
    date_of_birth: date | None
    status: PatientStatus
    scan_frequency_days: int
    guardian_name: str | None
    guardian_email: str | None
    portal_email: str | None = Field(description="Set once the patient has registered.")
    onboarded_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PatientPage(ApiModel):
    items: list[PatientRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class InviteCreate(ApiModel):
    email: EmailAddress | None = Field(
        None, description="Where the patient (or guardian) will sign in; pre-fills registration."
    )


class InviteRead(ApiModel):
    token: str = Field(description="64 hex characters; shown once, only its hash is kept.")
    invite_url: str
    expires_at: datetime
