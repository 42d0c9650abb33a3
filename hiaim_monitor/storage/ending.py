"""How a session writer ends. ``close`` gives it until a deadline to write what it holds.
``finish`` hands it how the session ended and returns at once: the writer goes on until the
backlog is written and then marks the session finished, however long the database takes.
If the process must end first, ``abandon`` stops it, and what was not stored becomes a
``Backlog`` for a spill file (see ``spill``).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor.storage.batch import Converted
from hiaim_monitor.storage.database import Database
from hiaim_monitor.storage.sessions import SessionEnd, apply_end


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a writer still holds, for a spill file: rows as they would be stored, with the
    sequence number of the first, and how the session ended (None: not yet)."""

    writer_id: str
    session_id: int
    start_seq: int
    rows: Converted
    end: SessionEnd | None


class Ending:
    """Where a writer is in ending. Not locked itself: the writer calls it with its own lock
    held (``done`` may be read and waited for without)."""

    def __init__(self) -> None:
        self.closed = False  # no more rows; the thread stops once done or past the deadline
        self.deadline_s = 0.0  # time.monotonic() when a closed writer stops trying
        self.end: SessionEnd | None = None  # set by finish(): mark the session finished
        self.abandoned = False
        self.done = threading.Event()  # closed, everything written (and the end marked)

    def close(self, timeout_s: float) -> None:
        """Stop within ``timeout_s`` (from the first call)."""
        if not self.closed:
            self.closed = True
            self.deadline_s = time.monotonic() + timeout_s

    def finish(self, end: SessionEnd) -> None:
        """Mark the session finished as ``end`` says once the backlog is written, however
        long that takes."""
        if self.closed:
            raise RuntimeError("the session writer was closed before the session ended")
        self.closed = True
        self.end = end
        self.deadline_s = math.inf

    def amend(self, end: SessionEnd) -> bool:
        """Replace ``end`` while it is not stored yet; False when it is (or was never set)."""
        if self.end is None or self.done.is_set():
            return False
        self.end = end
        return True

    def abandon(self) -> None:
        """Stop at once, written or not."""
        self.closed = True
        self.abandoned = True

    def end_unstored(self) -> SessionEnd | None:
        """How the session ended, if it is not in the database yet (None: not ended, or
        stored)."""
        return None if self.done.is_set() else self.end


def write_end(engine: sa.Engine, db: Database, session_id: int, end: SessionEnd) -> None:
    """Mark the session finished as ``end`` says, in a transaction of its own."""
    with Session(engine) as s, s.begin():
        apply_end(db, s, session_id, end)
