"""All SQL of the patient portal's sign-in: invitations by token hash, patients by e-mail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from ortholens.models import Patient, PatientInvite


def find_invite(session: Session, token_hash: str) -> PatientInvite | None:
    return session.scalar(select(PatientInvite).where(PatientInvite.token_hash == token_hash))


def mark_invite_used(session: Session, invite_id: uuid.UUID, now: datetime) -> bool:
    """Use an invitation once; False when it was used (or voided) in the meantime.

    A conditional UPDATE: of two concurrent registrations with one token, the second waits for
    the first's row lock and then matches no row.
    """
    result = session.execute(
        update(PatientInvite)
        .where(
            PatientInvite.id == invite_id,
            PatientInvite.used_at.is_(None),
            PatientInvite.voided_at.is_(None),
        )
        .values(used_at=now)
    )
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)


def find_patient_by_email(session: Session, email: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.portal_email == email.strip().lower()))


def get_invite(session: Session, invite_id: uuid.UUID) -> PatientInvite | None:
    return session.get(PatientInvite, invite_id)


def get_patient(session: Session, patient_id: uuid.UUID) -> Patient | None:
    return session.get(Patient, patient_id)
