"""`ortholens export fetch`: waits for the job, writes the file, audits the download."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import select

from ortholens.models import ActorType, AuditEvent, Patient
from ortholens.runtime import Runtime
from tests.export.generated_notes import request_note

RunCli = Callable[..., Result]


def test_fetch_writes_the_file_and_audits_the_download(
    runtime: Runtime, patient: Patient, run_cli: RunCli, tmp_path: Path
) -> None:
    note = request_note(runtime, patient, "for the lab")
    target = tmp_path / "out.txt"
    result = run_cli("export", "fetch", note.job_id, "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"for the lab"
    assert not list(tmp_path.glob(".*.part"))
    with runtime.session_factory() as db:
        downloads = list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.target_id == note.job_id,
                    AuditEvent.action == "testing.note_download",
                )
            )
        )
    assert [(e.actor_type, e.details["via"]) for e in downloads] == [(ActorType.SYSTEM, "cli")]


def test_fetch_into_a_folder_uses_the_files_name(
    runtime: Runtime, patient: Patient, run_cli: RunCli, tmp_path: Path
) -> None:
    note = request_note(runtime, patient, "named")
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("export", "fetch", note.job_id, "--output", out)
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["Note für Dr. Ö.txt"]
    assert (out / "Note für Dr. Ö.txt").read_bytes() == b"named"


def test_a_failed_job_exits_1_and_writes_nothing(
    runtime: Runtime, patient: Patient, run_cli: RunCli, tmp_path: Path
) -> None:
    note = request_note(runtime, patient, "never", fail=True)
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("export", "fetch", note.job_id, "-o", out / "never.txt")
    assert result.exit_code == 1
    assert "asked to fail" in result.output
    assert list(out.iterdir()) == []


def test_an_unknown_job_exits_2(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("export", "fetch", uuid.uuid4(), "-o", tmp_path / "x")
    assert result.exit_code == 2
    assert "No job with this id" in result.output
