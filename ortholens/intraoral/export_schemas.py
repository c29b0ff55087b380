"""Wire shapes of the scan export (seed 000 "3D Mesh Export"), camelCase like every API schema."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from ortholens.http.schemas import ApiModel
from ortholens.kit.jobs import JobStatus


class ScanExportCreate(ApiModel):
    image_ids: list[uuid.UUID] = Field(
        description="The scans to export (1 to 10, of one patient); each becomes one file."
    )
    format: Literal["STL", "OBJ", "PLY", "3MF"] = Field("STL", description="The file format.")
    target_faces: int | None = Field(
        None, description="Simplify each scan to about this many triangles; omit to keep all."
    )
    up_axis: Literal["Z", "Y"] = Field(
        "Z", description="Which axis points up in the files: Z (the scanner's) or Y."
    )
    units: Literal["mm", "inch"] = Field("mm", description="The units of the coordinates.")
    zip: bool = Field(False, description="One ZIP even for a single scan (always for several).")


class ScanExportQueued(ApiModel):
    job_id: uuid.UUID = Field(description="Follow it at GET /api/imaging/3d/exports/{jobId}.")


class ScanExportFile(ApiModel):
    name: str = Field(description="File name (inside the ZIP when zipped).")
    faces: int
    vertices: int
    size: int = Field(description="Bytes, uncompressed.")


class ScanExportRead(ApiModel):
    job_id: uuid.UUID
    status: JobStatus
    progress: float = Field(description="Fraction done, 0 to 1.")
    message: str | None = Field(description="The latest progress note.")
    error: str | None = Field(description="Why the export failed, if it did.")
    filename: str | None = Field(description="The download's file name, once done.")
    size: int | None = Field(description="The download's size in bytes, once done.")
    files: list[ScanExportFile] = Field(description="What the download holds, once done.")
    url: str | None = Field(
        description="A short-lived signed link to the download, only once the export succeeded."
    )
