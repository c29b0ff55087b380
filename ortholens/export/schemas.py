"""Wire shapes shared by every generated file's status, camelCase like every API schema. A kind's
status schema extends `GeneratedFileRead` with its own fields (e.g. a mesh export's `files`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import Field

from ortholens.export.service import FileView
from ortholens.http.schemas import ApiModel
from ortholens.kit.jobs import JobStatus


class GeneratedFileRead(ApiModel):
    job_id: uuid.UUID
    status: JobStatus
    progress: float = Field(description="Fraction done, 0 to 1.")
    message: str | None = Field(description="The latest progress note.")
    error: str | None = Field(description="Why the job failed, if it did.")
    filename: str | None = Field(description="The download's file name, once done.")
    size: int | None = Field(description="The download's size in bytes, once done.")
    url: str | None = Field(
        description="A short-lived signed link to the download, only once the job succeeded."
    )
    expires_at: datetime | None = Field(
        None, description="When the file will be deleted (export again after that), once done."
    )

    @classmethod
    def from_view(cls, view: FileView, **extra: Any) -> Self:
        """The status of `view`'s job, with the kind's own fields in `extra`."""
        job, file = view.job, view.file
        return cls(
            job_id=job.id,
            status=job.status,
            progress=job.progress,
            message=job.message,
            error=job.error,
            filename=file.filename if file else None,
            size=file.size if file else None,
            url=view.url,
            expires_at=file.expires_at if file else None,
            **extra,
        )
