from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from ortholens.http.schemas import NON_BLANK_ONE_LINE, ApiModel
from ortholens.models import ConsentGrantor, ConsentKind

ConsentStatus = Literal["active", "expired", "revoked"]


class ConsentCreate(ApiModel):
    kind: ConsentKind
    granted_by: ConsentGrantor
    guardian_name: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
            NON_BLANK_ONE_LINE,
        ]
        | None
    ) = Field(None, description="Who gave it, when granted by a guardian (required then).")
    granted_at: AwareDatetime | None = Field(None, description="Default: now. Not in the future.")
    expires_at: AwareDatetime | None = Field(None, description="After grantedAt; null: no expiry.")


class ConsentRead(ApiModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: ConsentKind
    granted_by: ConsentGrantor
    guardian_name: str | None
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    recorded_by_id: uuid.UUID | None
    created_at: datetime
    status: ConsentStatus = Field(description="Now: active, expired or revoked.")


class ConsentList(ApiModel):
    items: list[ConsentRead]
