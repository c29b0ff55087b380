"""SQLite write transactions of one process queue on an in-process lock: a writer that meets
another waits for its commit (or rollback) in-process, never in SQLite's busy handler."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ortholens.kit.db import make_engine

JOIN_TIMEOUT_S = 30.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body TEXT NOT NULL)")
    yield engine
    engine.dispose()


def impatient(conn: Connection) -> Connection:
    """`conn` with SQLite's busy timeout at 0: were it to meet SQLite's lock, it fails at once."""
    conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
    return conn


def bodies(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.text("SELECT body FROM notes ORDER BY rowid")))


def write_in_thread(engine: Engine, body: str, errors: list[BaseException]) -> threading.Thread:
    def write() -> None:
        try:
            with impatient(engine.connect()) as conn, conn.begin():
                conn.execute(sa.text("INSERT INTO notes VALUES (:b)"), {"b": body})
        except BaseException as error:  # reported by the test
            errors.append(error)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_second_writer_waits_in_process_for_the_first_to_end(engine: Engine, end: str) -> None:
    errors: list[BaseException] = []
    with engine.connect() as first:
        transaction = first.begin()
        first.execute(sa.text("INSERT INTO notes VALUES ('first')"))
        second = write_in_thread(engine, "second", errors)
        second.join(0.5)
        assert second.is_alive(), "the second writer did not wait for the first"
        transaction.commit() if end == "commit" else transaction.rollback()
    second.join(JOIN_TIMEOUT_S)
    assert not second.is_alive()
    # With a busy timeout of 0 the second writer would have failed with "database is locked"
    # had it reached SQLite's lock while the first still held it.
    assert errors == []
    assert bodies(engine) == (["first", "second"] if end == "commit" else ["second"])


def test_many_writers_at_once_all_commit_with_no_busy_wait(engine: Engine) -> None:
    errors: list[BaseException] = []
    threads = [write_in_thread(engine, f"note {n}", errors) for n in range(12)]
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    assert errors == []
    assert sorted(bodies(engine)) == sorted(f"note {n}" for n in range(12))


def test_a_failed_write_releases_the_queue(engine: Engine) -> None:
    with pytest.raises(sa.exc.OperationalError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))
    errors: list[BaseException] = []
    write_in_thread(engine, "after", errors).join(JOIN_TIMEOUT_S)
    assert errors == []
    assert bodies(engine) == ["after"]


def test_readers_do_not_take_the_write_queue(engine: Engine) -> None:
    errors: list[BaseException] = []
    with engine.connect() as writer:
        transaction = writer.begin()
        writer.execute(sa.text("INSERT INTO notes VALUES ('pending')"))
        with engine.connect().execution_options(ortholens_read=True) as reader:
            # A deferred read beside the open write: it sees the committed state only.
            assert list(reader.scalars(sa.text("SELECT body FROM notes"))) == []
        transaction.commit()
    write_in_thread(engine, "next", errors).join(JOIN_TIMEOUT_S)
    assert errors == []
