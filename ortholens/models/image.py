from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import FileType, ImageSource, ImageStatus, str_enum


class Image(IdMixin, TimestampMixin, Base):
    """One item of a patient's imaging record, of any kind (DOMAIN.md "Core records").

    A photo, an X-ray, a CBCT volume, a 3D scan or a simulation is a row here; what differs is the
    processor that reads the original and the variants it derives. The original object is kept byte
    for byte (`original_key`, `original_sha256`); `variants` maps a variant name (thumbnail,
    preview, web_mesh, ...) to its object key and can always be rebuilt.
    """

    __tablename__ = "images"
    __table_args__ = (
        Index("ix_images_patient_captured", "patient_id", "captured_at"),
        # The gallery: a patient's images newest first, id breaking ties (keyset pages, no sort).
        Index("ix_images_patient_created", "patient_id", "created_at", "id"),
        Index("ix_images_patient_sha256", "patient_id", "original_sha256"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    scan_session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("scan_sessions.id", ondelete="SET NULL"), index=True
    )
    file_type: Mapped[FileType] = mapped_column(str_enum(FileType), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    view_code: Mapped[str | None] = mapped_column(String(10), index=True)
    # Where the view came from: "user" when a person set it, else the classifier's confidence.
    view_confidence: Mapped[float | None]
    view_set_by_user: Mapped[bool] = mapped_column(default=False)
    source: Mapped[ImageSource] = mapped_column(str_enum(ImageSource))
    status: Mapped[ImageStatus] = mapped_column(str_enum(ImageStatus), default=ImageStatus.PENDING)
    failure_reason: Mapped[str | None] = mapped_column(Text)

    original_key: Mapped[str] = mapped_column(String(512), unique=True)
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    original_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    width: Mapped[int | None]
    height: Mapped[int | None]
    vertex_count: Mapped[int | None] = mapped_column(BigInteger)
    face_count: Mapped[int | None] = mapped_column(BigInteger)
    captured_at: Mapped[datetime | None]
    # Kept metadata only: capture settings, DICOM tags, mesh statistics. Never device identifiers.
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quality_score: Mapped[float | None]
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)

    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # A doctor's delete is a request a clinic admin approves (DOMAIN.md: "request only").
    deletion_requested_at: Mapped[datetime | None]
    deletion_requested_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    retention_class: Mapped[str | None] = mapped_column(String(40))

    # Intraoral 3D scans (seed 001). `category` holds SCAN_UPPER / SCAN_LOWER / SCAN_BITE.
    scanner_type: Mapped[str | None] = mapped_column(String(20))
    scan_format: Mapped[str | None] = mapped_column(String(10))
    scan_quality: Mapped[float | None]
    # Arches imported together share a set id; a bite points at the upper and lower it registers.
    scan_set_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    bite_upper_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL")
    )
    bite_lower_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL")
    )
    # The vendor's id of the file (an iTero scan file), so a second sync imports nothing twice.
    external_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    # For treatment simulation (seed 001 `treatmentId`); treatments arrive with a later issue.
    treatment_id: Mapped[uuid.UUID | None]
