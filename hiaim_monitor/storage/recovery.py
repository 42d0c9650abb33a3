"""Crash recovery: sessions this machine left ``running`` are found at the next start, marked
interrupted, and then resumed (same session, a recorded gap) or closed at their last data.

Only sessions started on this host are touched: with a central database, a session running
at another site is alive, not crashed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor.storage.database import Database, StorageError, storage_errors
from hiaim_monitor.storage.schema import (
    EventKind,
    EventRow,
    SampleRow,
    SessionParticipantRow,
    SessionRow,
    SessionStatus,
)
from hiaim_monitor.storage.sessions import StoredSession, session_participant_ids


@dataclass(frozen=True, slots=True)
class UnfinishedSession:
    session_id: int
    status: SessionStatus  # running (not yet marked) or interrupted
    protocol_key: str
    operator: str
    site: str
    started_utc: datetime
    last_sample_t_s: float | None  # session clock; None: nothing was stored
    last_sample_utc: datetime | None
    participants: int


def find_unfinished(db: Database, *, host: str | None = None) -> list[UnfinishedSession]:
    """Sessions of ``host`` (None: this machine) that are running or interrupted, oldest
    first."""
    host = socket.gethostname() if host is None else host
    with storage_errors(db), db.session() as s:
        rows = s.scalars(
            sa.select(SessionRow)
            .where(SessionRow.host == host,
                   SessionRow.status.in_([SessionStatus.RUNNING, SessionStatus.INTERRUPTED]))
            .order_by(SessionRow.started_utc)).all()
        out = []
        for row in rows:
            last = _last_sample(s, row.id)
            count = s.scalar(sa.select(sa.func.count()).select_from(SessionParticipantRow)
                             .where(SessionParticipantRow.session_id == row.id))
            out.append(UnfinishedSession(
                row.id, row.status, row.protocol_key, row.operator, row.site, row.started_utc,
                last[0] if last else None, last[1] if last else None, count or 0))
        return out


def mark_interrupted(db: Database, session_ids: Iterable[int]) -> int:
    """Mark sessions that are still ``running`` as interrupted; returns how many were."""
    ids = list(session_ids)
    if not ids:
        return 0
    with storage_errors(db), db.session() as s, s.begin():
        result = s.execute(
            sa.update(SessionRow)
            .where(SessionRow.id.in_(ids), SessionRow.status == SessionStatus.RUNNING)
            .values(status=SessionStatus.INTERRUPTED))
        return result.rowcount


def recover_at_start(db: Database, *, host: str | None = None) -> list[UnfinishedSession]:
    """The start-up check: mark what this machine left running as interrupted and return
    every interrupted session, for the operator to resume or close."""
    unfinished = find_unfinished(db, host=host)
    mark_interrupted(db, (u.session_id for u in unfinished
                          if u.status is SessionStatus.RUNNING))
    return [replace(u, status=SessionStatus.INTERRUPTED) for u in unfinished]


def resume(db: Database, session_id: int, *, now_utc: datetime | None = None) -> StoredSession:
    """Carry on with an interrupted session: the same id, running again, and a 'gap' event
    from the last stored sample to now, so nobody mistakes the gap for missing data."""
    now_utc = now_utc or datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        row = _unfinished(s, db, session_id)
        last_t_s, last_utc = _last_sample(s, session_id) or (0.0, row.started_utc)
        until_t_s = (now_utc - row.started_utc).total_seconds()
        s.add(EventRow(
            session_id=session_id, session_participant_id=None, t_s=last_t_s,
            wall_utc=last_utc, kind=EventKind.GAP,
            detail={"until_t_s": until_t_s, "until_utc": now_utc.isoformat(),
                    "duration_s": until_t_s - last_t_s,
                    "cause": "the app stopped without closing the session"}))
        row.status = SessionStatus.RUNNING
        row.ended_utc = None
        return StoredSession(session_id, row.started_utc, session_participant_ids(s, session_id))


def close(db: Database, session_id: int) -> datetime:
    """Finish an interrupted session at the time of its last stored sample (its start when
    nothing was stored); returns that end time."""
    with storage_errors(db), db.session() as s, s.begin():
        row = _unfinished(s, db, session_id)
        last = _last_sample(s, session_id)
        row.status = SessionStatus.FINISHED
        row.ended_utc = last[1] if last else row.started_utc
        return row.ended_utc


def _unfinished(s: Session, db: Database, session_id: int) -> SessionRow:
    row = s.get(SessionRow, session_id, with_for_update=True)
    if row is None:
        raise StorageError(f"There is no session {session_id} in {db.name}.")
    if row.status is SessionStatus.FINISHED:
        raise StorageError(f"Session {session_id} is already finished; there is nothing to "
                           "resume or close.")
    return row


def _last_sample(s: Session, session_id: int) -> tuple[float, datetime] | None:
    row = s.execute(
        sa.select(SampleRow.t_s, SampleRow.wall_utc)
        .join(SessionParticipantRow,
              SessionParticipantRow.id == SampleRow.session_participant_id)
        .where(SessionParticipantRow.session_id == session_id)
        .order_by(SampleRow.t_s.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None

