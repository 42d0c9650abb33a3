"""Crash recovery: sessions this machine left ``running`` are found at the next start, marked
interrupted, and then closed at their last data.

A session is only taken for dead when nobody records it: on this host, the process that
recorded it is gone; elsewhere, its writer's heartbeat is stale. Only sessions started on
this host are touched: with a central database, a session running at another site is not
ours.

An interrupted session is not resumed: going on recording into it would need its schedule,
its participants' straps and the engine's state back, and the time since the crash would
still be missing. Start a new session instead; the interrupted one keeps what it recorded.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor import config
from hiaim_monitor.storage.database import Database, StorageError, storage_errors
from hiaim_monitor.storage.schema import (
    SampleRow,
    SessionParticipantRow,
    SessionRow,
    SessionStatus,
)


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
    heartbeat_utc: datetime | None = None  # the writer's last sign of life


def heartbeat_fresh(heartbeat_utc: datetime | None, now_utc: datetime | None = None) -> bool:
    """True when a writer stamped the session recently enough to be still recording."""
    if heartbeat_utc is None:
        return False
    now_utc = now_utc or datetime.now(UTC)
    return now_utc - heartbeat_utc <= timedelta(seconds=config.HEARTBEAT_STALE_AFTER_S)


def process_alive(pid: int | None, heartbeat_utc: datetime | None) -> bool:
    """True when process ``pid`` of this host runs and may be the one whose last heartbeat
    was ``heartbeat_utc`` (a process started after it only reuses the number)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    started = _process_started_utc(pid)
    return started is None or heartbeat_utc is None or started <= heartbeat_utc + timedelta(
        seconds=1)  # the clock ticks of /proc are coarse


def _process_started_utc(pid: int) -> datetime | None:
    """When process ``pid`` started (Linux /proc); None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    # Field 22, counted after the command name, which may itself hold spaces or brackets.
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    seconds = int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    return datetime.fromtimestamp(seconds, UTC)


def is_recording(row: SessionRow, *, this_host: str | None = None,
                 now_utc: datetime | None = None) -> bool:
    """True when a running session is alive. On this host the process that records it
    decides (it goes on through a database outage that stops its heartbeat, and a killed
    one is dead at once); elsewhere only a fresh heartbeat says so."""
    if row.status is not SessionStatus.RUNNING:
        return False
    this_host = socket.gethostname() if this_host is None else this_host
    if row.host == this_host and row.pid is not None:
        return process_alive(row.pid, row.heartbeat_utc)
    return heartbeat_fresh(row.heartbeat_utc, now_utc)


def find_unfinished(db: Database, *, host: str | None = None,
                    now_utc: datetime | None = None) -> list[UnfinishedSession]:
    """Sessions of ``host`` (None: this machine) that are interrupted, or running while
    nobody records them, oldest first."""
    host = socket.gethostname() if host is None else host
    with storage_errors(db), db.session() as s:
        rows = s.scalars(
            sa.select(SessionRow)
            .where(SessionRow.host == host,
                   SessionRow.status.in_([SessionStatus.RUNNING, SessionStatus.INTERRUPTED]))
            .order_by(SessionRow.started_utc, SessionRow.id)).all()
        out = []
        for row in rows:
            if is_recording(row, this_host=host, now_utc=now_utc):
                continue
            last = _last_sample(s, row.id)
            count = s.scalar(sa.select(sa.func.count()).select_from(SessionParticipantRow)
                             .where(SessionParticipantRow.session_id == row.id))
            out.append(UnfinishedSession(
                row.id, row.status, row.protocol_key, row.operator, row.site, row.started_utc,
                last[0] if last else None, last[1] if last else None, count or 0,
                row.heartbeat_utc))
        return out


def mark_interrupted(db: Database, session_ids: Iterable[int]) -> int:
    """Mark sessions that are still ``running`` as interrupted; returns how many were."""
    ids = list(session_ids)
    if not ids:
        return 0
    with storage_errors(db), db.writing() as s, s.begin():
        result = s.execute(
            sa.update(SessionRow)
            .where(SessionRow.id.in_(ids), SessionRow.status == SessionStatus.RUNNING)
            .values(status=SessionStatus.INTERRUPTED))
        return result.rowcount


def recover_at_start(db: Database, *, host: str | None = None,
                     now_utc: datetime | None = None) -> list[UnfinishedSession]:
    """The start-up check: mark what this machine left running (and nobody records) as
    interrupted and return every interrupted session, for the operator to close."""
    unfinished = find_unfinished(db, host=host, now_utc=now_utc)
    mark_interrupted(db, (u.session_id for u in unfinished
                          if u.status is SessionStatus.RUNNING))
    return [replace(u, status=SessionStatus.INTERRUPTED) for u in unfinished]


def close(db: Database, session_id: int) -> datetime:
    """Finish an interrupted session at the time of its last stored sample (its start when
    nothing was stored); returns that end time."""
    with storage_errors(db), db.writing() as s, s.begin():
        row = _unfinished(s, db, session_id)
        if is_recording(row):
            raise StorageError(
                f"Session {session_id} is still being recorded (by process {row.pid} on "
                f"{row.host or 'an unknown host'}); stop it there, or wait until it has "
                "sent no heartbeat for a while.")
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
                           "close.")
    return row


def _last_sample(s: Session, session_id: int) -> tuple[float, datetime] | None:
    row = s.execute(
        sa.select(SampleRow.t_s, SampleRow.wall_utc)
        .join(SessionParticipantRow,
              SessionParticipantRow.id == SampleRow.session_participant_id)
        .where(SessionParticipantRow.session_id == session_id)
        .order_by(SampleRow.t_s.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None

