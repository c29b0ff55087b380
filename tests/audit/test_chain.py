"""The audit chain holds, and `ortholens audit verify` catches each kind of tampering."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import Result
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.audit.chain import GENESIS_HASH
from ortholens.kit.db import transaction
from ortholens.models import ActorType, AuditEvent
from ortholens.runtime import Runtime

CLINIC = uuid.uuid4()


def write_events(runtime: Runtime, count: int, clinic_id: uuid.UUID = CLINIC) -> None:
    actor = audit.Actor(ActorType.USER, uuid.uuid4(), clinic_id)
    for i in range(count):
        with transaction(runtime.session_factory) as session:
            audit.record(
                session,
                actor,
                "patient.read",
                target_type="patient",
                target_id=uuid.uuid4(),
                details={"n": i},
            )


def verify(runtime: Runtime) -> audit.VerifyReport:
    with runtime.session_factory() as session:
        return audit.verify_all(session)


def tamper(runtime: Runtime, statement: str, **params: object) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_an_untouched_chain_verifies(runtime: Runtime) -> None:
    write_events(runtime, 5)
    write_events(runtime, 2, clinic_id=uuid.uuid4())
    report = verify(runtime)
    assert (report.chains, report.events, report.breaks) == (2, 7, [])
    with runtime.session_factory() as session:
        first = session.scalar(
            sa.select(AuditEvent).where(AuditEvent.seq == 1, AuditEvent.clinic_id == CLINIC)
        )
    assert first is not None and first.prev_hash == GENESIS_HASH


def test_an_edited_row_is_caught(runtime: Runtime) -> None:
    write_events(runtime, 5)
    tamper(runtime, "UPDATE audit_events SET action = 'patient.list' WHERE seq = 3")
    breaks = verify(runtime).breaks
    assert [(b.seq, b.reason) for b in breaks] == [(3, "its contents were changed")]


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(runtime: Runtime) -> None:
    write_events(runtime, 5)
    tamper(runtime, "UPDATE audit_events SET hash = :h WHERE seq = 3", h="f" * 64)
    seqs = {b.seq for b in verify(runtime).breaks}
    assert seqs == {3, 4}


def test_a_deleted_row_is_caught(runtime: Runtime) -> None:
    write_events(runtime, 5)
    tamper(runtime, "DELETE FROM audit_events WHERE seq = 2")
    breaks = verify(runtime).breaks
    assert breaks and breaks[0].seq == 3
    assert "missing" in breaks[0].reason


def test_reordered_rows_are_caught(runtime: Runtime) -> None:
    write_events(runtime, 5)
    tamper(runtime, "UPDATE audit_events SET seq = 100 WHERE seq = 2")
    tamper(runtime, "UPDATE audit_events SET seq = 2 WHERE seq = 4")
    tamper(runtime, "UPDATE audit_events SET seq = 4 WHERE seq = 100")
    assert verify(runtime).breaks


def test_concurrent_writers_keep_one_unbroken_chain(runtime: Runtime) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            write_events(runtime, 8)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    report = verify(runtime)
    assert (report.events, report.breaks) == (48, [])


def test_a_denied_attempt_is_recorded_even_though_the_request_rolls_back(runtime: Runtime) -> None:
    def failing(session: Session) -> None:
        audit.record_denied(
            session, audit.Actor(ActorType.USER, uuid.uuid4(), CLINIC), "patient.read"
        )
        raise PermissionError("refused")

    with pytest.raises(PermissionError), transaction(runtime.session_factory) as session:
        failing(session)
    with runtime.session_factory() as session:
        events = list(session.scalars(sa.select(AuditEvent)))
    assert [(e.action, e.outcome.value) for e in events] == [("patient.read", "denied")]


def test_cli_verify_reports_ok_then_tampering(
    runtime: Runtime, run_cli: Callable[..., Result]
) -> None:
    write_events(runtime, 3)
    ok = run_cli("audit", "verify")
    assert ok.exit_code == 0, ok.output
    assert "3 events in 1 chains" in ok.output
    tamper(runtime, "DELETE FROM audit_events WHERE seq = 2")
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1
    assert "tampered" in broken.output
