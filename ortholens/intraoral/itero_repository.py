"""All SQL of a clinic's iTero connection and of the iTero files it already holds."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ortholens.models import PendingScan, ScannerIntegration


def integration_of(
    session: Session, clinic_id: uuid.UUID, scanner_type: str
) -> ScannerIntegration | None:
    """The clinic's connection to one scanner vendor (at most one per vendor)."""
    return session.scalars(
        select(ScannerIntegration).where(
            ScannerIntegration.clinic_id == clinic_id,
            ScannerIntegration.scanner_type == scanner_type,
        )
    ).first()


def get_integration(session: Session, integration_id: uuid.UUID) -> ScannerIntegration | None:
    return session.get(ScannerIntegration, integration_id)


def pending_external_refs(session: Session, clinic_id: uuid.UUID, source: str) -> set[str]:
    """The scanner's file ids of the clinic's pending-queue rows from `source`, in any state."""
    refs = session.scalars(
        select(PendingScan.external_ref).where(
            PendingScan.clinic_id == clinic_id,
            PendingScan.source == source,
            PendingScan.external_ref.is_not(None),
        )
    )
    return {ref for ref in refs if ref is not None}
