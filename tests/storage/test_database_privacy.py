"""Health data stay the user's: an SQLite file others could read is made private when it is
opened (and the user told, once), and a password given in a database URL never shows in a
message or the storage line."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from hiaim_monitor.admin import run_admin_command
from hiaim_monitor.storage import StorageError, open_database
from hiaim_monitor.storage.database import display_url, open_database_or_local
from tests.pg import PostgresServer
from tests.storage.recorded import admin_parser

SECRET = "s3cret-Pw"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_database_others_can_read_is_made_private_and_the_user_told_once(tmp_path, capsys):
    path = tmp_path / "old.sqlite3"
    with open_database(f"sqlite:///{path}"):
        pass
    # As an older version, or a cp under umask 022, leaves it: -wal and -shm there too
    # (they exist while a connection is open) and every file world-readable.
    holder = sqlite3.connect(path)
    try:
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("CREATE TABLE IF NOT EXISTS keep_wal_open (x)")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        for f in files:
            f.chmod(0o644)
        args = admin_parser().parse_args(["sessions", "list", "--db", f"sqlite:///{path}"])

        assert run_admin_command(args) == 0
        err = capsys.readouterr().err
        assert [_mode(f) for f in files] == [0o600, 0o600, 0o600]
        assert err.count("\n") == 1, err
        assert err.startswith(f"hiaim-monitor: warning: The database {path} could be read by "
                              "other users")
        assert "old.sqlite3 0644, old.sqlite3-wal 0644, old.sqlite3-shm 0644" in err
        assert err.rstrip().endswith("it is now readable by you only (0600).")

        assert run_admin_command(args) == 0
        assert capsys.readouterr().err == ""  # said once: there is nothing to say now
    finally:
        holder.close()


def test_a_private_or_group_shared_database_is_left_alone_unless_others_can_read(tmp_path):
    path = tmp_path / "private.sqlite3"
    with open_database(f"sqlite:///{path}") as db:
        assert db.notice == ""
    assert _mode(path) == 0o600
    path.chmod(0o640)  # group-readable is readable by others than the user: tightened too
    with open_database(f"sqlite:///{path}") as db:
        assert "private.sqlite3 0640" in db.notice
    assert _mode(path) == 0o600


def test_db_upgrade_makes_a_readable_database_private_too(tmp_path, capsys):
    path = tmp_path / "old.sqlite3"
    with open_database(f"sqlite:///{path}"):
        pass
    path.chmod(0o604)
    args = admin_parser().parse_args(["db", "upgrade", "--db", f"sqlite:///{path}"])
    assert run_admin_command(args) == 0
    assert _mode(path) == 0o600
    assert "warning: The database" in capsys.readouterr().err


@pytest.mark.parametrize(("url", "shown"), [
    (f"postgresql://alice@127.0.0.1:1/trial?password={SECRET}",
     "postgresql+psycopg://alice@127.0.0.1:1/trial?password=***"),
    (f"postgresql://alice:{SECRET}@127.0.0.1:1/trial?sslmode=disable&password=other",
     "postgresql+psycopg://alice:***@127.0.0.1:1/trial?password=***&sslmode=disable"),
    ("postgresql://alice:s3c@ret-Pw@127.0.0.1:1/trial",
     "'postgresql://alice:***@127.0.0.1:1/trial': its password contains '@'"),
])
def test_a_password_anywhere_in_the_url_never_shows_in_an_error(url, shown):
    with pytest.raises(StorageError) as caught:
        open_database(url)
    message = str(caught.value)
    assert shown in message
    assert SECRET not in message and "other" not in message and "ret-Pw" not in message
    assert display_url(url).count("***") >= 1 and SECRET not in display_url(url)


def test_the_storage_line_of_a_fallback_hides_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    db, notice = open_database_or_local(
        f"postgresql://alice:{SECRET}@127.0.0.1:1/trial?password={SECRET}")
    try:
        assert "Recording on this computer instead" in notice
        assert SECRET not in notice and "alice:***@" in notice
    finally:
        db.close()


def test_a_password_given_to_a_real_server_is_hidden_in_names_and_errors(
        pg_server: PostgresServer, capsys):
    # The test server trusts every local user, so any password is accepted.
    name = pg_server.create_database()
    url = sa.make_url(pg_server.url(name)).set(password=SECRET).render_as_string(
        hide_password=False)
    assert SECRET in url
    try:
        with open_database(url) as db:
            assert SECRET not in db.name and "***" in db.name
        args = admin_parser().parse_args(["sessions", "show", "999", "--db", url])
        assert run_admin_command(args) == 2
        err = capsys.readouterr().err
        assert "There is no session 999 in postgresql+psycopg://" in err
        assert SECRET not in err
    finally:
        pg_server.drop_database(name)


def test_the_monitor_says_once_that_it_made_its_database_private(tmp_path):
    path = tmp_path / "monitor.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hiaim_monitor", "--simulate", "1",
                               "--headless", "--speed", "20", "--duration", "5",
                               "--db", f"sqlite:///{path}"],
                              capture_output=True, text=True, timeout=120, env=env)

    assert run().returncode == 0
    path.chmod(0o644)
    first = run()
    assert first.returncode == 0, first.stderr
    assert f"hiaim-monitor: warning: The database {path} could be read by other users" \
        in first.stderr
    assert _mode(path) == 0o600
    second = run()
    assert second.returncode == 0 and "could be read by other users" not in second.stderr
