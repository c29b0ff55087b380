"""Apply and check schema migrations from code (`ortholens migrate`, start-up checks, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from ortholens.kit.errors import ConfigurationError

SCRIPT_LOCATION = str(Path(__file__).parent)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    """The newest migration in the code."""
    script = ScriptDirectory(SCRIPT_LOCATION)
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def ensure_up_to_date(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not at the code's head."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise ConfigurationError(
            f"The database is {state} but this version of OrthoLens needs revision {head}. "
            "Run `ortholens migrate` first."
        )
