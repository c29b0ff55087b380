from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from ortholens.http.schemas import ApiModel
from ortholens.kit.jobs import JobStatus


class JobRead(ApiModel):
    id: uuid.UUID
    name: str = Field(description="What the job does, as `domain.event`.")
    status: JobStatus
    progress: float = Field(description="Fraction done, 0 to 1.")
    message: str | None = Field(description="The latest progress note.")
    error: str | None = Field(description="Why the last attempt failed, if it did.")
    attempts: int
    max_attempts: int
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
