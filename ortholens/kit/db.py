"""Database plumbing: engines for SQLite (embedded) and PostgreSQL (scaled), the declarative base
every model derives from, and the transaction scope used by jobs, the CLI and requests.

Requests get their session from `ortholens.http.deps.SessionDep`; both paths share the rule that the
caller owning the session commits once at the end and services only `flush()`.

Two kinds of transaction: a write transaction (the default) takes SQLite's write lock at BEGIN, so
writers queue on the busy timeout rather than fail; a read transaction (`transaction(read=True)`,
a GET request) begins deferred, so WAL readers never wait for each other or for the writer. SQLite
cannot safely turn a read into a write (the upgrade fails at once with SQLITE_BUSY or
SQLITE_BUSY_SNAPSHOT when another writer is busy or has committed since the read began), so what a
read must still write (its audit events) goes through `write_after_read` into one short write
transaction when the read commits, or through `after_read_commit` to a writer of the caller's
(the audit log's group commit).

Within one process, SQLite write transactions queue on an in-process lock (`_SqliteWriteLock`)
before BEGIN IMMEDIATE: a waiter wakes the moment the writer before it commits, instead of polling
in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms between tries (the latency steps of issue
25). Other processes (a CLI import, a second server) still meet on SQLite's own lock.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000

log = structlog.get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind of datetime we store)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text, so we normalise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The execution option that marks a read transaction's connection (set by `transaction(read=True)`).
_READ_OPTION = "ortholens_read"


_HOLDS_WRITE_LOCK = "ortholens.holds_write_lock"


class _SqliteWriteLock:
    """One engine's in-process queue of SQLite write transactions, held from BEGIN to its end.

    Taken and released through the connection events below, so it covers every write
    transaction on the engine (requests, jobs, the audit writer) and nothing else. A plain lock,
    not an RLock: a request's transaction may begin on one threadpool thread and end on another.
    A wait longer than the busy timeout goes on to SQLite's busy handler, as before this lock (so
    code that nests two write transactions in one thread is slow, as it was, but not stuck).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn: Any) -> None:
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            log.warning("db.sqlite_write_lock_timeout")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        conn.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(conn)
            raise

    def end(self, conn: Any, statement: str) -> None:
        # The transaction is ended here, before the lock is released, so the next writer never
        # meets SQLite's lock still held (the dialect's own commit or rollback is then a no-op).
        if not conn.info.get(_HOLDS_WRITE_LOCK):
            return
        try:
            dbapi_connection = conn.connection.dbapi_connection
            if dbapi_connection.in_transaction:
                dbapi_connection.execute(statement)
        finally:
            self._release(conn)

    def _release(self, conn: Any) -> None:
        conn.info.pop(_HOLDS_WRITE_LOCK, None)
        self._lock.release()


def _sqlite_begin(write_lock: _SqliteWriteLock) -> Callable[[Any], None]:
    def begin(conn: Any) -> None:
        # A write transaction takes the write lock at BEGIN so two writers queue instead of one
        # failing with "database is locked" when it upgrades a read transaction; a read
        # transaction stays deferred and so never holds the lock (WAL readers take none).
        if conn.get_execution_options().get(_READ_OPTION, False):
            conn.exec_driver_sql("BEGIN")
        else:
            write_lock.begin(conn)

    return begin


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is disabled so that BEGIN is ours to issue.
        event.listen(
            engine, "connect", lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None)
        )
        write_lock = _SqliteWriteLock()
        event.listen(engine, "begin", _sqlite_begin(write_lock))
        event.listen(engine, "commit", lambda conn: write_lock.end(conn, "COMMIT"))
        event.listen(engine, "rollback", lambda conn: write_lock.end(conn, "ROLLBACK"))
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_session_factory(engine: Engine, **info: Any) -> sessionmaker[Session]:
    """Sessions bound to `engine`; `info` is copied into every session (e.g. the job queue)."""
    return sessionmaker(engine, expire_on_commit=False, info=info)


_ON_ROLLBACK = "ortholens.on_rollback"


def defer_on_rollback(session: Session, write: Callable[[Session], None]) -> None:
    """Run `write` in a fresh transaction if `session`'s transaction ends in a rollback.

    For records that must outlive the failure they describe: the audit event of a denied attempt,
    the failure count of a refused sign-in. Only `transaction()` honours this.
    """
    session.info.setdefault(_ON_ROLLBACK, []).append(write)


_ON_COMMIT = "ortholens.on_commit"


def defer_on_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once `session`'s transaction has committed (never if it rolls back).

    For side effects outside the database that must not happen unless the rows did: deleting an
    object the committed rows no longer refer to.
    """
    session.info.setdefault(_ON_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    # A committed transaction did not roll back: its `defer_on_rollback` writes are moot (this
    # matters when `outside_transaction` commits part-way through the owner's scope).
    session.info.pop(_ON_ROLLBACK, None)
    for action in session.info.pop(_ON_COMMIT, []):
        action()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)
    session.info.pop(_AFTER_READ, None)
    session.info.pop(_AFTER_READ_COMMIT, None)


_READ_FACTORY = "ortholens.read_factory"
_AFTER_READ = "ortholens.after_read"
_AFTER_READ_COMMIT = "ortholens.after_read_commit"


def is_read_transaction(session: Session) -> bool:
    """True when `session` comes from `transaction(read=True)`."""
    return _READ_FACTORY in session.info


def write_after_read(session: Session, write: Callable[[Session], None]) -> None:
    """Run `write` in `session`'s transaction now, or, in a read transaction, once the read commits.

    A read transaction's writes run in the order asked, in one short write transaction right after
    the read commits and before its owner's block returns (so before a request answers: nothing a
    client saw goes unrecorded). A read that rolls back drops them, as a rollback drops writes.
    """
    if is_read_transaction(session):
        session.info.setdefault(_AFTER_READ, []).append(write)
    else:
        write(session)


def after_read_commit(
    session: Session, action: Callable[[sessionmaker[Session], list[Any]], None]
) -> list[Any]:
    """In a read transaction, the list of items `action` will get: once the read commits, before
    its owner's block returns (so before a request answers), `action(factory, items)` is called
    once with everything appended to the list meanwhile; it writes through `factory` as it sees
    fit.

    For a writer that batches many requests' writes in one transaction of its own (the audit
    log's group commit). An exception it raises fails the request like a failed commit. A read
    that rolls back drops the list. Only for read transactions (see `is_read_transaction`).
    """
    if not is_read_transaction(session):
        raise RuntimeError("after_read_commit outside a read transaction")
    pending: dict[Callable[[sessionmaker[Session], list[Any]], None], list[Any]]
    pending = session.info.setdefault(_AFTER_READ_COMMIT, {})
    return pending.setdefault(action, [])


STRICT_READS_KEY = "ortholens.strict_reads"


def _warn_write_in_read(session: Session) -> None:
    # On SQLite the upgrade to a write fails at once under a concurrent writer (no busy wait);
    # such a request belongs in a write transaction (see `ortholens.http.deps.writes`).
    if session.info.get(STRICT_READS_KEY):
        raise RuntimeError("a write inside a read transaction: mark the GET endpoint @writes")
    if session.get_bind().dialect.name == "sqlite":
        log.warning("db.write_in_read_transaction")


@event.listens_for(Session, "before_flush")
def _check_flush(session: Session, _context: Any, _instances: Any) -> None:
    if is_read_transaction(session) and (session.new or session.dirty or session.deleted):
        _warn_write_in_read(session)


@event.listens_for(Session, "do_orm_execute")
def _check_execute(state: ORMExecuteState) -> None:
    if is_read_transaction(state.session) and (
        state.is_insert or state.is_update or state.is_delete
    ):
        _warn_write_in_read(state.session)


def _commit(session: Session) -> None:
    # The read's own transaction ends first, so the queued writes hold the write lock (or, on
    # PostgreSQL, a chain's advisory lock) only for as long as they take.
    session.commit()
    pending: dict[Callable[[sessionmaker[Session], list[Any]], None], list[Any]]
    pending = session.info.pop(_AFTER_READ_COMMIT, {})
    for action, items in pending.items():
        if items:
            action(session.info[_READ_FACTORY], items)
    writes: list[Callable[[Session], None]] = session.info.pop(_AFTER_READ, [])
    if writes:
        with transaction(session.info[_READ_FACTORY]) as after:
            for write in writes:
                write(after)


@contextmanager
def transaction(factory: sessionmaker[Session], *, read: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    `read=True` makes it a read transaction: deferred on SQLite, so it neither holds nor waits for
    the write lock; what it must write goes through `write_after_read`.
    """
    session = factory(execution_options={_READ_OPTION: True}) if read else factory()
    if read:
        session.info[_READ_FACTORY] = factory
    try:
        yield session
        _commit(session)
    except BaseException:
        session.rollback()
        deferred: list[Callable[[Session], None]] = session.info.pop(_ON_ROLLBACK, [])
        if deferred:
            with transaction(factory) as after:
                for write in deferred:
                    write(after)
        raise
    finally:
        session.info.pop(_ON_ROLLBACK, None)
        session.close()


@contextmanager
def outside_transaction(session: Session) -> Iterator[None]:
    """Commit what `session` has done so far, then run the block with no transaction open.

    Only for the owner of the session's transaction (an endpoint or page on the request's session,
    a flow it calls), before slow work that needs no database: an AI provider's answer, readiness
    checks on connections of their own. Nothing stays locked meanwhile (on SQLite a write
    transaction holds the write lock, so another writer, or the slow work itself, would wait for
    it), and what was done so far, such as an audited read, stays recorded if the slow work fails
    (a read transaction's queued writes run here too). The session begins a new transaction of
    the same kind on its next use, which the owner commits as usual.
    """
    _commit(session)
    yield


def ping(engine: Engine) -> None:
    """One round trip to the database on a connection of its own (raises if it does not answer)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
