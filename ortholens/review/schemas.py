from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from ortholens.http.schemas import ApiModel, Text
from ortholens.image.schemas import ImageRead
from ortholens.models import ScanSessionStatus
from ortholens.review.vocabulary import DETAIL_TAGS


class ScanSessionItem(ApiModel):
    """A row of the review queue."""

    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    status: ScanSessionStatus
    image_count: int
    expected_views: list[str]
    created_at: datetime
    reviewed_at: datetime | None
    reviewed_by_id: uuid.UUID | None


class ScanSessionPage(ApiModel):
    items: list[ScanSessionItem]
    next_cursor: str | None


class TagSetRead(ApiModel):
    id: uuid.UUID
    scan_session_id: uuid.UUID
    overall_tracking: int
    oral_hygiene: int
    detail_tags: list[str]
    notes: str | None
    ai_suggested: bool
    ai_overridden: bool
    ai_suggestion_id: uuid.UUID | None
    reviewed_by_id: uuid.UUID | None
    created_at: datetime


class AiSuggestionRead(ApiModel):
    id: uuid.UUID
    scan_session_id: uuid.UUID
    provider: str
    model: str | None
    overall_tracking: int | None
    oral_hygiene: int | None
    detail_tags: list[str]
    confidence: float | None
    rationale: str | None
    cannot_judge: bool
    cannot_judge_reason: str | None
    dropped_tags: list[str]
    created_at: datetime


class ScanSessionDetail(ScanSessionItem):
    images: list[ImageRead]
    tag_set: TagSetRead | None
    ai_suggestion: AiSuggestionRead | None = Field(description="The latest suggestion, if any.")
    previous_session_id: uuid.UUID | None = Field(
        description="The patient's check-in before this one, to compare against."
    )


class StatusChange(ApiModel):
    status: ScanSessionStatus


class TagSetCreate(ApiModel):
    overall_tracking: int = Field(
        ge=1, le=3, description="1 on track, 2 minor issue, 3 needs attention."
    )
    oral_hygiene: int = Field(ge=1, le=3, description="1 good, 2 fair, 3 poor.")
    detail_tags: list[str] = Field(
        default_factory=list,
        max_length=20,
        json_schema_extra={"items": {"type": "string", "enum": list(DETAIL_TAGS)}},
    )
    notes: Text | None = Field(None, max_length=2000)
    ai_suggested: bool = False
    ai_overridden: bool = False
