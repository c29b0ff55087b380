"""On SQLite a read transaction neither holds nor waits for the write lock, and what a read must
write (`write_after_read`) commits in one short write transaction right after it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ortholens.kit.db import (
    is_read_transaction,
    make_engine,
    make_session_factory,
    outside_transaction,
    transaction,
    write_after_read,
)

COUNT = sa.text("SELECT count(*) FROM notes")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "concurrency.db"


@pytest.fixture
def factory(db_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body TEXT NOT NULL)")
        conn.exec_driver_sql("INSERT INTO notes (body) VALUES ('first')")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def other(db_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection that never waits for a lock: it fails at once where it would queue."""
    conn = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    yield conn
    conn.close()


def count(session: Session) -> int:
    return int(session.execute(COUNT).scalar_one())


def add_note(body: str) -> Callable[[Session], None]:
    def write(session: Session) -> None:
        session.execute(sa.text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})

    return write


def bodies(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT body FROM notes ORDER BY rowid")]


def test_another_connection_commits_a_write_while_a_read_is_open(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    with transaction(factory, read=True) as reader:
        assert count(reader) == 1
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO notes (body) VALUES ('second')")
        other.execute("COMMIT")
        assert count(reader) == 1  # the read keeps its snapshot
    assert bodies(other) == ["first", "second"]


def test_a_read_runs_while_another_connection_holds_the_write_lock(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('uncommitted')")
    with transaction(factory, read=True) as reader:
        assert count(reader) == 1
    other.execute("COMMIT")


def test_a_write_transaction_still_takes_the_lock_at_begin(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    with transaction(factory) as writer:
        assert count(writer) == 1
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")


def test_writes_queued_by_a_read_commit_in_order_when_it_ends(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    with transaction(factory, read=True) as reader:
        assert is_read_transaction(reader)
        write_after_read(reader, add_note("second"))
        write_after_read(reader, add_note("third"))
        assert bodies(other) == ["first"]
        # Queued, not pending: the read itself still holds no lock.
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    assert bodies(other) == ["first", "second", "third"]


def test_a_read_that_rolls_back_drops_its_queued_writes(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    def fail_after_queueing() -> None:
        with transaction(factory, read=True) as reader:
            write_after_read(reader, add_note("second"))
            raise LookupError

    with pytest.raises(LookupError):
        fail_after_queueing()
    assert bodies(other) == ["first"]


def test_outside_transaction_commits_the_queued_writes_and_the_read_goes_on(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    with transaction(factory, read=True) as reader:
        write_after_read(reader, add_note("second"))
        with outside_transaction(reader):
            assert bodies(other) == ["first", "second"]
        assert count(reader) == 2
        assert is_read_transaction(reader)
        other.execute("BEGIN IMMEDIATE")  # the new transaction is a read again
        other.execute("ROLLBACK")


def test_in_a_write_transaction_the_write_runs_now_and_rolls_back_with_it(
    factory: sessionmaker[Session], other: sqlite3.Connection
) -> None:
    def fail_after_writing() -> None:
        with transaction(factory) as writer:
            assert not is_read_transaction(writer)
            write_after_read(writer, add_note("second"))
            assert count(writer) == 2
            raise LookupError

    with pytest.raises(LookupError):
        fail_after_writing()
    assert bodies(other) == ["first"]
