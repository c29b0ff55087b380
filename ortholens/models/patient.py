from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from ortholens.kit.db import Base, IdMixin, TimestampMixin
from ortholens.models.enums import PatientStatus, str_enum

DEFAULT_SCAN_FREQUENCY_DAYS = 14


class Patient(IdMixin, TimestampMixin, Base):
    """A person under care, with their optional patient-portal sign-in."""

    __tablename__ = "patients"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="RESTRICT"), index=True
    )
    doctor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None]
    status: Mapped[PatientStatus] = mapped_column(
        str_enum(PatientStatus), default=PatientStatus.ACTIVE
    )
    scan_frequency_days: Mapped[int] = mapped_column(default=DEFAULT_SCAN_FREQUENCY_DAYS)
    portal_email: Mapped[str | None] = mapped_column(String(320), unique=True)
    portal_password_hash: Mapped[str | None] = mapped_column(String(200))
    onboarded_at: Mapped[datetime | None]
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_email: Mapped[str | None] = mapped_column(String(320))
    # The periodic reminder sends at most one "your scan is due" push a day.
    last_scan_reminder_at: Mapped[datetime | None]

    @property
    def has_portal_account(self) -> bool:
        """True once the patient registered from an invite (`onboarded_at` says when)."""
        return self.portal_password_hash is not None


# The patient list's order (case-insensitive last name, first name, then id) within a clinic. An
# expression index is declared after the class: it names the mapped columns.
Index(
    "ix_patients_clinic_name",
    Patient.clinic_id,
    func.lower(Patient.last_name),
    func.lower(Patient.first_name),
    Patient.id,
)
