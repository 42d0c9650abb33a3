"""The session's sign of life in the database: its writer stamps ``heartbeat_utc`` with
every commit, and an idle writer stamps it on its own every ``HEARTBEAT_EVERY_S``, so
another process can tell a session still being recorded from one whose recorder is gone
(``recovery`` judges the stamp).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import sqlalchemy as sa

from hiaim_monitor import config
from hiaim_monitor.storage.schema import SessionRow


def stamp_heartbeat(conn: sa.Connection, session_id: int, now_utc: datetime) -> None:
    """The session is being recorded, as of ``now_utc``."""
    conn.execute(sa.update(SessionRow).where(SessionRow.id == session_id)
                 .values(heartbeat_utc=now_utc))


def beat(engine: sa.Engine, session_id: int) -> None:
    """Stamp the session in a transaction of its own, without rows."""
    with engine.begin() as conn:
        stamp_heartbeat(conn, session_id, datetime.now(UTC))


class Heartbeat:
    """When an idle writer owes its session a stamp: ``every_s`` after its last commit."""

    def __init__(self, every_s: float = config.HEARTBEAT_EVERY_S) -> None:
        self.every_s = every_s
        self._last_commit_s = time.monotonic()

    def committed(self) -> None:
        """A transaction that stamped the session has just committed."""
        self._last_commit_s = time.monotonic()

    def due(self) -> bool:
        return time.monotonic() - self._last_commit_s >= self.every_s
