"""Wire shapes of the scan export (seed 000 "3D Mesh Export"), camelCase like every API schema."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from ortholens.export.schemas import GeneratedFileRead
from ortholens.http.schemas import ApiModel
from ortholens.processing.meshes.decimate import MIN_TARGET_FACES


class ScanExportCreate(ApiModel):
    image_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=10,
        description="The scans to export (1 to 10, of one patient); each becomes one file.",
    )
    format: Literal["STL", "OBJ", "PLY", "3MF"] = Field("STL", description="The file format.")
    target_faces: int | None = Field(
        None,
        ge=MIN_TARGET_FACES,
        description="Simplify each scan to about this many triangles; omit to keep all.",
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


class ScanExportRead(GeneratedFileRead):
    files: list[ScanExportFile] = Field(description="What the download holds, once done.")
