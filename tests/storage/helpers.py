"""Shared pieces of the storage tests: the two backends, a roster, a quick writer, a live
session that records, an exported CSV file's rows."""

from __future__ import annotations

import contextlib
import csv
import queue
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrmax import estimate_hrmax, measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import SourceEvent
from hiaim_monitor.session import LiveSession
from hiaim_monitor.storage import Database, SessionWriter, StoredSession, start_session
from tests.pg import PostgresServer

BUSY_TIMEOUT_S = 0.2  # a locked SQLite file fails fast in tests
START_UTC = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Backend:
    name: str
    url: str
    server: PostgresServer | None = None
    sqlite_path: Path | None = None

    @contextlib.contextmanager
    def unwritable(self) -> Iterator[None]:
        """The database cannot be written inside the block: SQLite is locked by another
        connection; the PostgreSQL server is stopped (and started again after)."""
        if self.server is not None:
            self.server.stop()
            try:
                yield
            finally:
                self.server.start()
            return
        assert self.sqlite_path is not None
        other = sqlite3.connect(self.sqlite_path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()


def roster(n: int) -> list[Participant]:
    """``n`` participants, half with a measured HRmax."""
    return [
        Participant(
            study_code=f"HIAIM-{i:03d}", display_name=f"P{i}", strap_id=f"STRAP-{i:03d}",
            hrmax=measured_hrmax(170 + i % 20) if i % 2 else estimate_hrmax(55 + i % 15),
            beta_blocker=i % 7 == 0, resting_bpm=60.0 + i % 10)
        for i in range(1, n + 1)
    ]


def fast_writer(db: Database, session: StoredSession, **kwargs: object) -> SessionWriter:
    """A writer that flushes and retries quickly, so tests do not wait on real seconds."""
    options: dict[str, object] = {"flush_interval_s": 0.05, "retry_first_s": 0.05,
                                  "retry_max_s": 0.2}
    options.update(kwargs)
    return SessionWriter(db, session, **options)  # type: ignore[arg-type]


def live_recording(db: Database, protocol: TrainingProtocol, people: list[Participant],
                   clock: SimulatedClock, *, started_utc: datetime | None = None,
                   ) -> tuple[RecordedSession, SessionWriter, StoredSession,
                              queue.SimpleQueue[SourceEvent]]:
    """A new stored session recorded live from session time 0, through a writer that
    flushes every 0.05 s; also the queue its straps' events go into."""
    stored = start_session(db, protocol, people,
                           started_utc=clock.now_utc() if started_utc is None else started_utc)
    writer = SessionWriter(db, stored, flush_interval_s=0.05)
    events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
    session = LiveSession(protocol, people, clock, events, start_mono_s=0.0)
    return RecordedSession(db, session, writer, stored), writer, stored, events


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of an exported CSV file, by column name."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def dead_pid() -> int:
    """The id of a process that has ended (a session whose recorder was killed)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def as_crashed(db: Database, session_id: int) -> None:
    """The session's recorder died long ago: its process is gone, its heartbeat old."""
    import sqlalchemy as sa

    from hiaim_monitor.storage.schema import SessionRow

    with db.session() as s, s.begin():
        s.execute(sa.update(SessionRow).where(SessionRow.id == session_id)
                  .values(pid=dead_pid(), heartbeat_utc=START_UTC))
