"""A throwaway PostgreSQL server for tests, from Debian's server binaries.

``PostgresServer.start()`` runs ``initdb`` and ``pg_ctl`` in a fresh temporary directory, on
a free loopback port, with durability switched off (a test database need not survive a power
cut). PostgreSQL refuses to run as root, so under root the server runs as the ``postgres``
user (``runuser``) and owns its directory. ``stop()`` and ``start()`` again simulate a server
that goes away and comes back; ``remove()`` deletes everything. Where the server cannot run,
``check_can_run()`` skips the test, and under CI (``CI=true``) fails it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.conftest import cannot_run

INSTALL_HINT = ("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); "
                "install them with `apt-get install postgresql`")
SERVER_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The bin directory of the newest PostgreSQL server installed, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why a test server cannot run here, or None when it can."""
    if find_bin_dir() is None:
        return INSTALL_HINT
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return (f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL "
                    "as; install the server with `apt-get install postgresql`")
        if shutil.which("runuser") is None:
            return "running as root and `runuser` (util-linux) is missing"
    return None


def check_can_run() -> None:
    """Skip a test that needs the server when it cannot run here; under CI, fail it."""
    reason = unavailable_reason()
    if reason:
        cannot_run(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError(INSTALL_HINT)
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        # Not under pytest's tmp_path: that is private to root, and the server user must
        # be able to reach its own directory.
        self.root = Path(tempfile.mkdtemp(prefix="hiaim-pg-"))
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.user = SERVER_USER
        if self.as_root:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        self._databases = 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}{result.stderr}{log}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", self.user, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")

    def start(self) -> None:
        # A zone far from UTC, so tests see that time stamps come back as UTC anyway.
        options = (f"-p {self.port} -h {self.host} -k {self.root} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off "
                   "-c timezone=America/New_York")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
                  "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               dbname="postgres", autocommit=True)

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        self._databases += 1
        name = f"hiaim_test_{self._databases}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
