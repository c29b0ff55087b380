"""The job side of a generated file: a kind's generator makes the bytes, this module stores them.

    @generates(MY_KIND)
    def make_it(ctx: GenerationContext, *, my_id: str) -> GeneratedFile: ...

registers the job `MY_KIND.job`. The job reloads its clinic (and patient) from its row, calls the
generator (which reports progress in [0, 1] of its own work), stores the file under a fresh key
(`keys.result_key`), audits `{prefix}_create` in the job's transaction and returns the result
the status, the download and the clean-up read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ortholens.audit import service as audit
from ortholens.export import repository
from ortholens.export.keys import result_folder, result_key
from ortholens.export.kinds import GeneratedKind, register_kind
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.kit.storage import ObjectStore
from ortholens.models import ActorType

# The generator's own work fills this share of the job's progress; storing the file, the rest.
WORK_SHARE = 0.9


@dataclass(frozen=True)
class GeneratedFile:
    """What a generator produced: the bytes in memory or in a temporary file (removed once
    stored). `filename` is the download's name; `details` (JSON) join the job's result, and
    `audit_details` (ids and counts, no PHI) the `{prefix}_create` event."""

    filename: str
    content_type: str
    data: bytes | None = None
    path: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)
    audit_details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationContext:
    """Handed to a generator: the job (session, snapshot, resources) and whose file it makes."""

    job: JobContext
    clinic_id: uuid.UUID
    patient_id: uuid.UUID | None

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress in [0, 1] of the generator's own work (no PHI in `message`)."""
        self.job.progress(WORK_SHARE * min(max(fraction, 0.0), 1.0), message)


Generator = Callable[..., GeneratedFile]


def store_file(store: ObjectStore, key: str, file: GeneratedFile) -> int:
    """Put the file under `key` (streamed from its temporary file, which is then deleted);
    returns its size in bytes."""
    try:
        if file.data is not None:
            return store.put(key, file.data, content_type=file.content_type).size
        if file.path is None:
            raise ValueError("a generated file needs its bytes or a path")
        with file.path.open("rb") as source:
            return store.put(key, source, content_type=file.content_type).size
    finally:
        if file.path is not None:
            file.path.unlink(missing_ok=True)


def _owner(ctx: JobContext) -> uuid.UUID:
    with ctx.snapshot() as read:
        job = repository.get_job(read, ctx.job_id)
        clinic_id = job.clinic_id if job is not None else None
    if clinic_id is None:
        raise InvalidInput("A generated file must belong to a clinic.")
    return clinic_id


def _generate(
    kind: GeneratedKind, make: Generator, ctx: JobContext, args: dict[str, Any]
) -> dict[str, Any]:
    patient = args.pop("patient_id", None)
    user = args.pop("user_id", None)
    clinic_id = _owner(ctx)
    patient_id = uuid.UUID(patient) if patient else None
    file = make(GenerationContext(ctx, clinic_id, patient_id), **args)
    store: ObjectStore = ctx.resources.store
    try:
        ctx.progress(WORK_SHARE, "Storing the file")
        key = result_key(
            clinic_id,
            patient_id,
            kind.key_kind,
            ctx.job_id,
            filename=file.filename,
            attempt=ctx.attempt,
        )
        # An earlier attempt of this job may have stored a file and then failed to commit.
        for leftover in list(store.iter_keys(result_folder(key))):
            store.delete(leftover)
        size = store_file(store, key, file)
    finally:
        if file.path is not None:
            file.path.unlink(missing_ok=True)
    user_id = uuid.UUID(user) if user else None
    audit.record(
        ctx.session,
        audit.Actor(ActorType.USER, user_id, clinic_id) if user_id else audit.SYSTEM,
        kind.action("create"),
        clinic_id=clinic_id,
        target_type="job",
        target_id=ctx.job_id,
        details={**file.audit_details, "size": size},
    )
    return {
        **file.details,
        "key": key,
        "filename": file.filename,
        "size": size,
        "contentType": file.content_type,
    }


def generates(kind: GeneratedKind, *, max_attempts: int = 2) -> Callable[[Generator], Generator]:
    """Register `make(ctx: GenerationContext, **args) -> GeneratedFile` as the job `kind.job`."""

    def register(make: Generator) -> Generator:
        register_kind(kind)

        def handler(ctx: JobContext, **args: Any) -> dict[str, Any]:
            return _generate(kind, make, ctx, args)

        handler.__doc__ = make.__doc__
        job_handler(kind.job, max_attempts=max_attempts)(handler)
        return make

    return register
