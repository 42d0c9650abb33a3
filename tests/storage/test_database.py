"""Opening the store: the default file, URLs, errors a user can cause, time stamps."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import StorageError, open_database, start_session
from hiaim_monitor.storage.database import DB_URL_ENV, default_sqlite_path
from hiaim_monitor.storage.migrate import current_revision, head_revision
from hiaim_monitor.storage.schema import SampleRow, SessionRow
from tests.pg import PostgresServer
from tests.storage.helpers import Backend, roster


def _one_sentence(message: str) -> bool:
    body = message.rstrip(".")
    return "\n" not in message and message.endswith(".") and ". " not in body


def test_default_database_is_created_private_in_a_missing_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "not" / "yet"))
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    path = default_sqlite_path()
    assert path.is_relative_to(tmp_path / "not" / "yet") and not path.parent.exists()

    with open_database(None) as db:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
            assert current_revision(conn) == head_revision()
        assert db.url.database == str(path)
        # SQLite gives its side files the database file's mode: private too.
        for side in path.parent.glob(f"{path.name}-*"):
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_url_from_the_environment_is_used_when_none_is_given(tmp_path, monkeypatch):
    path = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv(DB_URL_ENV, f"sqlite:///{path}")
    with open_database(None) as db:
        assert db.url.database == str(path)
    assert path.exists()


@pytest.mark.parametrize(("url", "names"), [
    ("not a url", "'not a url'"),
    ("mysql://alice:s3cret@db.example/trial", "mysql://alice:***@db.example/trial"),
    ("postgresql+psycopg://alice:s3cret@127.0.0.1:1/trial",
     "postgresql+psycopg://alice:***@127.0.0.1:1/trial"),
    ("postgresql://alice:s3cret@127.0.0.1:1/trial",
     "postgresql+psycopg://alice:***@127.0.0.1:1/trial"),
])
def test_bad_url_gives_one_sentence_naming_the_database(url, names):
    with pytest.raises(StorageError) as caught:
        open_database(url)
    message = str(caught.value)
    assert names in message
    assert "s3cret" not in message
    assert _one_sentence(message), message


def test_missing_postgres_database_is_named(pg_server: PostgresServer):
    url = pg_server.url("no_such_database")
    with pytest.raises(StorageError) as caught:
        open_database(url)
    message = str(caught.value)
    assert "no_such_database" in message and "does not exist" in message
    assert _one_sentence(message), message


def test_directory_that_cannot_be_made_is_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageError, match=r"^Cannot create database .*\.$"):
        open_database(f"sqlite:///{blocker}/sub/store.sqlite3")


def test_timestamps_round_trip_as_aware_utc(db, backend: Backend):
    copenhagen_summer = timezone(timedelta(hours=2))
    started = datetime(2026, 6, 1, 11, 30, 15, 123456, tzinfo=copenhagen_summer)
    stored = start_session(db, load_protocol("hi-aim"), roster(1), started_utc=started)
    with db.session() as s:
        row = s.get(SessionRow, stored.session_id)
        assert row is not None
        assert row.started_utc == started
        assert row.started_utc.utcoffset() == timedelta(0)
        assert row.started_utc.hour == 9
        raw = s.execute(sa.text("SELECT started_utc FROM sessions")).scalar_one()
        if backend.name == "sqlite":
            # SQLite has no zones: the text in the file must be UTC, not local time.
            assert str(raw).startswith("2026-06-01 09:30:15.123456")
        else:
            # The test server's zone is New York: the same instant, shown 4 h behind UTC.
            assert raw == started and raw.utcoffset() == timedelta(hours=-4)


def test_naive_time_is_refused(db):
    with pytest.raises(StorageError, match="naive datetime"):
        start_session(db, load_protocol("hi-aim"), roster(1),
                      started_utc=datetime(2026, 6, 1, 9, 30))
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(SampleRow)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(SessionRow)) == 0


def test_a_registry_write_takes_the_sqlite_write_lock_when_it_begins(tmp_path):
    """A registry or programme write reads, then writes. While the session writer commits on
    its own thread, a transaction that took SQLite's lock only at its first write would be
    refused at once ("database is locked", busy timeout or not); one from ``writing()``
    holds the lock from BEGIN, so a second writer has to wait for it instead."""
    import sqlite3

    path = tmp_path / "lock.sqlite3"
    with open_database(f"sqlite:///{path}") as db:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with db.writing() as s, s.begin():
                s.execute(sa.select(SessionRow.id)).all()  # a read only, so far
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            with db.session() as s, s.begin():  # a reader's transaction locks nothing
                s.execute(sa.select(SessionRow.id)).all()
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
        finally:
            other.close()
