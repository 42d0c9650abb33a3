"""Storage tests run against real databases: a temporary SQLite file, and a throwaway
PostgreSQL server that this suite starts itself (see tests/pg.py). Every test parametrised
with ``backend`` runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import Database, StoredSession, open_database, start_session
from tests.pg import PostgresServer, check_can_run
from tests.storage.helpers import BUSY_TIMEOUT_S, START_UTC, Backend, roster
from tests.storage.recorded import Recorded, record_session


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    check_can_run()
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        yield Backend("sqlite", f"sqlite:///{path}", sqlite_path=path)
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        yield Backend("postgresql", server.url(name), server=server)
    finally:
        server.drop_database(name)


@pytest.fixture
def db(backend: Backend) -> Iterator[Database]:
    database = open_database(backend.url, busy_timeout_s=BUSY_TIMEOUT_S)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def stored(db: Database) -> StoredSession:
    """A running session with three participants."""
    return start_session(db, load_protocol("hi-aim"), roster(3), started_utc=START_UTC,
                         operator="physio", site="Herlev", host="test-host")


@pytest.fixture
def recorded(db: Database) -> Recorded:
    """A finished session of three participants, with a few of each kind of trouble
    (tests/storage/recorded.py)."""
    return record_session(db)
