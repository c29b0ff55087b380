from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from ortholens.http.schemas import ApiModel
from ortholens.ingest.formats import photo_content_types
from ortholens.models import ImageStatus, ScanSessionStatus


class ScanSessionRead(ApiModel):
    id: uuid.UUID
    status: ScanSessionStatus
    image_count: int
    expected_views: list[str]
    created_at: datetime
    submitted_at: datetime | None = Field(
        None, description="When the patient sent the check-in; until then it is not reviewed."
    )


class PhotoVerdictRead(ApiModel):
    id: uuid.UUID
    view_code: str | None
    state: str = Field(description="processing, good, retake or failed.")
    quality_score: float | None
    reasons: list[str] = Field(description="Quality reasons (blurred, too dark, ...).")
    advice: str | None = Field(None, description="What to do, in the patient's words.")


class CheckinRead(ScanSessionRead):
    photos: list[PhotoVerdictRead]


class UploadUrlRequest(ApiModel):
    session_id: uuid.UUID | None = Field(None, description="Required on the patient routes.")
    image_type: str | None = Field(
        None, max_length=10, description="FRONTAL, RIGHT, LEFT, UPPER, LOWER or an ADA-1100 code."
    )
    content_type: str = Field(
        "image/jpeg",
        max_length=100,
        description="The photo's media type (parameters and case are ignored).",
        json_schema_extra={"enum": list(sorted(photo_content_types()))},
    )


class UploadUrlResponse(ApiModel):
    url: str
    key: str
    method: str = Field(description="PUT the bytes as the body, or POST a form (S3).")
    headers: dict[str, str]
    fields: dict[str, str] = Field(description="Form fields to send before the file (POST only).")
    expires_at: datetime
    max_size: int


class ConfirmRequest(ApiModel):
    session_id: uuid.UUID | None = None
    image_type: str | None = Field(None, max_length=10)
    key: str = Field(max_length=512)


class UploadedImage(ApiModel):
    id: uuid.UUID
    status: ImageStatus
    view_code: str | None
    scan_session_id: uuid.UUID | None
    duplicate_of: uuid.UUID | None = Field(
        None, description="A photo of this patient with the same bytes."
    )
    already_confirmed: bool = False


class IngestedPhoto(ApiModel):
    name: str = Field(description="The file's name as sent (for your reference only).")
    image_id: uuid.UUID
    duplicate_of: uuid.UUID | None = Field(
        None, description="An earlier photo with the same bytes."
    )
