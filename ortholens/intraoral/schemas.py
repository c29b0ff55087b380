from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from ortholens.http.schemas import ApiModel
from ortholens.models import ImageSource, ImageStatus, PendingScanStatus
from ortholens.processing.meshes.types import ArchType


class ScanRead(ApiModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    scan_set_id: uuid.UUID | None
    category: str | None = Field(description="SCAN_UPPER, SCAN_LOWER, SCAN_BITE; null: undetected.")
    arch_confidence: float | None
    arch_set_by_user: bool
    status: ImageStatus
    failure_reason: str | None
    source: ImageSource
    scanner_type: str | None
    scan_format: str | None
    scan_quality: float | None
    vertex_count: int | None
    face_count: int | None
    bite_upper_id: uuid.UUID | None
    bite_lower_id: uuid.UUID | None
    captured_at: datetime | None
    created_at: datetime
    urls: dict[str, str] = Field(
        default_factory=dict, description="Signed links: thumbnail, web_mesh (binary PLY, mm)."
    )


class ScanMetadata(ApiModel):
    id: uuid.UUID
    scan_format: str | None
    scanner_type: str | None
    scan_quality: float | None
    category: str | None
    mesh: dict[str, Any] = Field(
        description="Vertex/face counts, bounding box (mm), area, volume when closed, "
        "watertightness, holes, degenerate and duplicate faces, colour, units."
    )
    arch_detection: dict[str, Any]
    scanner: dict[str, Any] = Field(description="What the scanner's own files said.")
    web_mesh: dict[str, Any] | None = None


class ImportResult(ApiModel):
    scan_set_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    matched_by: str | None = Field(description="given, scanner metadata, or null (pending).")
    scans: list[ScanRead]
    pending: list[PendingScanRead]
    job_id: uuid.UUID | None = Field(
        None, description="Set when the file is imported in the background."
    )


class PendingScanRead(ApiModel):
    id: uuid.UUID
    scan_set_id: uuid.UUID
    status: PendingScanStatus
    source: str
    source_name: str
    scan_format: str
    scanner_type: str | None
    arch: str | None
    arch_confidence: float | None
    patient_name: str | None = Field(description="The name the scanner's files give.")
    patient_ref: str | None
    created_at: datetime


class AssignPending(ApiModel):
    patient_id: uuid.UUID


class ArchChange(ApiModel):
    arch: ArchType


ImportResult.model_rebuild()
