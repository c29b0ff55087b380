"""What the scan record's endpoints take and answer (seed 001)."""

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
    duplicate_of: uuid.UUID | None = Field(
        None, description="An earlier scan of this patient with the same bytes (SHA-256)."
    )
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
    scanner: dict[str, Any] = Field(
        description="What the scanner's own files said; `extra.export_fields` holds every value "
        "of the export's XML files by their path."
    )
    web_mesh: dict[str, Any] | None = None
    colour: str | None = Field(
        None, description="Where the file's colour is: vertex, face or texture; null: none."
    )
    file_notes: list[str] = Field(
        default_factory=list,
        description="What was accepted in the file but is worth knowing (padding ignored, "
        "objects merged).",
    )
    renders: list[RenderRead] = Field(
        default_factory=list, description="The images that came with the scanner's export."
    )
    duplicate_of: uuid.UUID | None = Field(
        None, description="An earlier scan of this patient with the same bytes (SHA-256)."
    )


class RenderRead(ApiModel):
    index: int = Field(description="Its number in GET /api/imaging/3d/{id}/renders/{index}.")
    name: str = Field(description="Its path in the scanner's export.")
    media_type: str
    size: int


class ImportResult(ApiModel):
    scan_set_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    matched_by: str | None = Field(description="given, scanner metadata, or null (pending).")
    scans: list[ScanRead]
    pending: list[PendingScanRead]
    job_id: uuid.UUID | None = Field(
        None, description="Set when the file is imported in the background."
    )
    duplicate_of: uuid.UUID | None = Field(
        None, description="An earlier scan of this patient with the same bytes as one of these."
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
ScanMetadata.model_rebuild()
