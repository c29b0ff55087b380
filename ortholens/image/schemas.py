from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from ortholens.http.schemas import ApiModel
from ortholens.models import FileType, ImageSource, ImageStatus


class ImageRead(ApiModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    scan_session_id: uuid.UUID | None
    file_type: FileType
    category: str | None
    view_code: str | None
    view_confidence: float | None = Field(
        description="Classifier confidence; null when a person set the view."
    )
    source: ImageSource
    status: ImageStatus
    failure_reason: str | None
    width: int | None
    height: int | None
    mime_type: str | None
    original_size: int | None
    original_sha256: str | None
    captured_at: datetime | None
    created_at: datetime
    quality_score: float | None
    quality: dict[str, Any] | None = Field(
        description="Scores 0-100, reasons and retake suggestion."
    )
    tags: list[Any]
    deleted_at: datetime | None
    deletion_requested_at: datetime | None
    urls: dict[str, str] = Field(
        default_factory=dict,
        description="Short-lived signed links per variant (empty when your role may not load the bytes).",
    )


class ImagePage(ApiModel):
    items: list[ImageRead]
    next_cursor: str | None
