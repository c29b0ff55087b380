"""`ingest.file`: file a large upload that the request only streamed to the store.

The job runs the pipeline's own steps on the stored object, with progress: check and read it (the
reader in the runtime's isolated decoder pool, so a crash or hang fails this job with a reason),
then file it in the job's transaction. A refused file is deleted; the upload object is removed once
what it became has been committed. `intraoral.import` is the same job under its earlier name.
"""

from __future__ import annotations

import dataclasses
import uuid
from functools import partial
from typing import Any

from ortholens.audit.service import Actor
from ortholens.ingest.formats import IngestLimits
from ortholens.ingest.pipeline import (
    INGEST_JOB,
    LEGACY_SCAN_IMPORT_JOB,
    Incoming,
    Submission,
    file,
    prepare,
)
from ortholens.kit.db import defer_on_commit
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.models import ActorType, FileType, ImageSource


def _submission(
    clinic_id: str,
    patient_id: str | None,
    user_id: str | None,
    source: str,
    takes: list[str] | None,
) -> Submission:
    """The submission a job files for: the user who asked, else the system."""
    clinic = uuid.UUID(clinic_id)
    user = uuid.UUID(user_id) if user_id else None
    actor = Actor(ActorType.USER if user else ActorType.SYSTEM, user, clinic)
    return Submission(
        actor=actor,
        clinic_id=clinic,
        user_id=user,
        source=ImageSource(source),
        patient_id=uuid.UUID(patient_id) if patient_id else None,
        # Jobs queued before the pipeline were scan imports and carry no `takes`.
        takes=frozenset(FileType(kind) for kind in takes or [FileType.SCAN_3D.value]),
    )


@job_handler(LEGACY_SCAN_IMPORT_JOB, max_attempts=2)
@job_handler(INGEST_JOB, max_attempts=2)
def file_in_background(
    ctx: JobContext,
    *,
    upload_key: str,
    name: str,
    clinic_id: str,
    patient_id: str | None,
    user_id: str | None,
    source: str,
    takes: list[str] | None = None,
    mesh_units: str | None = None,
) -> dict[str, Any]:
    """Check, read and file a stored upload (scans in `mesh_units` when the uploader asked for a
    unit); the upload is removed once filed."""
    runtime = ctx.resources
    store = runtime.store
    submission = _submission(clinic_id, patient_id, user_id, source, takes)
    limits = IngestLimits.for_scans_up_to(runtime.settings.max_scan_upload_mb)
    limits = dataclasses.replace(limits, mesh_units=mesh_units)
    ctx.progress(0.05, "reading the file")
    try:
        ctx.progress(0.2, "checking and reading the file")
        prepared = prepare(
            store, submission, [Incoming(name, key=upload_key)], limits, parse=runtime.decoders.run
        )
    except InvalidInput:
        store.delete(upload_key)  # a refused file leaves nothing behind
        raise
    ctx.progress(0.7, "recording")
    (filed,) = file(ctx.session, store, submission, prepared)
    defer_on_commit(ctx.session, partial(store.delete, upload_key))
    return {
        "scanSetId": str(filed.scan_set_id) if filed.scan_set_id else None,
        "patientId": str(filed.patient_id) if filed.patient_id else None,
        "matchedBy": filed.matched_by,
        "images": [str(image.id) for image in filed.images],
        "pending": [str(row.id) for row in filed.pending],
    }
