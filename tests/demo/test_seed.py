"""The demo clinic: every role, a few patients, fresh passwords on every seeding."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.demo.seed import seed_demo
from ortholens.kit.db import transaction
from ortholens.kit.jobs import Job
from ortholens.kit.passwords import verify_password
from ortholens.models import (
    AuditEvent,
    Clinic,
    Consent,
    ConsentKind,
    FileType,
    Image,
    Patient,
    Role,
    ScanSession,
    User,
)
from ortholens.runtime import Runtime


def test_seed_creates_every_role_and_patients_and_can_run_again(runtime: Runtime) -> None:
    with transaction(runtime.session_factory) as session:
        first = seed_demo(session)
    with transaction(runtime.session_factory) as session:
        second = seed_demo(session)
    assert {login.role for login in first} == set(Role)
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Clinic)) == 1
        assert session.scalar(select(func.count()).select_from(User)) == len(Role)
        assert session.scalar(select(func.count()).select_from(Patient)) == 5
        for old, new in zip(first, second, strict=True):
            user = session.scalar(select(User).where(User.email == new.email))
            assert user is not None
            assert old.password != new.password
            assert verify_password(user.password_hash, new.password)
            assert not verify_password(user.password_hash, old.password)
            assert user.token_version == 1


def test_demo_patients_can_be_invited_to_the_portal(client: TestClient, runtime: Runtime) -> None:
    with transaction(runtime.session_factory) as session:
        logins = {login.role: login for login in seed_demo(session)}
    doctor = logins[Role.DOCTOR]
    signed_in = client.post(
        "/api/auth/login", json={"email": doctor.email, "password": doctor.password}
    )
    assert signed_in.status_code == 200
    headers = {"Authorization": f"Bearer {signed_in.json()['accessToken']}"}
    patient = client.get("/api/patients", headers=headers).json()["items"][0]
    invite = client.post(f"/api/patients/{patient['id']}/invite", headers=headers)
    assert invite.status_code == 201
    page = client.get(f"/patients/{patient['id']}")
    assert "Not registered" in page.text


def test_demo_images_enter_through_the_ingest_pipeline(runtime: Runtime) -> None:
    """Check-in photos and the scan set are filed like uploads: consent first, an upload audit
    event and a processing job per file, the arches classified from the scanner bundle."""
    with transaction(runtime.session_factory) as session:
        seed_demo(session, runtime.store)
    with runtime.session_factory() as session:
        photos = session.scalars(select(Image).where(Image.file_type == FileType.PHOTO)).all()
        scans = session.scalars(select(Image).where(Image.file_type == FileType.SCAN_3D)).all()
        uploads = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "image.upload")
        )
        jobs = session.scalars(select(Job.name)).all()
        consented = set(
            session.scalars(
                select(Consent.patient_id).where(Consent.kind == ConsentKind.PHOTOGRAPHY)
            )
        )
        sessions = session.scalars(select(ScanSession)).all()
    assert len(photos) == 15 and all(photo.view_code for photo in photos)
    assert {photo.patient_id for photo in photos} <= consented
    assert uploads == len(photos)
    assert sorted(scan.category for scan in scans) == ["SCAN_BITE", "SCAN_LOWER", "SCAN_UPPER"]
    assert len({scan.scan_set_id for scan in scans}) == 1
    assert jobs.count("image.process") == 15 and jobs.count("intraoral.derive") == 3
    assert all(s.image_count == 5 for s in sessions)
    for photo in photos:
        assert runtime.store.read(photo.original_key)[:3] == b"\xff\xd8\xff"  # stored as sent
