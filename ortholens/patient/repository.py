"""All SQL of patients and their portal invitations. Every query that takes `clinic_scope` limits
itself to that clinic; None (a super admin) means every clinic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from ortholens.models import Clinic, Patient, PatientInvite, PatientStatus, User

SortKey = tuple[str, str, uuid.UUID]


def get(session: Session, patient_id: uuid.UUID) -> Patient | None:
    """A patient by id in any clinic (callers check the scope, to audit a cross-clinic try)."""
    return session.get(Patient, patient_id)


def clinic_has_patients(session: Session, clinic_id: uuid.UUID) -> bool:
    found = session.scalar(select(Patient.id).where(Patient.clinic_id == clinic_id).limit(1))
    return found is not None


def get_clinic(session: Session, clinic_id: uuid.UUID) -> Clinic | None:
    return session.get(Clinic, clinic_id)


def get_user(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


@dataclass(frozen=True)
class PatientFilter:
    clinic_scope: uuid.UUID | None
    search: str | None = None
    status: PatientStatus | None = None
    doctor_id: uuid.UUID | None = None


# The list order: case-insensitive by name, then id, a total order so pages never skip or repeat.
SORT_LAST = func.lower(Patient.last_name)
SORT_FIRST = func.lower(Patient.first_name)


def _scoped(
    query: Select[tuple[Patient]], clinic_scope: uuid.UUID | None
) -> Select[tuple[Patient]]:
    return query if clinic_scope is None else query.where(Patient.clinic_id == clinic_scope)


def sort_key(
    session: Session, patient_id: uuid.UUID, clinic_scope: uuid.UUID | None
) -> SortKey | None:
    """The list position of a patient (the pagination cursor names a patient, never a name)."""
    last, first, pid = SORT_LAST, SORT_FIRST, Patient.id
    query = select(last, first, pid).where(Patient.id == patient_id)
    if clinic_scope is not None:
        query = query.where(Patient.clinic_id == clinic_scope)
    row = session.execute(query).first()
    return (row[0], row[1], row[2]) if row else None


def list_patients(
    session: Session, where: PatientFilter, *, after: SortKey | None, limit: int
) -> list[Patient]:
    """Patients matching `where`, ordered by last name, first name and id, after `after`."""
    return list(session.scalars(patients_query(where, after=after, limit=limit)))


def patients_query(
    where: PatientFilter, *, after: SortKey | None, limit: int
) -> Select[tuple[Patient]]:
    """The patient list's statement in (lower last name, lower first name, id) order:
    ix_patients_clinic_name for a clinic's list."""
    query = _scoped(select(Patient), where.clinic_scope)
    if where.search:
        term = where.search.strip()
        full_name = Patient.first_name + " " + Patient.last_name
        query = query.where(
            or_(
                Patient.first_name.icontains(term, autoescape=True),
                Patient.last_name.icontains(term, autoescape=True),
                full_name.icontains(term, autoescape=True),
            )
        )
    if where.status is not None:
        query = query.where(Patient.status == where.status)
    if where.doctor_id is not None:
        query = query.where(Patient.doctor_id == where.doctor_id)
    last, first, pid = SORT_LAST, SORT_FIRST, Patient.id
    if after is not None:
        a_last, a_first, a_id = after
        query = query.where(
            or_(
                last > a_last,
                and_(last == a_last, first > a_first),
                and_(last == a_last, first == a_first, pid > a_id),
            )
        )
    return query.order_by(last, first, pid).limit(limit)


def add(session: Session, patient: Patient) -> Patient:
    session.add(patient)
    session.flush()
    return patient


def add_invite(session: Session, invite: PatientInvite) -> PatientInvite:
    session.add(invite)
    session.flush()
    return invite


def void_open_invites(session: Session, patient_id: uuid.UUID, now: datetime) -> None:
    """Void every unused invite of a patient (a newer one replaces them, or the patient left)."""
    session.execute(
        update(PatientInvite)
        .where(
            PatientInvite.patient_id == patient_id,
            PatientInvite.used_at.is_(None),
            PatientInvite.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
