"""Dashboard queries: counts per clinic and the latest scan of every active patient."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from ortholens.models import Patient, PatientStatus, ScanSession, ScanSessionStatus, TagSet


def _in_clinic(
    column: InstrumentedAttribute[uuid.UUID], clinic_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """A clinic filter; no filter at all for a super admin looking across clinics."""
    return true() if clinic_id is None else column == clinic_id


def pending_sessions(session: Session, clinic_id: uuid.UUID | None) -> int:
    query = (
        select(func.count())
        .select_from(ScanSession)
        .where(ScanSession.status == ScanSessionStatus.PENDING, ScanSession.image_count > 0)
    )
    return int(session.scalar(query.where(_in_clinic(ScanSession.clinic_id, clinic_id))) or 0)


def active_patients_with_last_scan(
    session: Session, clinic_id: uuid.UUID | None
) -> list[tuple[Patient, datetime | None]]:
    """Every ACTIVE patient with the time of their latest scan session (None if never)."""
    last = (
        select(ScanSession.patient_id, func.max(ScanSession.created_at).label("last_at"))
        .group_by(ScanSession.patient_id)
        .subquery()
    )
    query = (
        select(Patient, last.c.last_at)
        .outerjoin(last, last.c.patient_id == Patient.id)
        .where(Patient.status == PatientStatus.ACTIVE)
        .order_by(Patient.last_name, Patient.first_name, Patient.id)
    )
    rows = session.execute(query.where(_in_clinic(Patient.clinic_id, clinic_id)))
    return [(row[0], row[1]) for row in rows]


def sessions_since(
    session: Session, clinic_id: uuid.UUID | None, since: datetime
) -> tuple[int, int]:
    """(all sessions with photos, those with a tag set) created since `since`."""
    base = (
        select(func.count())
        .select_from(ScanSession)
        .where(ScanSession.created_at >= since, ScanSession.image_count > 0)
    )
    base = base.where(_in_clinic(ScanSession.clinic_id, clinic_id))
    total = int(session.scalar(base) or 0)
    tagged = int(session.scalar(base.join(TagSet, TagSet.scan_session_id == ScanSession.id)) or 0)
    return total, tagged


def recent_sessions(
    session: Session, clinic_id: uuid.UUID | None, limit: int
) -> list[tuple[ScanSession, Patient]]:
    query = (
        select(ScanSession, Patient)
        .join(Patient, Patient.id == ScanSession.patient_id)
        .where(ScanSession.image_count > 0)
        .order_by(ScanSession.created_at.desc())
        .limit(limit)
    )
    return [
        (r[0], r[1])
        for r in session.execute(query.where(_in_clinic(ScanSession.clinic_id, clinic_id)))
    ]


def recent_tag_sets(
    session: Session, clinic_id: uuid.UUID | None, limit: int
) -> list[tuple[TagSet, ScanSession]]:
    query = (
        select(TagSet, ScanSession)
        .join(ScanSession, ScanSession.id == TagSet.scan_session_id)
        .order_by(TagSet.created_at.desc())
        .limit(limit)
    )
    rows = session.execute(query.where(_in_clinic(TagSet.clinic_id, clinic_id)))
    return [(row[0], row[1]) for row in rows]
