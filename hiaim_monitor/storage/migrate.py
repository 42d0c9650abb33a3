"""Alembic, configured in code: the migrations ship inside the package, so no alembic.ini is
needed where the app runs."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for the shipped migrations; env.py runs them on
    ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: sa.Connection) -> None:
    """Apply every migration the database has not had yet (none: nothing happens)."""
    command.upgrade(alembic_config(connection), "head")


def head_revision() -> str:
    """The newest schema revision shipped with this version of the app."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The schema revision of the database ``connection`` is on; None before the first."""
    return MigrationContext.configure(connection).get_current_revision()
