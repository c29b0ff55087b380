"""The main list queries read their rows in order from an index (ARCHITECTURE.md, issue 25).

Each query is built as its repository builds it and explained on every backend: on SQLite with
`EXPLAIN QUERY PLAN` (the expected index searched, no `USE TEMP B-TREE`), on PostgreSQL with
`EXPLAIN (FORMAT JSON)` and `enable_seqscan`, `enable_bitmapscan`, `enable_sort` off locally, so the plan shows whether an index
can serve the filter and the order (the expected index scanned, no Sort node). The statement is
captured where it reaches the driver, with its parameters, so what is explained is what runs.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ortholens.audit import repository as audit_repository
from ortholens.image import repository as image_repository
from ortholens.job import repository as job_repository
from ortholens.kit.db import transaction, utcnow
from ortholens.kit.jobs import Job, JobStatus
from ortholens.messaging import repository as messaging_repository
from ortholens.models import (
    ActorType,
    AuditEvent,
    AuditOutcome,
    FileType,
    Image,
    ImageSource,
    ImageStatus,
    Message,
    MessageThread,
    Patient,
    ScanSession,
    ScanSessionStatus,
    SenderType,
)
from ortholens.patient import repository as patient_repository
from ortholens.review import repository as review_repository
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient

ROWS = 300  # enough rows per table that a full scan and a sort would cost the planner something


@dataclass(frozen=True)
class Seeded:
    clinic_id: uuid.UUID
    patient_id: uuid.UUID
    thread_id: uuid.UUID


@dataclass(frozen=True)
class ListQuery:
    name: str
    table: str
    index: str
    run: Callable[[Session, Seeded], object]
    # A list without a filter walks its whole index in order (SQLite: SCAN, not SEARCH).
    filtered: bool = True
    # SQLite names the index of a UNIQUE constraint itself (sqlite_autoindex_<table>_<n>).
    sqlite_index: str | None = None


def _seed(runtime: Runtime) -> Seeded:
    """A clinic with ROWS of each listed thing, spread over time, most of them for one patient."""
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    start = utcnow() - timedelta(days=ROWS)
    with transaction(runtime.session_factory) as session:
        others = [
            Patient(clinic_id=clinic.id, first_name=f"First{n:03}", last_name=f"Last{n % 37:02}")
            for n in range(ROWS)
        ]
        session.add_all(others)
        thread = MessageThread(clinic_id=clinic.id, patient_id=patient.id, subject="Aligners")
        session.add(thread)
        session.flush()
        for n in range(ROWS):
            at = start + timedelta(hours=n)
            session.add_all(
                [
                    Image(
                        clinic_id=clinic.id,
                        patient_id=patient.id,
                        file_type=FileType.PHOTO,
                        source=ImageSource.UPLOAD,
                        status=ImageStatus.READY,
                        original_key=f"{clinic.id}/{patient.id}/photo/{uuid.uuid4()}/original.jpg",
                        created_at=at,
                        updated_at=at,
                    ),
                    ScanSession(
                        clinic_id=clinic.id,
                        patient_id=others[n].id,
                        # As in a running clinic: most sessions reviewed, a tenth waiting. With
                        # a third pending the planner may take either ordered index by a hair.
                        status=ScanSessionStatus.PENDING
                        if n % 10 == 0
                        else ScanSessionStatus.REVIEWED,
                        image_count=n % 4,
                        created_at=at,
                        updated_at=at,
                    ),
                    MessageThread(
                        clinic_id=clinic.id,
                        patient_id=others[n].id,
                        subject=f"Thread {n}",
                        created_at=at,
                        updated_at=at,
                    ),
                    Message(
                        clinic_id=clinic.id,
                        thread_id=thread.id,
                        sender_type=SenderType.PATIENT if n % 2 else SenderType.DOCTOR,
                        content=f"Message {n}",
                        created_at=at,
                        updated_at=at,
                    ),
                    AuditEvent(
                        chain=f"plan-test-{clinic.id}",
                        seq=n + 1,
                        at=at,
                        clinic_id=clinic.id,
                        actor_type=ActorType.SYSTEM,
                        action="image.list",
                        outcome=AuditOutcome.SUCCESS,
                        details={},
                        prev_hash=f"{n:064x}",
                        hash=f"{clinic.id.hex}{n:032x}",
                    ),
                    Job(
                        name="image.process",
                        clinic_id=clinic.id,
                        status=JobStatus.SUCCEEDED if n % 5 else JobStatus.QUEUED,
                        created_at=at,
                        updated_at=at,
                    ),
                ]
            )
    return Seeded(clinic_id=clinic.id, patient_id=patient.id, thread_id=thread.id)


PAGE = 30
LIST_QUERIES = [
    ListQuery(
        "gallery page (GET /api/patients/{id}/images, the staff gallery page)",
        "images",
        "ix_images_patient_created",
        lambda s, seeded: s.scalars(
            image_repository.gallery_query(
                seeded.patient_id, image_repository.GalleryFilter(), after=None
            ).limit(PAGE)
        ).all(),
    ),
    ListQuery(
        "gallery next page (keyset cursor)",
        "images",
        "ix_images_patient_created",
        lambda s, seeded: s.scalars(
            image_repository.gallery_query(
                seeded.patient_id,
                image_repository.GalleryFilter(file_type=FileType.PHOTO),
                after=(utcnow() - timedelta(days=3), uuid.uuid4()),
            ).limit(PAGE)
        ).all(),
    ),
    ListQuery(
        "review queue (GET /api/scans/sessions?status=PENDING)",
        "scan_sessions",
        "ix_scan_sessions_clinic_status_created",
        lambda s, seeded: s.execute(
            review_repository.queue_query(
                seeded.clinic_id,
                status=ScanSessionStatus.PENDING,
                patient_id=None,
                after=(utcnow() - timedelta(days=ROWS), uuid.uuid4()),
                limit=PAGE,
            )
        ).all(),
    ),
    ListQuery(
        "all check-ins (GET /api/scans/sessions)",
        "scan_sessions",
        "ix_scan_sessions_clinic_created",
        lambda s, seeded: s.execute(
            review_repository.queue_query(
                seeded.clinic_id, status=None, patient_id=None, after=None, limit=PAGE
            )
        ).all(),
    ),
    ListQuery(
        "message threads of a clinic (GET /api/messaging/threads)",
        "message_threads",
        "ix_message_threads_clinic_updated",
        lambda s, seeded: s.scalars(
            messaging_repository.threads_query(
                clinic_id=seeded.clinic_id, after=(utcnow(), uuid.uuid4())
            )
        ).all(),
    ),
    ListQuery(
        "message threads of a patient (GET /api/patient/messages)",
        "message_threads",
        "ix_message_threads_patient_updated",
        lambda s, seeded: s.scalars(
            messaging_repository.threads_query(
                patient_id=seeded.patient_id, after=(utcnow(), uuid.uuid4()), limit=PAGE
            )
        ).all(),
    ),
    ListQuery(
        "messages of a thread (GET /api/messaging/threads/{id})",
        "messages",
        "ix_messages_thread_created",
        lambda s, seeded: s.scalars(
            messaging_repository.messages_query(
                seeded.thread_id, after=(utcnow() - timedelta(days=ROWS), uuid.uuid4()), limit=PAGE
            )
        ).all(),
    ),
    ListQuery(
        "latest messages (dashboard feed)",
        "messages",
        "ix_messages_clinic_created",
        lambda s, seeded: s.scalars(
            messaging_repository.recent_messages_query(seeded.clinic_id, 10)
        ).all(),
    ),
    ListQuery(
        "audit trail (GET /api/audit/events, the audit trail page)",
        "audit_events",
        "ix_audit_events_clinic_seq",
        lambda s, seeded: audit_repository.list_events(
            s, clinic_id=seeded.clinic_id, before_seq=ROWS // 2, limit=PAGE
        ),
    ),
    ListQuery(
        "last link of an audit chain (every append, once per chain per batch)",
        "audit_events",
        "uq_audit_events_chain_seq",
        lambda s, seeded: audit_repository.last_link(s, f"plan-test-{seeded.clinic_id}"),
        sqlite_index="sqlite_autoindex_audit_events_2",  # UNIQUE (chain, seq), the second one
    ),
    ListQuery(
        "jobs list (ortholens jobs list)",
        "jobs",
        "ix_jobs_created",
        lambda s, seeded: s.scalars(job_repository.jobs_query(limit=PAGE)).all(),
        filtered=False,
    ),
    ListQuery(
        "jobs list of one status (ortholens jobs list --status queued)",
        "jobs",
        "ix_jobs_status_created",
        lambda s, seeded: s.scalars(
            job_repository.jobs_query(status=JobStatus.QUEUED, limit=PAGE)
        ).all(),
    ),
    ListQuery(
        "patients list (GET /api/patients)",
        "patients",
        "ix_patients_clinic_name",
        lambda s, seeded: s.scalars(
            patient_repository.patients_query(
                patient_repository.PatientFilter(clinic_scope=seeded.clinic_id),
                after=("last10", "first010", uuid.uuid4()),
                limit=PAGE,
            )
        ).all(),
    ),
]


@contextmanager
def _captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements the session sends to the driver meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _sqlite_problems(session: Session, sql: str, params: Any, query: ListQuery) -> list[str]:
    rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    details = [str(row[3]) for row in rows]
    problems = [d for d in details if "TEMP B-TREE" in d]
    access = "SEARCH" if query.filtered else "SCAN"
    index = query.sqlite_index or query.index
    if not any(
        d.startswith(f"{access} {query.table} USING") and f"INDEX {index} " in f"{d} "
        for d in details
    ):
        problems.append(f"no {access} of {query.table} USING INDEX {index}")
    return problems


def _pg_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _pg_nodes(child)


def _pg_problems(session: Session, sql: str, params: Any, query: ListQuery) -> list[str]:
    connection = session.connection()
    # Fresh statistics, as autovacuum keeps them: without them the planner guesses a few rows.
    connection.exec_driver_sql(f"ANALYZE {query.table}")
    # Local to this transaction: the planner takes a plain index scan whenever one can serve the
    # query (a bitmap scan returns rows out of order, so it would hide a missing ordered index).
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    # On a few hundred rows a sort is nearly free, so the planner may sort rather than walk an
    # ordered index; with sorting priced out it walks the index if, and only if, one serves the order.
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    raw = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params).scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = list(_pg_nodes(plan))
    problems = [f"{n['Node Type']} node" for n in nodes if "Sort" in n["Node Type"]]
    if not any(
        n.get("Relation Name") == query.table and n.get("Index Name") == query.index for n in nodes
    ):
        problems.append(f"no scan of {query.table} using {query.index}")
    return problems


def test_main_list_queries_read_in_index_order(runtime: Runtime) -> None:
    seeded = _seed(runtime)
    failures: list[str] = []
    for query in LIST_QUERIES:
        with transaction(runtime.session_factory) as session:
            with _captured(session) as statements:
                query.run(session, seeded)
            assert len(statements) == 1, f"{query.name}: expected one SELECT, saw {statements}"
            sql, params = statements[0]
            dialect = session.get_bind().dialect.name
            explain = _pg_problems if dialect == "postgresql" else _sqlite_problems
            problems = explain(session, sql, params, query)
            if problems:
                plan = _plan_text(session, sql, params, dialect)
                failures.append(f"{query.name} on {dialect}: {'; '.join(problems)}\n{sql}\n{plan}")
    assert not failures, "\n\n".join(failures)


def _plan_text(session: Session, sql: str, params: Any, dialect: str) -> str:
    prefix = "EXPLAIN" if dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    rows = session.connection().exec_driver_sql(f"{prefix} {sql}", params).all()
    return "\n".join(" ".join(str(cell) for cell in row) for row in rows)
