"""All SQL of the scan record: patients a scanner names, scan sets, duplicates, bite partners,
pending scans."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ortholens.models import (
    FileType,
    Image,
    Patient,
    PatientStatus,
    PendingScan,
    PendingScanStatus,
)


def patients_named(
    db: Session, clinic_id: uuid.UUID, first: str, last: str, *, limit: int = 2
) -> list[Patient]:
    """Patients of the clinic (not archived) with this first and last name, case-insensitive."""
    return list(
        db.scalars(
            select(Patient)
            .where(
                Patient.clinic_id == clinic_id,
                Patient.status != PatientStatus.ARCHIVED,
                func.lower(Patient.first_name) == first,
                func.lower(Patient.last_name) == last,
            )
            .limit(limit)
        )
    )


def live_patient(db: Session, clinic_id: uuid.UUID, patient_id: uuid.UUID) -> Patient | None:
    """The patient with this id in the clinic, unless archived."""
    return db.scalar(
        select(Patient).where(
            Patient.id == patient_id,
            Patient.clinic_id == clinic_id,
            Patient.status != PatientStatus.ARCHIVED,
        )
    )


def scan_duplicate(
    db: Session, patient_id: uuid.UUID, sha256: str, *, outside_set: uuid.UUID | None = None
) -> Image | None:
    """The patient's oldest live scan whose original has these bytes (outside one scan set)."""
    query = select(Image).where(
        Image.patient_id == patient_id,
        Image.file_type == FileType.SCAN_3D,
        Image.original_sha256 == sha256,
        Image.deleted_at.is_(None),
    )
    if outside_set is not None:
        query = query.where(Image.scan_set_id.is_distinct_from(outside_set))
    return db.scalars(query.order_by(Image.created_at, Image.id).limit(1)).first()


def active_patients_of(db: Session, clinics: set[uuid.UUID]) -> list[Patient]:
    """The active patients of these clinics, by name (the pending queue's assign forms)."""
    if not clinics:
        return []
    return list(
        db.scalars(
            select(Patient)
            .where(Patient.clinic_id.in_(clinics), Patient.status == PatientStatus.ACTIVE)
            .order_by(Patient.last_name, Patient.first_name)
        )
    )


def latest_scan(
    db: Session, patient_id: uuid.UUID, category: str, exclude: set[uuid.UUID]
) -> Image | None:
    """The patient's newest live scan of `category` outside `exclude`."""
    return db.scalars(
        select(Image)
        .where(
            Image.patient_id == patient_id,
            Image.file_type == FileType.SCAN_3D,
            Image.category == category,
            Image.deleted_at.is_(None),
            Image.id.not_in(exclude),
        )
        .order_by(Image.created_at.desc())
        .limit(1)
    ).first()


def live_scan_set(db: Session, scan_set_id: uuid.UUID) -> list[Image]:
    """The live arches of one scan set."""
    return list(
        db.scalars(
            select(Image).where(Image.scan_set_id == scan_set_id, Image.deleted_at.is_(None))
        )
    )


def patient_scans(db: Session, patient_id: uuid.UUID) -> list[Image]:
    """The patient's live scans, newest first, by category within a set."""
    return list(
        db.scalars(
            select(Image)
            .where(
                Image.patient_id == patient_id,
                Image.file_type == FileType.SCAN_3D,
                Image.deleted_at.is_(None),
            )
            .order_by(Image.created_at.desc(), Image.category)
        )
    )


def waiting_pending(db: Session, clinic_id: uuid.UUID | None) -> list[PendingScan]:
    """Pending scans still waiting (of one clinic, or of all for a super admin), oldest first."""
    query = (
        select(PendingScan)
        .where(PendingScan.status == PendingScanStatus.PENDING)
        .order_by(PendingScan.created_at, PendingScan.scan_set_id, PendingScan.id)
    )
    if clinic_id is not None:
        query = query.where(PendingScan.clinic_id == clinic_id)
    return list(db.scalars(query))


def waiting_in_set(db: Session, scan_set_id: uuid.UUID) -> list[PendingScan]:
    """The still pending rows of one scan set."""
    return list(
        db.scalars(
            select(PendingScan).where(
                PendingScan.scan_set_id == scan_set_id,
                PendingScan.status == PendingScanStatus.PENDING,
            )
        )
    )
