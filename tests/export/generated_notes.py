"""A small generated-file kind for the tests of `ortholens.export`: a text note made by a job.

Importing this module registers the kind and its job, as a domain's `tasks.py` would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ortholens.audit.service import Actor
from ortholens.export import (
    GeneratedFile,
    GeneratedKind,
    GenerationContext,
    Requester,
    generates,
    request_generation,
)
from ortholens.kit.db import transaction
from ortholens.kit.errors import InvalidInput
from ortholens.models import ActorType, Patient
from ortholens.runtime import Runtime
from tests.fixtures.jobs import run_job

NOTE = GeneratedKind(
    job="testing.make_note",
    key_kind="note",
    audit_prefix="testing.note",
    not_found="No note with this id.",
)


@generates(NOTE)
def make_note(ctx: GenerationContext, *, text: str, fail: bool = False) -> GeneratedFile:
    """Write `text` as a UTF-8 file (or fail, when asked to)."""
    ctx.progress(0.5, "Writing the note")
    if fail:
        raise InvalidInput("This note was asked to fail.")
    data = text.encode()
    return GeneratedFile(
        "Note für Dr. Ö.txt", "text/plain", data=data, audit_details={"bytes": len(data)}
    )


@dataclass(frozen=True)
class Note:
    job_id: uuid.UUID
    requester: Requester


def staff_requester(clinic_id: uuid.UUID) -> Requester:
    """A staff member of the clinic, as the export service sees them."""
    return Requester(clinic_id, Actor(ActorType.USER, uuid.uuid4(), clinic_id))


def request_note(
    runtime: Runtime, patient: Patient, text: str, *, run: bool = True, fail: bool = False
) -> Note:
    """Ask for a note for `patient` by a staff member of its clinic; run its job unless `run`."""
    requester = staff_requester(patient.clinic_id)
    with transaction(runtime.session_factory) as db:
        job = request_generation(
            db,
            NOTE,
            requester,
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            args={"text": text, "fail": fail},
            details={"patient_id": str(patient.id)},
        )
    if run:
        run_job(runtime, job.id)
    return Note(job.id, requester)
