from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ortholens.http.schemas import ApiModel
from ortholens.models import ActorType, AuditOutcome


class AuditEventRead(ApiModel):
    id: uuid.UUID
    seq: int
    at: datetime
    actor_type: ActorType
    actor_id: uuid.UUID | None
    action: str
    target_type: str | None
    target_id: uuid.UUID | None
    outcome: AuditOutcome
    ip: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditPage(ApiModel):
    items: list[AuditEventRead]
    next_cursor: int | None
