"""Alembic environment: runs against the engine handed over by `migrations.runner`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

import ortholens.models
from ortholens.settings import get_settings

target_metadata = ortholens.models.Base.metadata


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine  # type: ignore[no-any-return]
    # Plain `alembic` command lines (developers): use the configured database.
    from ortholens.kit.db import make_engine

    return make_engine(get_settings().resolved_database_url)


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
