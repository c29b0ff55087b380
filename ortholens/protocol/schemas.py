from __future__ import annotations

import uuid

from pydantic import Field

from ortholens.http.schemas import ApiModel, OneLineText
from ortholens.protocol.builtin import VIEW_LABELS


class SlotIn(ApiModel):
    view_code: str = Field(
        max_length=10,
        description="ADA-1100 view code, e.g. IV07.",
        json_schema_extra={"enum": list(sorted(VIEW_LABELS))},
    )
    label: OneLineText = Field(
        "", max_length=120, description="Shown to the photographer; default the view name."
    )
    required: bool = True


class ProtocolCreate(ApiModel):
    name: OneLineText = Field(min_length=1, max_length=120)
    slots: list[SlotIn] = Field(min_length=1, max_length=20)
    clinic_id: uuid.UUID | None = Field(None, description="Super admins only.")


class SlotRead(ApiModel):
    view_code: str
    label: str
    required: bool


class ProtocolRead(ApiModel):
    key: str = Field(description="`builtin:<name>` or the protocol's id.")
    name: str
    builtin: bool
    slots: list[SlotRead]


class CompletenessRead(ApiModel):
    protocol_key: str
    complete: bool
    summary: str = Field(description='e.g. "4 of 5, missing: mandibular occlusal"')
    present: list[str]
    missing: list[str]
    missing_optional: list[str]
