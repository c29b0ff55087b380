"""Business rules of generated files: asking for one, following it, handing out its link,
serving each download, and expiring it.

- The job's row carries the clinic; another clinic's job id answers exactly like a random id
  (404, the attempt audited as denied).
- A file is kept for the retention period after its job finished; after that (and before the
  clean-up job got to it) it answers 410 Gone: "export again".
- Every link handed out is audited (`{prefix}_link`), and so is every download (`{prefix}_download`),
  whichever store holds the bytes: the app serves them itself (see `ortholens.export`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.export import repository
from ortholens.export.keys import result_folder
from ortholens.export.kinds import GeneratedKind, generating_jobs, kind_of
from ortholens.export.links import DownloadPolicy
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, NotFound, OrthoLensError
from ortholens.kit.jobs import Job, JobStatus, request_job
from ortholens.kit.storage import ObjectStore
from ortholens.models import ActorType

UNKNOWN_FILE = "No generated file with this id."
EXPIRED_DETAIL = "This file has expired and was deleted; export again."
EXPIRY_BATCH = 500


class GeneratedFileGone(OrthoLensError):
    """The file existed but its retention period is over (it is or will soon be deleted)."""

    status_code = 410
    slug = "gone"
    title = "Gone"


@dataclass(frozen=True)
class Requester:
    """Who asks: the clinic they are limited to (None: every clinic) and the actor to audit."""

    clinic_scope: uuid.UUID | None
    actor: audit.Actor

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.actor.id if self.actor.type is ActorType.USER else None


@dataclass(frozen=True)
class StoredFile:
    """A finished job's file: `size` in bytes, `details` the kind's own result fields."""

    key: str
    filename: str
    size: int
    content_type: str
    expires_at: datetime
    expired: bool
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileView:
    """A generating job as its requester sees it; `file` and `url` only once it succeeded."""

    job: Job
    file: StoredFile | None
    url: str | None


@dataclass(frozen=True)
class Download:
    """A file about to be served: its job, kind and stored object."""

    job: Job
    kind: GeneratedKind
    file: StoredFile


def request_generation(
    db: Session,
    kind: GeneratedKind,
    requester: Requester,
    *,
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID | None,
    args: dict[str, Any],
    details: dict[str, Any],
) -> Job:
    """Queue the kind's job (JSON `args`, ids only) for the clinic; sent when `db` commits.

    `details` (ids and codes, no PHI) go into the `{prefix}_request` audit event.
    """
    user_id = requester.user_id
    job = request_job(
        db,
        kind.job,
        {
            **args,
            "patient_id": str(patient_id) if patient_id else None,
            "user_id": str(user_id) if user_id else None,
        },
        clinic_id=clinic_id,
    )
    audit.record(
        db,
        requester.actor,
        kind.action("request"),
        clinic_id=clinic_id,
        target_type="job",
        target_id=job.id,
        details=details,
    )
    return job


def stored_file(
    job: Job, retention: timedelta, *, now: datetime | None = None
) -> StoredFile | None:
    """The job's file if it finished with one, with its expiry; None while queued, running or
    after a failure."""
    result = job.result or {}
    if job.status is not JobStatus.SUCCEEDED or "key" not in result or job.finished_at is None:
        return None
    expires_at = job.finished_at + retention
    return StoredFile(
        key=str(result["key"]),
        filename=str(result["filename"]),
        size=int(result["size"]),
        content_type=str(result.get("contentType", "application/octet-stream")),
        expires_at=expires_at,
        expired=repository.EXPIRED_AT in result or (now or utcnow()) >= expires_at,
        details=result,
    )


def find_request(db: Session, kind: GeneratedKind, requester: Requester, job_id: uuid.UUID) -> Job:
    """The kind's job if it is the requester's clinic's, else NotFound (like a random id)."""
    job = repository.get_job(db, job_id)
    scope = requester.clinic_scope
    if job is not None and job.name == kind.job:
        if scope is None or job.clinic_id == scope:
            return job
        audit.record_denied(
            db, requester.actor, kind.action("download"), target_type="job", target_id=job_id
        )
    raise NotFound(kind.not_found)


def _available(db: Session, kind: GeneratedKind, job: Job, file: StoredFile) -> None:
    """Raise unless the file may still be handed out: Gone once expired, or the kind's veto."""
    if file.expired:
        raise GeneratedFileGone(EXPIRED_DETAIL)
    if kind.still_available is not None:
        kind.still_available(db, job)


def file_status(
    db: Session,
    kind: GeneratedKind,
    requester: Requester,
    job_id: uuid.UUID,
    policy: DownloadPolicy,
) -> FileView:
    """Progress of a generating job, and once done a signed link to its file (each audited)."""
    job = find_request(db, kind, requester, job_id)
    file = stored_file(job, policy.retention)
    if file is None:
        return FileView(job, None, None)
    _available(db, kind, job, file)
    expires_at = int(utcnow().timestamp()) + policy.link_seconds
    url = policy.signer.sign(job.id, requester.actor, expires_at=expires_at)
    audit.record(
        db,
        requester.actor,
        kind.action("link"),
        clinic_id=job.clinic_id,
        target_type="job",
        target_id=job.id,
        details={"link_seconds": policy.link_seconds},
    )
    return FileView(job, file, url)


def locate_download(
    db: Session, job_id: uuid.UUID, retention: timedelta, *, clinic_scope: uuid.UUID | None = None
) -> Download:
    """The file of a finished generating job, checked to be still available; NotFound for any
    other job (or another clinic's, with a scope), Gone once expired."""
    job = repository.get_job(db, job_id)
    kind = kind_of(job.name) if job is not None else None
    if job is None or kind is None or (clinic_scope is not None and job.clinic_id != clinic_scope):
        raise NotFound(kind.not_found if kind else UNKNOWN_FILE)
    file = stored_file(job, retention)
    if file is None:
        raise Conflict("This job has not produced its file; see its status.")
    _available(db, kind, job, file)
    return Download(job, kind, file)


def record_download(db: Session, download: Download, actor: audit.Actor, *, via: str) -> None:
    """Audit one download of the file (`via` is `link` or `cli`)."""
    audit.record(
        db,
        actor,
        download.kind.action("download"),
        clinic_id=download.job.clinic_id,
        target_type="job",
        target_id=download.job.id,
        details={"size": download.file.size, "via": via},
    )


def open_download(
    db: Session,
    store: ObjectStore,
    policy: DownloadPolicy,
    job_id: uuid.UUID,
    params: Mapping[str, str],
) -> tuple[Download, Iterator[bytes]]:
    """Check a signed link, open its file and audit the download under the link's actor; the
    bytes are served after `db` commits, so no unaudited byte leaves."""
    grant = policy.signer.verify(job_id, params)
    download = locate_download(db, job_id, policy.retention)
    chunks = store.iter_chunks(download.file.key)  # opens now: a missing object fails here
    record_download(db, download, grant.actor, via="link")
    return download, chunks


def expire_files(
    db: Session, store: ObjectStore, retention: timedelta, *, now: datetime | None = None
) -> int:
    """Delete the files whose retention is over and mark their jobs expired; returns how many.

    Objects go first: if the commit then fails, the next run finds the same jobs and deleting a
    missing object is fine, so a file is never marked expired while its bytes remain.
    """
    now = now or utcnow()
    jobs = repository.due_for_expiry(
        db, generating_jobs(), finished_before=now - retention, limit=EXPIRY_BATCH
    )
    for job in jobs:
        kind = kind_of(job.name)
        if kind is None:  # only generating jobs are due; a kind is never unregistered
            continue
        key = str((job.result or {}).get("key", ""))
        if key:
            for leftover in list(store.iter_keys(result_folder(key))):
                store.delete(leftover)
        repository.mark_expired(job, now)
        audit.record(
            db,
            audit.SYSTEM,
            kind.action("expire"),
            clinic_id=job.clinic_id,
            target_type="job",
            target_id=job.id,
        )
    return len(jobs)
