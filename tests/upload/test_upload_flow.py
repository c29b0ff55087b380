"""Seed 004's scan upload: session, signed upload URL, direct PUT, confirm, processing."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import select

from ortholens.kit.db import transaction, utcnow
from ortholens.kit.jobs import Job
from ortholens.models import Image, ImageStatus, Patient
from ortholens.runtime import Runtime
from ortholens.upload.service import clean_stale_uploads
from tests.factories import create_clinic, create_consent, create_patient, patient_token
from tests.fixtures.jobs import run_jobs
from tests.fixtures.photos import jpeg
from tests.fixtures.uploads import put, upload


@pytest.fixture
def patient(runtime: Runtime) -> Patient:
    patient = create_patient(runtime, create_clinic(runtime))
    create_consent(runtime, patient)
    return patient


def new_upload(
    client: TestClient, headers: dict[str, str], image_type: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a scan session and ask for one upload URL: (session, target)."""
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    body = {"sessionId": scan["id"], **({"imageType": image_type} if image_type else {})}
    target = client.post("/api/patient/scans/upload-url", headers=headers, json=body).json()
    return scan, target


def test_a_scan_session_from_start_to_processed_photos(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    created = client.post("/api/patient/scans/sessions", headers=headers)
    assert created.status_code == 201
    scan = created.json()
    assert (scan["status"], scan["imageCount"]) == ("PENDING", 0)
    assert scan["expectedViews"] == ["IV07", "IV01", "IV18", "IV25", "IV27"]
    first = upload(client, headers, scan["id"], "FRONTAL", jpeg(1))
    assert (first["status"], first["viewCode"]) == ("UPLOADED", "IV07")
    run_jobs(runtime)
    with runtime.session_factory() as session:
        image = session.get(Image, uuid.UUID(str(first["id"])))
        assert image is not None
        assert image.status is ImageStatus.READY
        assert (image.width, image.height) == (1200, 900)
        assert image.quality is not None and "overall" in image.quality
        assert (
            image.view_code == "IV07"
        )  # the patient said which view; the classifier does not override
        thumbnail = runtime.store.read(image.variants["thumbnail"])
    assert PILImage.open(io.BytesIO(thumbnail)).size == (300, 300)


def test_confirming_twice_counts_once(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan, target = new_upload(client, headers, "LEFT")
    put(client, target, jpeg())
    body = {"sessionId": scan["id"], "imageType": "LEFT", "key": target["key"]}
    first = client.post("/api/patient/scans/upload/confirm", headers=headers, json=body).json()
    second = client.post("/api/patient/scans/upload/confirm", headers=headers, json=body).json()
    assert second["id"] == first["id"]
    assert second["alreadyConfirmed"] is True
    with runtime.session_factory() as session:
        from ortholens.models import ScanSession

        assert session.get(ScanSession, uuid.UUID(scan["id"])).image_count == 1  # type: ignore[union-attr]
        assert len(list(session.scalars(select(Job.id)))) == 1


def test_a_file_that_is_not_a_photo_is_refused_at_confirm(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan, target = new_upload(client, headers, "UPPER")
    put(client, target, b"%PDF-1.7 this is not a photo")
    confirm = client.post(
        "/api/patient/scans/upload/confirm",
        headers=headers,
        json={"sessionId": scan["id"], "imageType": "UPPER", "key": target["key"]},
    )
    assert confirm.status_code == 422
    assert "not a photo" in confirm.json()["detail"]
    with runtime.session_factory() as session:
        assert (
            session.scalar(select(Image.status).where(Image.original_key == target["key"]))
            is ImageStatus.PENDING
        )


def test_confirm_before_upload_is_refused(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan, target = new_upload(client, headers, "LOWER")
    confirm = client.post(
        "/api/patient/scans/upload/confirm",
        headers=headers,
        json={"sessionId": scan["id"], "imageType": "LOWER", "key": target["key"]},
    )
    assert confirm.status_code == 422
    assert "Nothing was uploaded" in confirm.json()["detail"]


def test_uploads_never_confirmed_are_cleaned_up(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    _scan, target = new_upload(client, headers, "RIGHT")
    put(client, target, jpeg())
    with transaction(runtime.session_factory) as session:
        assert clean_stale_uploads(session, runtime.store, older_than=timedelta(0)) == 1
    assert runtime.store.head(str(target["key"])) is None
    with runtime.session_factory() as session:
        assert session.scalar(select(Image).where(Image.original_key == target["key"])) is None


def test_without_photography_consent_nothing_starts(client: TestClient, runtime: Runtime) -> None:
    unconsented = create_patient(runtime, create_clinic(runtime))
    response = client.post(
        "/api/patient/scans/sessions", headers=patient_token(runtime, unconsented)
    )
    assert response.status_code == 422
    assert "photography consent" in response.json()["detail"]


def test_another_patients_key_is_not_found(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    _scan, target = new_upload(client, headers, "FRONTAL")
    put(client, target, jpeg())
    other = create_patient(runtime, create_clinic(runtime))
    create_consent(runtime, other)
    stranger = client.post(
        "/api/patient/scans/upload/confirm",
        headers=patient_token(runtime, other),
        json={"key": target["key"]},
    )
    assert stranger.status_code == 404


def test_unknown_image_type_is_refused(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    response = client.post(
        "/api/patient/scans/upload-url",
        headers=headers,
        json={"sessionId": scan["id"], "imageType": "SELFIE"},
    )
    assert response.status_code == 422


def test_an_hourly_job_cleans_up_unconfirmed_uploads(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    periodic = [task.name for task in runtime.queue.huey._registry.periodic_tasks]
    assert "ortholens.tick.upload.cleanup" in periodic
    headers = patient_token(runtime, patient)
    _scan, target = new_upload(client, headers, "RIGHT")
    put(client, target, jpeg())
    with transaction(runtime.session_factory) as session:
        image = session.scalar(select(Image).where(Image.original_key == target["key"]))
        assert image is not None
        image.created_at = utcnow() - timedelta(days=2)
    runtime.queue._request_periodic("upload.cleanup")  # what the scheduler's tick does
    run_jobs(runtime)
    assert runtime.store.head(str(target["key"])) is None
    with runtime.session_factory() as session:
        assert session.scalar(select(Image).where(Image.original_key == target["key"])) is None


def intraoral_jpeg() -> bytes:
    import numpy as np

    from ortholens.processing.views import ViewCode
    from tests.processing.view_samples import make_sample

    out = io.BytesIO()
    PILImage.fromarray(make_sample(ViewCode.IV25, np.random.default_rng(7))).save(
        out, "JPEG", quality=90
    )
    return out.getvalue()


def test_a_photo_the_classifier_recognises_is_processed(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan, target = new_upload(client, headers)
    put(client, target, intraoral_jpeg())
    confirmed = client.post(
        "/api/patient/scans/upload/confirm",
        headers=headers,
        json={"sessionId": scan["id"], "key": target["key"]},
    ).json()
    run_jobs(runtime)
    with runtime.session_factory() as session:
        image = session.get(Image, uuid.UUID(confirmed["id"]))
        assert image is not None
        assert image.status is ImageStatus.READY, image.failure_reason
        assert image.view_code == "IV25"  # suggested from the pixels, as no view was given
        assert image.view_confidence is not None
        assert image.view_set_by_user is False


def test_a_retake_replaces_the_earlier_photo_of_that_view(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    first = upload(client, headers, scan["id"], "FRONTAL", jpeg(1))
    second = upload(client, headers, scan["id"], "FRONTAL", jpeg(2))
    with runtime.session_factory() as session:
        from ortholens.models import ScanSession

        assert session.get(ScanSession, uuid.UUID(scan["id"])).image_count == 1  # type: ignore[union-attr]
        assert session.get(Image, uuid.UUID(str(first["id"]))).deleted_at is not None  # type: ignore[union-attr]
        assert session.get(Image, uuid.UUID(str(second["id"]))).deleted_at is None  # type: ignore[union-attr]


def test_an_image_whose_processing_gives_up_is_marked_failed(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    from ortholens.runtime import DecodeSteps
    from tests.kit.isolation_decoders import library_error

    # A library failure we cannot provoke otherwise, through the runtime's decoder seam.
    runtime.decode_steps = DecodeSteps(photo=library_error)  # type: ignore[arg-type]
    headers = patient_token(runtime, patient)
    scan = client.post("/api/patient/scans/sessions", headers=headers).json()
    confirmed = upload(client, headers, scan["id"], "LEFT", jpeg(3))
    with runtime.session_factory() as session:
        job_id = session.scalar(select(Job.id))
        session.execute(Job.__table__.update().values(max_attempts=1))
        session.commit()
    assert job_id is not None
    runtime.queue.execute(job_id)
    with runtime.session_factory() as session:
        image = session.get(Image, uuid.UUID(str(confirmed["id"])))
        assert image is not None
        assert image.status is ImageStatus.FAILED
        assert "try uploading the photo again" in (image.failure_reason or "")


def test_an_expired_upload_url_is_refused(
    tmp_path: Path, database_url: str, patient: Patient
) -> None:
    from ortholens.app import create_app
    from ortholens.runtime import build_runtime
    from tests.conftest import make_settings

    # A negative lifetime: every link this runtime signs expired a minute before it was handed out.
    runtime = build_runtime(make_settings(tmp_path, database_url, signed_url_seconds=-60))
    try:
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            headers = patient_token(runtime, patient)
            scan = client.post("/api/patient/scans/sessions", headers=headers).json()
            target = client.post(
                "/api/patient/scans/upload-url",
                headers=headers,
                json={"sessionId": scan["id"], "imageType": "FRONTAL"},
            ).json()
            assert put(client, target, jpeg()) == 403
            assert runtime.store.head(str(target["key"])) is None
    finally:
        runtime.close()


def test_an_upload_over_the_size_limit_is_refused(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    headers = patient_token(runtime, patient)
    _scan, target = new_upload(client, headers, "FRONTAL")
    assert target["maxSize"] == 50 * 1024 * 1024
    too_big = jpeg() + b"\0" * (int(target["maxSize"]) + 1)
    assert put(client, target, too_big) == 413
    assert runtime.store.head(str(target["key"])) is None
