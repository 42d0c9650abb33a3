"""Rows the database could not take before the app ended, kept in a local file and stored at
the next start: recorded rows are never thrown away.

A spill file holds a writer's backlog exactly as the writer would have stored it, with the
writer's id and sequence numbers, and how the session ended. Storing it goes through the
same idempotent transactions as the live writer (see ``batch``), so rows that reached the
database after all, or a replay cut short, are never stored twice. The file is removed once
its rows and the session's end are in the database it names.

Files live in the user data directory, readable by the user only (health data). They are
pickles: written and read only by this app, in the user's own directory.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import platformdirs
from sqlalchemy import exc
from sqlalchemy.orm import Session

from hiaim_monitor import config
from hiaim_monitor.storage.batch import is_bad_row, store_rows
from hiaim_monitor.storage.database import (
    APP_NAME,
    DB_DIR_MODE,
    DB_FILE_MODE,
    WRITES,
    Database,
    StorageError,
    storage_errors,
)
from hiaim_monitor.storage.ending import Backlog
from hiaim_monitor.storage.schema import SessionRow, SessionStatus
from hiaim_monitor.storage.sessions import StoredSession, apply_end

log = logging.getLogger(__name__)

FORMAT: Final = "hiaim-monitor spill 1"
SUFFIX: Final = ".spill"


def spill_dir() -> Path:
    """Where spill files wait for their database."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "unsaved"


def write_spill(db: Database, stored: StoredSession, backlog: Backlog,
                directory: Path | None = None) -> Path:
    """Keep ``backlog`` in a new file; returns its path. OSError when it cannot be written."""
    directory = directory or spill_dir()
    directory.mkdir(mode=DB_DIR_MODE, parents=True, exist_ok=True)
    path = directory / f"session-{stored.session_id}-{backlog.writer_id}{SUFFIX}"
    payload = {"format": FORMAT, "db": db.name, "session_id": stored.session_id,
               "started_utc": stored.started_utc, "host": socket.gethostname(),
               "writer_id": backlog.writer_id, "start_seq": backlog.start_seq,
               "rows": backlog.rows, "end": backlog.end}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, DB_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)  # a crash while writing leaves the .tmp, never half a spill file
    return path


@dataclass(frozen=True, slots=True)
class Replayed:
    session_id: int
    rows: int
    path: Path  # removed now
    finished: bool  # the session was marked finished as it ended


def replay_spills(db: Database, directory: Path | None = None,
                  problems: list[str] | None = None) -> list[Replayed]:
    """Store every spill file that belongs to ``db`` and remove it. Files of other databases
    are left for them; a file that cannot be stored stays, and the sentence saying why is
    appended to ``problems`` (or raised as StorageError when that is None)."""
    directory = directory or spill_dir()
    if not directory.is_dir():
        return []
    done = []
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        payload = _load(path)
        if payload is None or payload["db"] != db.name:
            continue
        try:
            done.append(_replay(db, path, payload))
        except StorageError as error:
            if problems is None:
                raise
            problems.append(str(error))
    return done


def pending_spills(directory: Path | None = None) -> list[Path]:
    """Spill files still waiting (for any database)."""
    directory = directory or spill_dir()
    return sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []


def _load(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            payload = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as error:
        log.error("The spill file %s cannot be read (%s); it is left as it is.", path, error)
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        log.error("%s is not a spill file of this app; it is left as it is.", path)
        return None
    return payload


def _replay(db: Database, path: Path, p: dict[str, Any]) -> Replayed:
    session_id = p["session_id"]
    engine = db.engine.execution_options(**{WRITES: True})
    with storage_errors(db), Session(engine) as s:
        row = s.get(SessionRow, session_id)
        if row is None or row.started_utc != p["started_utc"]:
            raise StorageError(
                f"The spill file {path} belongs to session {session_id} of {db.name}, but that "
                "database has no such session (was it replaced?); the file is kept.")
        already_finished = row.status is SessionStatus.FINISHED
    rows = p["rows"]
    with storage_errors(db):
        for first in range(0, len(rows), config.WRITER_BATCH_ROWS):
            chunk = rows[first:first + config.WRITER_BATCH_ROWS]
            args = (p["writer_id"], session_id, chunk, p["start_seq"] + first)
            try:
                with engine.begin() as conn:
                    store_rows(conn, *args, row_by_row=False, heartbeat=False)
            except exc.SQLAlchemyError as error:
                if not is_bad_row(error):
                    raise
                with engine.begin() as conn:
                    for kind, bad, why in store_rows(conn, *args, row_by_row=True,
                                                     heartbeat=False):
                        log.error("A row of kind %d from %s was refused (%s): %r", kind, path,
                                  why, bad)
        end = p["end"]
        if end is not None and not already_finished:
            with Session(engine) as s, s.begin():
                apply_end(db, s, session_id, end)
    path.unlink()
    return Replayed(session_id, sum(1 for _, r in rows if r), path,
                    end is not None or already_finished)

