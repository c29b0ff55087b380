"""Parallel clients doing audited reads and writes at once leave every audit chain whole: each
read has its event, and the clinic's chain has no gap, duplicate or broken link. Reads' events go
through the group commit (`audit.writer`), in batches, and a read answers only once its batch
committed."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from ortholens.app import create_app
from ortholens.audit import repository
from ortholens.audit import service as audit
from ortholens.audit.chain import GENESIS_HASH
from ortholens.audit.writer import writer_for
from ortholens.kit.db import make_engine, make_session_factory, transaction
from ortholens.models import ActorType, AuditEvent, Clinic
from ortholens.runtime import Runtime
from tests.factories import create_patient
from tests.threaded_server import serve_in_thread

CLIENTS = 6
ROUNDS = 8
JOIN_TIMEOUT_S = 120.0


def run_in_parallel(work: Callable[[int], None], count: int) -> list[BaseException]:
    """Run `work(0..count-1)` in threads started together; the errors they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in threads), "a client did not finish"
    return errors


def chain_events(runtime: Runtime, clinic_id: uuid.UUID) -> list[AuditEvent]:
    with runtime.session_factory() as session:
        return list(
            session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.chain == audit.chain_for(clinic_id))
                .order_by(AuditEvent.seq)
            )
        )


def assert_chain_whole(runtime: Runtime, clinic_id: uuid.UUID) -> list[AuditEvent]:
    events = chain_events(runtime, clinic_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.prev_hash for e in events] == [GENESIS_HASH, *(e.hash for e in events[:-1])]
    assert [e.at for e in events] == sorted(e.at for e in events)
    with runtime.session_factory() as session:
        assert audit.verify_all(session).breaks == []
    return events


@pytest.fixture
def served(runtime: Runtime) -> Iterator[str]:
    with serve_in_thread(create_app(runtime), name="audit-chain-server") as url:
        yield url


def test_parallel_clients_reading_and_writing_keep_the_chain_whole(
    runtime: Runtime, clinic: Clinic, doctor_headers: dict[str, str], served: str
) -> None:
    patients = [create_patient(runtime, clinic) for _ in range(CLIENTS)]
    answers: list[tuple[int, int]] = []

    def client(n: int) -> None:
        patient = patients[n]
        with httpx.Client(base_url=served, headers=doctor_headers, timeout=60) as http:
            for round_ in range(ROUNDS):
                read = http.get(f"/api/patients/{patient.id}")
                write = http.patch(
                    f"/api/patients/{patient.id}", json={"firstName": f"Pat{round_}"}
                )
                answers.append((read.status_code, write.status_code))

    assert run_in_parallel(client, CLIENTS) == []
    assert answers == [(200, 200)] * (CLIENTS * ROUNDS)
    events = assert_chain_whole(runtime, clinic.id)
    per_patient = {p.id: ROUNDS for p in patients}
    assert Counter(e.target_id for e in events if e.action == "patient.read") == per_patient
    assert Counter(e.target_id for e in events if e.action == "patient.update") == per_patient


def test_reads_and_writes_appending_in_parallel_link_in_one_order(runtime: Runtime) -> None:
    clinic_id = uuid.uuid4()
    actor = audit.Actor(ActorType.USER, uuid.uuid4(), clinic_id)

    def appender(n: int) -> None:
        for round_ in range(ROUNDS):
            # Half the appends come from read transactions (queued until the read ends), half
            # from write transactions (in the transaction itself), interleaved across threads.
            with transaction(runtime.session_factory, read=(n + round_) % 2 == 0) as session:
                audit.record(session, actor, "patient.read", details={"n": n, "round": round_})

    assert run_in_parallel(appender, CLIENTS) == []
    events = assert_chain_whole(runtime, clinic_id)
    assert sorted((e.details["n"], e.details["round"]) for e in events) == [
        (n, r) for n in range(CLIENTS) for r in range(ROUNDS)
    ]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_reads_queued_behind_a_held_chain_are_appended_in_one_batch(runtime: Runtime) -> None:
    clinic_id = uuid.uuid4()
    actor = audit.Actor(ActorType.USER, uuid.uuid4(), clinic_id)
    writer = writer_for(runtime.session_factory)
    finished: list[int] = []

    def reader(n: int) -> None:
        with transaction(runtime.session_factory, read=True) as session:
            audit.record(session, actor, "image.view", details={"n": n})
            audit.record(session, actor, "image.view", details={"n": n, "second": True})
        finished.append(n)  # only once the batch holding this read's events committed

    # A write transaction holding the chain's lock (on SQLite, the write lock) stalls the first
    # reader's batch; every other reader queues its events for the next one meanwhile.
    with transaction(runtime.session_factory) as holder:
        repository.lock_chain(holder, audit.chain_for(clinic_id))
        repository.last_link(holder, audit.chain_for(clinic_id))  # SQLite: BEGIN IMMEDIATE now
        threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        wait_until(lambda: writer.queued() == 2 * (CLIENTS - 1), "the other readers queued")
        assert finished == [], "a read answered before its audit events were stored"
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    assert sorted(finished) == list(range(CLIENTS))
    events = assert_chain_whole(runtime, clinic_id)
    assert len(events) == 2 * CLIENTS
    # One batch for the first reader, one for the five queued behind it: a batch takes its time
    # once per chain under the lock, so the events carry two distinct times.
    assert len({e.at for e in events}) == 2
    # Each read's two events stay in the order it recorded them.
    for n in range(CLIENTS):
        mine = [e for e in events if e.details["n"] == n]
        assert [e.seq for e in mine] == [mine[0].seq, mine[0].seq + 1]
        assert "second" in mine[1].details


def test_processes_with_writers_of_their_own_keep_one_chain(runtime: Runtime) -> None:
    """Two session factories on two engines stand for two server processes on one database:
    each has its own group commit, and the chain's lock orders their batches."""
    clinic_id = uuid.uuid4()
    actor = audit.Actor(ActorType.USER, uuid.uuid4(), clinic_id)
    second_engine = make_engine(runtime.settings.resolved_database_url)
    factories = [runtime.session_factory, make_session_factory(second_engine)]

    def client(n: int) -> None:
        factory = factories[n % 2]
        for round_ in range(ROUNDS):
            with transaction(factory, read=round_ % 3 != 0) as session:
                audit.record(session, actor, "patient.read", details={"n": n, "round": round_})

    try:
        assert run_in_parallel(client, CLIENTS) == []
    finally:
        second_engine.dispose()
    events = assert_chain_whole(runtime, clinic_id)
    assert sorted((e.details["n"], e.details["round"]) for e in events) == [
        (n, r) for n in range(CLIENTS) for r in range(ROUNDS)
    ]


def test_a_read_whose_audit_events_fail_to_commit_does_not_answer(
    client: TestClient,
    runtime: Runtime,
    clinic: Clinic,
    doctor_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient = create_patient(runtime, clinic, first_name="Unseen")
    before = len(chain_events(runtime, clinic.id))

    def failing_insert(session: Session, rows: list[dict[str, object]]) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(repository, "insert_events", failing_insert)
    answer = client.get(f"/api/patients/{patient.id}", headers=doctor_headers)
    assert answer.status_code == 500
    assert "Unseen" not in answer.text
    monkeypatch.undo()
    assert len(chain_events(runtime, clinic.id)) == before
    # The writer is not left stuck: the next read is recorded and answers.
    again = client.get(f"/api/patients/{patient.id}", headers=doctor_headers)
    assert again.status_code == 200
    assert chain_events(runtime, clinic.id)[-1].action == "patient.read"
