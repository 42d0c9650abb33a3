"""Alembic environment for the session store.

Run by ``hiaim_monitor.storage.migrate`` with an open connection in
``config.attributes["connection"]``. A developer can also run the ``alembic`` command with an
ini file that sets ``script_location`` to this directory and ``sqlalchemy.url``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from hiaim_monitor.storage.schema import Base

# Any constant will do: two apps starting against one central PostgreSQL database must not
# both run the same migration.
_MIGRATION_LOCK_KEY = 0x48494149  # "HIAI"


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters a table by copying it
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK_KEY})
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("The session store is migrated online only: give a database URL.")

_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    _engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with _engine.begin() as _conn:
        _run(_conn)
    _engine.dispose()
