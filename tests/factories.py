"""Plain factory functions for tests: `create_clinic`, `create_user`, `create_patient`, and
`sign_in` for a bearer header. Each commits its own transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient

from ortholens.kit.db import transaction, utcnow
from ortholens.kit.passwords import hash_password
from ortholens.kit.storage.keys import make_key
from ortholens.models import (
    Clinic,
    Consent,
    ConsentGrantor,
    ConsentKind,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Patient,
    PatientStatus,
    Role,
    ScanSession,
    ScanSessionStatus,
    User,
)
from ortholens.runtime import Runtime
from tests.fixtures.photos import photo_jpeg

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


def create_image(
    runtime: Runtime,
    patient: Patient,
    *,
    file_type: FileType = FileType.PHOTO,
    view: str | None = "IV07",
    tags: list[str] | None = None,
    deleted_days_ago: int | None = None,
) -> Image:
    """A READY image of `patient` with placeholder original and thumbnail objects in the store."""
    image_id = uuid.uuid4()
    base = f"{patient.clinic_id}/{patient.id}/{file_type.value.lower()}/{image_id}"
    runtime.store.put(f"{base}/original.jpg", b"original-bytes", content_type="image/jpeg")
    runtime.store.put(f"{base}/thumbnail.webp", b"thumb-bytes", content_type="image/webp")
    with transaction(runtime.session_factory) as session:
        image = Image(
            id=image_id,
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            file_type=file_type,
            source=ImageSource.UPLOAD,
            status=ImageStatus.READY,
            view_code=view,
            tags=tags or [],
            original_key=f"{base}/original.jpg",
            variants={"thumbnail": f"{base}/thumbnail.webp"},
            deleted_at=utcnow() - timedelta(days=deleted_days_ago)
            if deleted_days_ago is not None
            else None,
        )
        session.add(image)
    return image


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


REMOTE_VIEWS = ("IV07", "IV01", "IV18", "IV25", "IV27")


def create_scan_session(
    runtime: Runtime,
    patient: Patient,
    *,
    photos: int = 5,
    created_at: datetime | None = None,
    status: ScanSessionStatus = ScanSessionStatus.PENDING,
    preview: bytes | None = None,
    quality: dict[str, object] | None = None,
    submitted: bool = True,
) -> ScanSession:
    """A check-in with `photos` processed photos (READY, with thumbnail and preview in the store),
    sent by the patient unless `submitted` is False (an unsent one is not in the review queue)."""
    data = preview or photo_jpeg()
    at = created_at or utcnow()
    with transaction(runtime.session_factory) as session:
        scan = ScanSession(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            status=status,
            image_count=photos,
            expected_views=list(REMOTE_VIEWS),
            created_at=at,
            updated_at=at,
            submitted_at=at if submitted and photos else None,
        )
        session.add(scan)
        session.flush()
        for index in range(photos):
            object_id = uuid.uuid4()
            keys = {
                name: make_key(
                    patient.clinic_id, patient.id, "photo", name, ext, object_id=object_id
                )
                for name, ext in (("original", "jpg"), ("thumbnail", "jpg"), ("preview", "jpg"))
            }
            for key in keys.values():
                runtime.store.put(key, data, content_type="image/jpeg")
            session.add(
                Image(
                    clinic_id=patient.clinic_id,
                    patient_id=patient.id,
                    scan_session_id=scan.id,
                    file_type=FileType.PHOTO,
                    view_code=REMOTE_VIEWS[index % len(REMOTE_VIEWS)],
                    source=ImageSource.PATIENT_APP,
                    status=ImageStatus.READY,
                    original_key=keys["original"],
                    original_size=len(data),
                    mime_type="image/jpeg",
                    variants={"thumbnail": keys["thumbnail"], "preview": keys["preview"]},
                    quality=quality
                    or {
                        "overall": 85,
                        "focus": 90,
                        "exposure": 80,
                        "resolution": 70,
                        "reasons": [],
                        "retake_suggested": False,
                    },
                    quality_score=85.0,
                    created_at=at + timedelta(seconds=index),
                    updated_at=at,
                )
            )
    return scan
