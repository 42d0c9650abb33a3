"""Opening the session store: the SQLite default in the user data directory, or the
database a URL names (``--db URL`` / ``HIAIM_DB_URL``), migrated to the newest schema.

Every failure a user can cause (a mistyped URL, a server that is down, a directory that
cannot be made) becomes one ``StorageError`` sentence that names the database with its
password hidden.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import platformdirs
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session, sessionmaker

from hiaim_monitor import config

APP_NAME: Final = config.APP_NAME
DB_URL_ENV: Final = "HIAIM_DB_URL"
DEFAULT_DB_FILENAME: Final = "sessions.sqlite3"
# Simulations record here, beside the real store and never in it: virtual participants
# must not join the trial's registry or its sessions.
SIMULATION_DB_FILENAME: Final = "simulations.sqlite3"
DB_FILE_MODE: Final = 0o600  # health data: readable by the user only
DB_DIR_MODE: Final = 0o700
# Execution option of an engine whose transactions write: on SQLite they take the write lock
# at BEGIN, so a locked database makes them wait the busy timeout (see _sqlite_engine).
WRITES: Final = "hiaim_writes"


class StorageError(Exception):
    """The session store cannot be used; the message is one sentence for the user."""


class Database:
    """An open session store: an engine on a migrated database."""

    def __init__(self, engine: Engine, *, notice: str = "") -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._writing = sessionmaker(engine.execution_options(**{WRITES: True}),
                                     expire_on_commit=False)
        # One sentence the user should see once (say, a file made private on opening).
        self.notice = notice

    @property
    def url(self) -> URL:
        """The database URL (with its password: never show it; see ``name``)."""
        return self.engine.url

    @property
    def name(self) -> str:
        """The database URL with its password hidden, for messages and logs."""
        return display_url(self.engine.url)

    def session(self) -> Session:
        """A new ORM session (use it in a ``with`` block)."""
        return self._sessions()

    def writing(self) -> Session:
        """A new ORM session for transactions that read and then write: on SQLite they take
        the write lock at BEGIN (so they wait, up to the busy timeout, for a session writer
        committing on its own thread, where a deferred one is refused at once with "database
        is locked"). Same engine and pool as ``session``."""
        return self._writing()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def resolve_url(url: str | None) -> str | None:
    """The URL to use: ``url`` if given, else ``HIAIM_DB_URL``, else None (the default)."""
    if url:
        return url
    return os.environ.get(DB_URL_ENV) or None


def default_sqlite_path() -> Path:
    """Where the embedded database lives unless a URL says otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / DEFAULT_DB_FILENAME


def simulation_sqlite_path() -> Path:
    """Where simulations record unless ``--db`` names a database."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / SIMULATION_DB_FILENAME


def check_lasting(url: str) -> None:
    """Raise ``StorageError`` (one sentence) when ``url`` is not a database URL, or names
    one that lives in memory only (a recorded session would be lost at exit)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or "mode=memory" in path or \
                parsed.query.get("mode") == "memory":
            raise StorageError(
                f"Cannot record into database {_hide_password(url)}: it lives in memory only, "
                "so the session would be lost at exit; give a file, e.g. "
                "sqlite:///path/sessions.sqlite3.")


def open_database(url: str | None = None, *,
                  busy_timeout_s: float = config.SQLITE_BUSY_TIMEOUT_S) -> Database:
    """Open (creating it if needed) and migrate the session store.

    ``url`` None means ``HIAIM_DB_URL`` when set, else SQLite in the user data directory.
    Raises ``StorageError`` with one sentence when the database cannot be used.
    """
    engine = create_engine(resolve_url(url), busy_timeout_s=busy_timeout_s)
    try:
        notice = make_sqlite_private(engine.url)
        _migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Database(engine, notice=notice)


def open_database_or_local(url: str | None = None, *,
                           local: Path | None = None) -> tuple[Database, str]:
    """Open the database ``url`` names (see ``open_database``). When that is a database
    server that cannot be reached, open the local SQLite file ``local`` (default: the
    embedded store) instead, so a class can still be recorded; the sentence returned then
    says so ("" otherwise). A URL that is wrong in itself (unknown kind, missing driver)
    is still an error."""
    engine = create_engine(resolve_url(url))
    is_server = engine.url.get_backend_name() != "sqlite"
    engine.dispose()
    try:
        return open_database(url), ""
    except StorageError as error:
        if not is_server:
            raise
        reason = str(error)
    local = local or default_sqlite_path()
    db = open_database(f"sqlite:///{local}")
    return db, (f"{reason} Recording on this computer instead, in {local}; the sessions stay "
                "there until they are copied to the central database.")


def upgrade(url: str | None = None) -> str:
    """Migrate the database ``url`` names (see ``open_database``) to the newest schema;
    for ``hiaim-monitor db upgrade``. Returns ``make_sqlite_private``'s sentence."""
    engine = create_engine(resolve_url(url))
    try:
        notice = make_sqlite_private(engine.url)
        _migrate(engine)
    finally:
        engine.dispose()
    return notice


def create_engine(url: str | None, *,
                  busy_timeout_s: float = config.SQLITE_BUSY_TIMEOUT_S) -> Engine:
    """An engine for ``url`` (None: the default SQLite file), set up for this app but not
    yet connected or migrated."""
    parsed = _parse(url) if url else URL.create("sqlite", database=str(default_sqlite_path()))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_s)
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            # SQLAlchemy's default PostgreSQL driver is psycopg2; this app ships psycopg 3.
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            timeout = {"connect_timeout": config.PG_CONNECT_TIMEOUT_S}
            return sa.create_engine(parsed, pool_pre_ping=True, connect_args=timeout)
        except (exc.NoSuchModuleError, ImportError):
            raise StorageError(
                f"Cannot open database {display_url(parsed)}: its driver is not installed "
                "(use postgresql+psycopg://).") from None
    raise StorageError(
        f"Cannot open database {display_url(parsed)}: {backend!r} databases are not "
        "supported (use sqlite:///path or postgresql+psycopg://user@host/name).")


def _parse(url: str) -> URL:
    try:
        parsed = sa.make_url(url)  # ValueError: a port that is not a number
    except (exc.ArgumentError, ValueError):
        raise StorageError(
            f"Cannot open database {_hide_password(url)!r}: it is not a database URL "
            "(expected sqlite:///path or postgresql+psycopg://user@host/name).") from None
    if parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql")
    if parsed.host and "@" in parsed.host:
        # Part of the password would be taken for the host, and shown in every message.
        raise StorageError(
            f"Cannot open database {_hide_password(url)!r}: its password contains '@'; "
            "write it as %40 in the URL.")
    if parsed.get_backend_name() == "sqlite" and parsed.query and "uri" not in parsed.query:
        # SQLAlchemy would drop them with a warning: say so instead.
        raise StorageError(
            f"Cannot open database {display_url(parsed)}: SQLite takes no options after '?' "
            "here (give sqlite:///path, or add uri=true for SQLite URI options).")
    return parsed


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    path = url.database
    if path and path != ":memory:" and not path.startswith("file:"):
        _create_private_file(Path(path).expanduser(), url)
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_s})
    busy_timeout_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides where transactions begin: the module's
        # legacy mode would run migrations' DDL outside their transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers (exports, the registry) never block the session writer.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # In WAL mode NORMAL survives an app crash; only a power cut can cost the
            # last commits, and a crash may lose about a second anyway.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads and then writes cannot wait for the lock: when
        # another connection writes meanwhile, SQLite answers "database is locked" at once
        # (its snapshot is stale), busy timeout or not. A writer therefore locks up front.
        writes = connection.get_execution_options().get(WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _create_private_file(path: Path, url: URL) -> None:
    """Make the database file (and its directory) readable by the user only, before SQLite
    creates it with the default umask; SQLite gives its -wal and -shm files the same mode."""
    try:
        path.parent.mkdir(mode=DB_DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, DB_FILE_MODE)
        os.close(fd)
    except OSError as error:
        raise StorageError(
            f"Cannot create database {display_url(url)}: {error.strerror.lower()} "
            f"({error.filename}).") from None


def make_sqlite_private(url: URL) -> str:
    """Make an existing SQLite file that other users can read (made by an older version, or
    copied with cp) readable by its owner only, and its -wal and -shm files with it: they
    hold the newest rows. Returns the one sentence to tell the user, "" when there was
    nothing to do. Nothing to do for a server database: its server guards the data."""
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:" \
            or path.startswith("file:"):
        return ""
    db_file = Path(path).expanduser()
    loose = []
    for candidate in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except OSError:
            continue  # not there (yet): SQLite makes it with the database file's mode
        if mode & 0o077:
            loose.append((candidate, mode))
    if not loose:
        return ""
    modes = ", ".join(f"{p.name} {m:04o}" for p, m in loose)
    try:
        for candidate, _mode in loose:
            os.chmod(candidate, DB_FILE_MODE)
    except OSError as error:
        return (f"The database {db_file} can be read by other users ({modes}) and could not "
                f"be made private ({(error.strerror or str(error)).lower()}); ask its owner "
                f"to run `chmod 600 {db_file}*`.")
    return (f"The database {db_file} could be read by other users ({modes}); it is now "
            f"readable by you only ({DB_FILE_MODE:04o}).")


def _migrate(engine: Engine) -> None:
    # Imported here: Alembic is needed to open a database, not to import the package.
    from hiaim_monitor.storage.migrate import upgrade_to_head

    try:
        with engine.begin() as connection:
            upgrade_to_head(connection)
    except exc.SQLAlchemyError as error:
        raise StorageError(explain(error, display_url(engine.url), opening=True)) from None


@contextlib.contextmanager
def storage_errors(db: Database) -> Iterator[None]:
    """Turn a database failure inside the block into one ``StorageError`` sentence."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        raise StorageError(explain(error, db.name)) from None


def display_url(url: URL | str) -> str:
    """``url`` as text with the password replaced by ***: the one after the user name, and
    a ``password=`` in the query (libpq takes one there too)."""
    if isinstance(url, str):
        return _hide_password(url)
    return _hide_password(url.render_as_string(hide_password=True))


# user:PASSWORD@ up to the last "@": a password with an "@" not written as %40 leaves its
# tail in what a URL parser takes for the host.
_PASSWORD_IN_AUTHORITY: Final = re.compile(r"(://[^:/@]*:)[^\s]*@")
_PASSWORD_IN_QUERY: Final = re.compile(r"([?&]password=)[^&\s]*", re.IGNORECASE)


def _hide_password(text: str) -> str:
    text = _PASSWORD_IN_AUTHORITY.sub(r"\1***@", text)
    return _PASSWORD_IN_QUERY.sub(r"\1***", text)


def explain(error: BaseException, name: str, *, opening: bool = False) -> str:
    """One sentence for ``error`` on database ``name``: what failed, and what to do."""
    detail = error_detail(error)
    low = detail.lower()
    if "database is locked" in low or "database table is locked" in low:
        return f"The database {name} is locked by another program; close it or wait."
    if "readonly database" in low or "read-only" in low:
        return f"The database {name} is read-only; check the file's permissions."
    if "disk is full" in low or "no space left" in low:
        return f"The disk holding the database {name} is full; free some space."
    if "unable to open database file" in low:
        return f"Cannot open the database {name}; check the path and its permissions."
    if "permission denied" in low or "insufficient privilege" in low:
        return f"The database {name} refused access ({detail})."
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        verb = "connect to" if opening else "write to"
        return (f"Cannot {verb} the database {name} ({detail}); check that the server is "
                "running and the URL is right.")
    return f"The database {name} failed ({detail})."


def error_detail(error: BaseException) -> str:
    """The driver's own first line for ``error`` (without SQL, DSN or password)."""
    error = getattr(error, "orig", None) or error
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    # psycopg says which address it tried before the reason; the URL already says where.
    line = _hide_password(line).rsplit("failed: ", 1)[-1]
    return line.strip().rstrip(".")
