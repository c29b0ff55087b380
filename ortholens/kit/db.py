"""Database plumbing: engines for SQLite (embedded) and PostgreSQL (scaled), the declarative base
every model derives from, and the transaction scope used by jobs and the CLI.

Requests get their session from `ortholens.http.deps.SessionDep`; both paths share the rule that the
caller owning the session commits once at the end and services only `flush()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000

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


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN so two writers queue on busy_timeout instead of one failing
    # with "database is locked" when it upgrades a read transaction.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is disabled so that BEGIN IMMEDIATE is ours to issue.
        event.listen(
            engine, "connect", lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None)
        )
        event.listen(engine, "begin", _sqlite_begin_immediate)
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
    for action in session.info.pop(_ON_COMMIT, []):
        action()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
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
