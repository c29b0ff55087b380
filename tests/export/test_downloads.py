"""Links and downloads of generated files: each link handed out and each download is audited,
on the local store and on S3; only the requesting clinic gets a link; a link cannot be altered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.app import create_app
from ortholens.export.endpoints import get_download_policy
from ortholens.export.links import DownloadPolicy
from ortholens.export.service import FileView, Requester, file_status
from ortholens.kit.db import transaction
from ortholens.kit.errors import NotFound
from ortholens.kit.jobs import JobStatus
from ortholens.models import AuditEvent, AuditOutcome, Clinic, Patient
from ortholens.runtime import Runtime, build_runtime
from ortholens.settings import Settings
from tests.conftest import make_settings
from tests.export.generated_notes import NOTE, request_note, staff_requester
from tests.factories import create_clinic, create_patient
from tests.kit.s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, running_s3_server


def status(runtime: Runtime, requester: Requester, job_id: uuid.UUID) -> FileView:
    with transaction(runtime.session_factory) as db:
        return file_status(db, NOTE, requester, job_id, get_download_policy(runtime))


def events(runtime: Runtime, job_id: uuid.UUID) -> list[tuple[str, AuditOutcome, uuid.UUID | None]]:
    with runtime.session_factory() as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.target_id == job_id).order_by(AuditEvent.seq)
        )
        return [(e.action, e.outcome, e.actor_id) for e in rows]


def test_each_link_and_each_download_is_audited_under_the_requester(
    client: TestClient, runtime: Runtime, patient: Patient
) -> None:
    note = request_note(runtime, patient, "Röntgen in 6 months")
    view = status(runtime, note.requester, note.job_id)
    assert view.job.status is JobStatus.SUCCEEDED
    assert view.file is not None and view.url is not None
    for _ in range(2):
        download = client.get(view.url)  # signed: no sign-in needed
        assert download.status_code == 200
        assert download.content == "Röntgen in 6 months".encode()
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["cache-control"] == "private, no-store"
    me = note.requester.actor.id
    assert events(runtime, note.job_id) == [
        ("testing.note_request", AuditOutcome.SUCCESS, me),
        ("testing.note_create", AuditOutcome.SUCCESS, me),
        ("testing.note_link", AuditOutcome.SUCCESS, me),
        ("testing.note_download", AuditOutcome.SUCCESS, me),
        ("testing.note_download", AuditOutcome.SUCCESS, me),
    ]


def test_the_file_is_stored_under_the_generated_file_key(
    runtime: Runtime, patient: Patient
) -> None:
    note = request_note(runtime, patient, "kept once")
    view = status(runtime, note.requester, note.job_id)
    assert view.file is not None
    assert view.file.key == f"{patient.clinic_id}/{patient.id}/note/{note.job_id}/file-1.txt"
    assert view.file.filename == "Note für Dr. Ö.txt"  # the name travels beside the key
    assert runtime.store.read(view.file.key) == b"kept once"


def test_progress_and_failure_are_on_the_job_row(runtime: Runtime, patient: Patient) -> None:
    queued = request_note(runtime, patient, "later", run=False)
    view = status(runtime, queued.requester, queued.job_id)
    assert (view.job.status, view.file, view.url) == (JobStatus.QUEUED, None, None)
    failed = request_note(runtime, patient, "never", fail=True)
    view = status(runtime, failed.requester, failed.job_id)
    assert (view.job.status, view.url) == (JobStatus.FAILED, None)
    assert view.job.error == "This note was asked to fail."
    assert view.job.message == "Writing the note"
    assert not list(runtime.store.iter_keys(f"{patient.clinic_id}/{patient.id}/note/"))


def test_another_clinic_gets_404_like_a_random_id_and_is_audited(
    runtime: Runtime, patient: Patient
) -> None:
    note = request_note(runtime, patient, "ours")
    stranger = staff_requester(create_clinic(runtime).id)
    with pytest.raises(NotFound) as theirs:
        status(runtime, stranger, note.job_id)
    with pytest.raises(NotFound) as random:
        status(runtime, stranger, uuid.uuid4())
    assert theirs.value.detail == random.value.detail == NOTE.not_found
    assert ("testing.note_download", AuditOutcome.DENIED, stranger.actor.id) in events(
        runtime, note.job_id
    )
    assert not any(action == "testing.note_link" for action, _, _ in events(runtime, note.job_id))


def test_an_altered_or_expired_link_is_refused(
    client: TestClient, runtime: Runtime, patient: Patient, policy: DownloadPolicy
) -> None:
    note = request_note(runtime, patient, "signed")
    other = request_note(runtime, patient, "other")
    url = status(runtime, note.requester, note.job_id).url
    assert url is not None
    assert client.get(url.replace(str(note.job_id), str(other.job_id))).status_code == 403
    assert client.get(url.replace("actor=user", "actor=system")).status_code == 403
    past = policy.signer.sign(note.job_id, note.requester.actor, expires_at=1_000_000_000)
    refused = client.get(past)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this link has expired"
    downloads = [a for a, _, _ in events(runtime, note.job_id) if a == "testing.note_download"]
    assert downloads == []


def test_a_link_to_a_job_that_makes_no_file_is_not_found(
    client: TestClient, runtime: Runtime, patient: Patient, policy: DownloadPolicy
) -> None:
    note = request_note(runtime, patient, "x")
    random = policy.signer.sign(uuid.uuid4(), note.requester.actor, expires_at=2_000_000_000)
    assert client.get(random).status_code == 404


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[tuple[str, str]]:
    with running_s3_server() as endpoint:
        yield endpoint.url, endpoint.bucket


@pytest.fixture
def s3_runtime(
    tmp_path: Path, database_url: str, s3_endpoint: tuple[str, str]
) -> Iterator[Runtime]:
    url, bucket = s3_endpoint
    settings: Settings = make_settings(
        tmp_path,
        database_url,
        storage_backend="s3",
        s3_bucket=bucket,
        s3_endpoint_url=url,
        s3_region=REGION,
        s3_access_key_id=ACCESS_KEY_ID,
        s3_secret_access_key=SECRET_ACCESS_KEY,
    )
    built = build_runtime(settings)
    yield built
    built.close()


def test_a_download_from_s3_goes_through_the_app_and_is_audited(s3_runtime: Runtime) -> None:
    clinic: Clinic = create_clinic(s3_runtime)
    patient = create_patient(s3_runtime, clinic)
    note = request_note(s3_runtime, patient, "from the bucket")
    view = status(s3_runtime, note.requester, note.job_id)
    assert view.url is not None and view.file is not None
    assert view.url.startswith("http://testserver/api/exports/")  # the app, not the bucket
    with TestClient(create_app(s3_runtime), base_url="https://testserver") as app_client:
        download = app_client.get(view.url)
    assert download.status_code == 200
    assert download.content == b"from the bucket"
    assert s3_runtime.store.read(view.file.key) == b"from the bucket"
    actions = [action for action, _, _ in events(s3_runtime, note.job_id)]
    assert actions.count("testing.note_download") == 1
