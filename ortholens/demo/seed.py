"""Seed (or refresh) the demo clinic. Fresh random passwords are set on every run and returned for
printing, so a demo never has a well-known password."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ortholens.auth import repository as auth_repository
from ortholens.clinic import repository as clinic_repository
from ortholens.demo.monitoring import seed_monitoring
from ortholens.kit.passwords import hash_password
from ortholens.kit.storage import ObjectStore
from ortholens.models import Clinic, Patient, PatientStatus, Role, User
from ortholens.patient import repository as patient_repository

DEMO_CLINIC_NAME = "Demo Orthodontics"
DEMO_EMAIL_DOMAIN = (
    "demo.ortholens.example"  # .example is reserved (RFC 2606): never a real mailbox
)

STAFF: list[tuple[Role, str]] = [
    (Role.SUPER_ADMIN, "Sam Super"),
    (Role.CLINIC_ADMIN, "Alex Admin"),
    (Role.DOCTOR, "Dr. Dana Ortho"),
    (Role.CLINICAL_STAFF, "Casey Clinical"),
    (Role.FRONT_DESK, "Frankie Desk"),
    (Role.BILLING, "Blair Billing"),
    (Role.READ_ONLY, "Riley Reader"),
]

# (first, last, years old, status, scan frequency days): fictional people.
PATIENTS: list[tuple[str, str, int, PatientStatus, int]] = [
    ("Mia", "Fictus", 13, PatientStatus.ACTIVE, 14),
    ("Noah", "Exemplar", 15, PatientStatus.ACTIVE, 7),
    ("Ava", "Sample", 27, PatientStatus.ACTIVE, 14),
    ("Liam", "Placebo", 34, PatientStatus.PAUSED, 21),
    ("Zoe", "Demo", 16, PatientStatus.COMPLETED, 14),
]


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    name: str
    email: str
    password: str


def seed_demo(session: Session, store: ObjectStore | None = None) -> list[DemoLogin]:
    """Create the demo clinic if missing, reset its staff passwords and return the sign-ins.

    With a `store`, new demo patients also get check-ins, messages and a 3D scan set.
    """
    clinic = clinic_repository.clinic_by_name(session, DEMO_CLINIC_NAME)
    if clinic is None:
        clinic = Clinic(name=DEMO_CLINIC_NAME, settings={"scan_frequency_days": 14})
        session.add(clinic)
        session.flush()
    logins: list[DemoLogin] = []
    doctor: User | None = None
    for role, name in STAFF:
        email = f"{role.value.replace('_', '-')}@{DEMO_EMAIL_DOMAIN}"
        password = secrets.token_urlsafe(12)
        user = auth_repository.find_user_by_email(session, email)
        if user is None:
            user = User(
                email=email,
                full_name=name,
                role=role,
                clinic_id=clinic.id,
                password_hash=hash_password(password),
            )
            session.add(user)
        else:
            user.password_hash = hash_password(password)
            user.token_version += 1  # old demo sessions end with the old password
            user.disabled_at = None
        session.flush()
        if role is Role.DOCTOR:
            doctor = user
        logins.append(DemoLogin(role=role, name=name, email=email, password=password))
    if not patient_repository.clinic_has_patients(session, clinic.id):
        today = date.today()
        created = []
        for first, last, age, status, frequency in PATIENTS:
            created.append(
                Patient(
                    clinic_id=clinic.id,
                    doctor_id=doctor.id if doctor else None,
                    first_name=first,
                    last_name=last,
                    date_of_birth=today - timedelta(days=365 * age + 40),
                    status=status,
                    scan_frequency_days=frequency,
                )
            )
        session.add_all(created)
        session.flush()
        if store is not None:
            seed_monitoring(session, store, created, doctor)
    return logins
