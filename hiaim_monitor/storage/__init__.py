"""The session store: every sample, beat, event and interval result of every session, in
SQLite (the default, in the user data directory) or PostgreSQL (``--db URL``), one schema
migrated by Alembic.

    db = open_database(url)                      # creates and migrates as needed
    stored = start_session(db, protocol, participants, started_utc=clock.now_utc())
    writer = SessionWriter(db, stored)           # its own thread; submit_* never block
    writer.submit_samples([...]); writer.submit_beats([...]); writer.submit_event(...)
    writer.close(); finish_session(db, stored.session_id)
"""

from hiaim_monitor.storage.database import (
    Database,
    StorageError,
    default_sqlite_path,
    open_database,
    upgrade,
)
from hiaim_monitor.storage.records import AdherenceRecord, BeatRecord, EventRecord, SampleRecord
from hiaim_monitor.storage.schema import EventKind, SessionStatus
from hiaim_monitor.storage.sessions import (
    StoredSession,
    finish_session,
    start_session,
    stored_protocol,
)
from hiaim_monitor.storage.status import StorageState, WriterStatus
from hiaim_monitor.storage.writer import SessionWriter

__all__ = [
    "AdherenceRecord",
    "BeatRecord",
    "Database",
    "EventKind",
    "EventRecord",
    "SampleRecord",
    "SessionStatus",
    "SessionWriter",
    "StorageError",
    "StorageState",
    "StoredSession",
    "WriterStatus",
    "default_sqlite_path",
    "finish_session",
    "open_database",
    "start_session",
    "stored_protocol",
    "upgrade",
]
