"""Expiry of generated files: after the retention period a file answers 410 ("export again"),
and the hourly `export.expire` job deletes its objects and marks its job expired, once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.export.endpoints import get_download_policy
from ortholens.export.links import DownloadPolicy
from ortholens.export.service import GeneratedFileGone, file_status
from ortholens.export.tasks import EXPIRE_JOB
from ortholens.kit.db import transaction, utcnow
from ortholens.kit.jobs import Job, JobStatus, request_job
from ortholens.kit.jobs.registry import periodic_jobs
from ortholens.models import AuditEvent, Patient
from ortholens.runtime import Runtime
from tests.export.generated_notes import NOTE, Note, request_note
from tests.fixtures.jobs import run_job


def age(runtime: Runtime, job_id: uuid.UUID, hours: float) -> None:
    """Pretend the job finished `hours` ago."""
    with transaction(runtime.session_factory) as db:
        job = db.get(Job, job_id)
        assert job is not None
        job.finished_at = utcnow() - timedelta(hours=hours)


def run_expiry(runtime: Runtime) -> Job:
    with transaction(runtime.session_factory) as db:
        job_id = request_job(db, EXPIRE_JOB).id
    return run_job(runtime, job_id)


def folder(patient: Patient, note: Note) -> str:
    return f"{patient.clinic_id}/{patient.id}/{NOTE.key_kind}/{note.job_id}/"


def test_the_clean_up_runs_every_hour() -> None:
    assert periodic_jobs()[EXPIRE_JOB] == ("41", "*")


def test_an_old_file_is_gone_before_and_after_the_clean_up(
    client: TestClient, runtime: Runtime, patient: Patient, policy: DownloadPolicy
) -> None:
    note = request_note(runtime, patient, "old news")
    with transaction(runtime.session_factory) as db:
        url = file_status(db, NOTE, note.requester, note.job_id, policy).url
    assert url is not None
    age(runtime, note.job_id, runtime.settings.export_retention_hours + 1)
    # Past its retention a file is refused at once, even before the clean-up has run.
    with pytest.raises(GeneratedFileGone), transaction(runtime.session_factory) as db:
        file_status(db, NOTE, note.requester, note.job_id, policy)
    gone = client.get(url)
    assert gone.status_code == 410
    assert "export again" in gone.json()["detail"]
    assert list(runtime.store.iter_keys(folder(patient, note)))

    cleaned = run_expiry(runtime)
    assert (cleaned.status, cleaned.result) == (JobStatus.SUCCEEDED, {"expired": 1})
    assert not list(runtime.store.iter_keys(folder(patient, note)))
    with runtime.session_factory() as db:
        job = db.get(Job, note.job_id)
        assert job is not None and job.result is not None
        assert "expiredAt" in job.result
        assert job.message == "Expired; export again."
        actions = list(
            db.scalars(select(AuditEvent.action).where(AuditEvent.target_id == note.job_id))
        )
    assert actions.count("testing.note_expire") == 1
    assert client.get(url).status_code == 410
    # A second tick finds nothing left to do.
    assert run_expiry(runtime).result == {"expired": 0}


def test_a_file_within_its_retention_is_kept(
    client: TestClient, runtime: Runtime, patient: Patient, policy: DownloadPolicy
) -> None:
    note = request_note(runtime, patient, "fresh")
    age(runtime, note.job_id, runtime.settings.export_retention_hours - 1)
    assert run_expiry(runtime).result == {"expired": 0}
    with transaction(runtime.session_factory) as db:
        view = file_status(db, NOTE, note.requester, note.job_id, policy)
    assert view.file is not None and view.url is not None
    assert view.file.expires_at - utcnow() < timedelta(hours=1)
    assert client.get(view.url).content == b"fresh"


def test_the_retention_is_a_setting(runtime: Runtime) -> None:
    runtime.settings.export_retention_hours = 1
    assert get_download_policy(runtime).retention == timedelta(hours=1)
