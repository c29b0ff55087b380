"""The seeded demo tells one consistent story: who has check-ins or messages has registered, who
has images has a photography consent, the arches of the scan set sit in occlusion, threads start
no later than their first message, and the check-ins waiting for review are in the queue."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.consent.service import consent_status
from ortholens.demo.seed import DemoLogin, seed_demo
from ortholens.kit.db import transaction, utcnow
from ortholens.models import (
    Consent,
    ConsentKind,
    FileType,
    Image,
    Message,
    MessageThread,
    Patient,
    Role,
    ScanSession,
    ScanSessionStatus,
)
from ortholens.review import repository as review_repository
from ortholens.runtime import Runtime


@pytest.fixture
def seeded(runtime: Runtime) -> dict[Role, DemoLogin]:
    with transaction(runtime.session_factory) as session:
        return {login.role: login for login in seed_demo(session, runtime.store)}


def test_patients_with_check_ins_or_messages_are_registered(
    runtime: Runtime, seeded: dict[Role, DemoLogin]
) -> None:
    with runtime.session_factory() as session:
        active = set(session.scalars(select(ScanSession.patient_id))) | set(
            session.scalars(select(MessageThread.patient_id))
        )
        patients = session.scalars(select(Patient).where(Patient.id.in_(active))).all()
    assert len(patients) >= 2
    for patient in patients:
        assert patient.has_portal_account, patient.first_name
        assert patient.portal_email and patient.onboarded_at is not None


def test_patients_with_images_have_a_photography_consent(
    client: TestClient, runtime: Runtime, seeded: dict[Role, DemoLogin]
) -> None:
    now = utcnow()
    with runtime.session_factory() as session:
        with_images = set(session.scalars(select(Image.patient_id)))
        consents = session.scalars(
            select(Consent).where(Consent.kind == ConsentKind.PHOTOGRAPHY)
        ).all()
    consented = {c.patient_id for c in consents if consent_status(c, now) == "active"}
    assert with_images and with_images <= consented
    doctor = seeded[Role.DOCTOR]
    client.get("/login")
    client.post(
        "/login",
        data={
            "email": doctor.email,
            "password": doctor.password,
            "csrf_token": client.cookies["ol_csrf"],
        },
        follow_redirects=False,
    )
    for patient_id in with_images:
        page = client.get(f"/patients/{patient_id}").text
        assert "No consent recorded" not in page
        assert "Not registered" not in page


def _mesh(runtime: Runtime, image: Image) -> trimesh.Trimesh:
    data = runtime.store.read(image.original_key)
    loaded = trimesh.load(io.BytesIO(data), file_type="stl", force="mesh")
    assert isinstance(loaded, trimesh.Trimesh)
    return loaded


def test_the_demo_arches_are_in_occlusion(runtime: Runtime, seeded: dict[Role, DemoLogin]) -> None:
    with runtime.session_factory() as session:
        scans = session.scalars(select(Image).where(Image.file_type == FileType.SCAN_3D)).all()
    by_arch = {scan.category: _mesh(runtime, scan) for scan in scans}
    upper, lower, bite = (by_arch[c] for c in ("SCAN_UPPER", "SCAN_LOWER", "SCAN_BITE"))
    # Stacked along z: lower below the bite wafer, the upper on top of it, touching (0.5 mm).
    assert lower.bounds[1][2] <= bite.bounds[0][2] + 0.5
    assert bite.bounds[1][2] <= upper.bounds[0][2] + 0.5
    assert upper.bounds[0][2] - lower.bounds[1][2] < 8.0  # no more than a bite wafer between
    # Over each other: the footprints in x-y overlap for most of the smaller one.
    for one, other in ((upper, lower), (bite, lower), (bite, upper)):
        low = np.maximum(one.bounds[0][:2], other.bounds[0][:2])
        high = np.minimum(one.bounds[1][:2], other.bounds[1][:2])
        overlap = float(np.prod(np.clip(high - low, 0, None)))
        smaller = min(float(np.prod(m.extents[:2])) for m in (one, other))
        assert overlap > 0.6 * smaller
    centres = [m.bounds.mean(axis=0) for m in (upper, lower, bite)]
    assert max(np.linalg.norm(a - b) for a in centres for b in centres) < 40.0  # not ~170 mm


def test_threads_start_no_later_than_their_messages(
    runtime: Runtime, seeded: dict[Role, DemoLogin]
) -> None:
    with runtime.session_factory() as session:
        rows = session.execute(
            select(MessageThread, func.min(Message.created_at), func.max(Message.created_at))
            .join(Message, Message.thread_id == MessageThread.id)
            .group_by(MessageThread.id)
        ).all()
    assert rows
    for thread, first, last in rows:
        assert thread.created_at <= first
        assert thread.updated_at >= last


def test_the_waiting_check_ins_are_in_the_review_queue(
    runtime: Runtime, seeded: dict[Role, DemoLogin]
) -> None:
    with runtime.session_factory() as session:
        pending = session.scalars(
            select(ScanSession).where(ScanSession.status == ScanSessionStatus.PENDING)
        ).all()
        clinic_id = pending[0].clinic_id
        queue = review_repository.list_sessions(
            session,
            clinic_id,
            status=ScanSessionStatus.PENDING,
            patient_id=None,
            after=None,
            limit=10,
        )
    assert len(pending) == 2
    assert {scan.id for scan, _ in queue} == {scan.id for scan in pending}
    assert all(scan.submitted_at is not None for scan in pending)
