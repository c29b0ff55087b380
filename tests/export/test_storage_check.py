"""The storage check knows every kind of generated file: a finished file is not an orphan."""

from __future__ import annotations

from ortholens.image.integrity import check_storage
from ortholens.kit.db import transaction
from ortholens.models import Patient
from ortholens.runtime import Runtime
from tests.export.generated_notes import request_note


def test_a_generated_file_is_not_reported_or_repaired_as_an_orphan(
    runtime: Runtime, patient: Patient
) -> None:
    note = request_note(runtime, patient, "keep me")
    key = f"{patient.clinic_id}/{patient.id}/note/{note.job_id}/file-1.txt"
    assert runtime.store.read(key) == b"keep me"
    stray = f"{patient.clinic_id}/{patient.id}/note/stray/file-1.txt"
    runtime.store.put(stray, b"nobody's", content_type="text/plain")
    with transaction(runtime.session_factory) as db:
        report = check_storage(db, runtime.store, repair=True)
    assert key not in report.orphan_objects
    assert stray in report.orphan_objects  # the check still finds real orphans
    assert runtime.store.read(key) == b"keep me"
