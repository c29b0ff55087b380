"""The `jobs` table: the durable truth about background work.

Huey carries messages; this row carries state. A message only says "look at job X"; whether X
still needs running, who holds it and until when (the lease), its progress and its last error are here, so a
worker killed mid-job loses nothing: its lease expires and another worker takes the job over.
It lives in kit (not models/) because the queue plumbing reads and writes it; models/ re-exports it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(IdMixin, TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
        # `ortholens jobs list`: newest first, of one status or of all.
        Index("ix_jobs_status_created", "status", "created_at", "id"),
        Index("ix_jobs_created", "created_at", "id"),
    )

    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[JobStatus] = mapped_column(
        Enum(
            JobStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        ),
        default=JobStatus.QUEUED,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    run_after: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
