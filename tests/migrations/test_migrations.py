"""Migrations run on every backend, match the models, and can be walked down and up again."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ortholens.kit.db import Base, make_engine
from ortholens.kit.errors import ConfigurationError
from ortholens.migrations.runner import (
    current_revision,
    downgrade,
    ensure_up_to_date,
    head_revision,
    upgrade,
)
from tests.backends import DATABASE_BACKENDS, postgres_database


@pytest.fixture(params=DATABASE_BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        with postgres_database() as url:
            yield url


def test_upgrade_builds_the_schema_of_the_models(empty_database: str) -> None:
    engine = make_engine(empty_database)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        drift = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert drift == [], f"models and migrations disagree: {drift}"
    engine.dispose()


def test_downgrade_to_base_and_up_again(empty_database: str) -> None:
    engine = make_engine(empty_database)
    upgrade(engine)
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_unmigrated_database_is_refused_with_a_clear_message(empty_database: str) -> None:
    engine = make_engine(empty_database)
    with pytest.raises(ConfigurationError, match="Run `ortholens migrate`"):
        ensure_up_to_date(engine)
    upgrade(engine)
    ensure_up_to_date(engine)
    engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_foreign_keys_are_enforced(database_url: str) -> None:
    from ortholens.models import Patient

    engine = make_engine(database_url)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.insert(Patient).values(
                id=uuid.uuid4(), clinic_id=uuid.uuid4(), first_name="A", last_name="B"
            )
        )
    engine.dispose()
