"""Plain factory functions for tests: `create_clinic`, `create_user`, `create_patient`, and
`sign_in` for a bearer header. Each commits its own transaction."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient

from ortholens.kit.db import transaction, utcnow
from ortholens.kit.passwords import hash_password
from ortholens.models import (
    Clinic,
    Consent,
    ConsentGrantor,
    ConsentKind,
    Patient,
    PatientStatus,
    Role,
    User,
)
from ortholens.runtime import Runtime

PASSWORD = "correct horse battery"
# Hashing with argon2 costs ~50 ms; tests create many users, so they share one hash.
_PASSWORD_HASH = hash_password(PASSWORD)


def create_clinic(runtime: Runtime, name: str | None = None, **settings: object) -> Clinic:
    with transaction(runtime.session_factory) as session:
        clinic = Clinic(name=name or f"Clinic {uuid.uuid4().hex[:6]}", settings=dict(settings))
        session.add(clinic)
    return clinic


def create_user(
    runtime: Runtime,
    clinic: Clinic | None,
    role: Role = Role.DOCTOR,
    *,
    email: str | None = None,
) -> User:
    with transaction(runtime.session_factory) as session:
        user = User(
            clinic_id=clinic.id if clinic else None,
            email=email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.com",
            full_name=f"Test {role.value}",
            role=role,
            password_hash=_PASSWORD_HASH,
        )
        session.add(user)
    return user


def create_patient(
    runtime: Runtime,
    clinic: Clinic,
    *,
    first_name: str = "Pat",
    last_name: str | None = None,
    status: PatientStatus = PatientStatus.ACTIVE,
    doctor: User | None = None,
    date_of_birth: date | None = date(2010, 5, 17),
) -> Patient:
    with transaction(runtime.session_factory) as session:
        patient = Patient(
            clinic_id=clinic.id,
            first_name=first_name,
            last_name=last_name or f"Test{uuid.uuid4().hex[:6]}",
            status=status,
            doctor_id=doctor.id if doctor else None,
            date_of_birth=date_of_birth,
        )
        session.add(patient)
    return patient


def create_consent(
    runtime: Runtime, patient: Patient, kind: ConsentKind = ConsentKind.PHOTOGRAPHY
) -> Consent:
    """A consent in force since yesterday, given by a guardian (valid for minors and adults)."""
    with transaction(runtime.session_factory) as session:
        consent = Consent(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            kind=kind,
            granted_by=ConsentGrantor.GUARDIAN,
            guardian_name="A Guardian",
            granted_at=utcnow() - timedelta(days=1),
        )
        session.add(consent)
    return consent


def sign_in(client: TestClient, user: User, password: str = PASSWORD) -> dict[str, str]:
    """Sign a staff member in through the API; returns an Authorization header."""
    response = client.post("/api/auth/login", json={"email": user.email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


def patient_token(runtime: Runtime, patient: Patient) -> dict[str, str]:
    """A portal session for `patient` (as if they had registered); returns a bearer header."""
    from ortholens.auth.service import open_session

    with transaction(runtime.session_factory) as session:
        tokens = open_session(session, runtime.signer, patient=patient)
    return {"Authorization": f"Bearer {tokens.access_token}"}
