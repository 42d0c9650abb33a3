"""Report tests run on a database of their own: SQLite, and for the programme report also
the throwaway PostgreSQL server of the storage tests (tests/pg.py)."""

from tests.storage.conftest import backend, db, pg_server  # noqa: F401
