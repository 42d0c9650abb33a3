"""Reading stored sessions back for export: who took part with which HRmax, and their
samples, beats and interval results in time order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hiaim_monitor.exports.common import ExportError
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.schema import (
    EnrolmentRow,
    ParticipantRow,
    PhaseAdherenceRow,
    PlannedSessionRow,
    ProgrammeRow,
    RRIntervalRow,
    SampleRow,
    SessionParticipantRow,
    SessionRow,
    SessionStatus,
    StrapRow,
)
from hiaim_monitor.storage.sessions import protocol_from_json


@dataclass(frozen=True, slots=True)
class ExportParticipant:
    session_participant_id: int
    study_code: str
    display_name: str
    strap_key: str | None
    hrmax_bpm: float
    hrmax_method: HRMaxMethod
    beta_blocker: bool


@dataclass(frozen=True, slots=True)
class ExportSession:
    session_id: int
    protocol: TrainingProtocol
    site: str
    operator: str
    status: SessionStatus
    started_utc: datetime
    ended_utc: datetime | None
    end_s: float  # session clock at the end (the last sample while it was never finished)
    participants: tuple[ExportParticipant, ...]  # in study-code order
    simulated: bool = False  # virtual participants, not people


def load_sessions(db: Database, session_ids: Sequence[int]) -> list[ExportSession]:
    """The sessions and their participants, in the order given; ``ExportError`` naming
    every id that is not there."""
    with storage_errors(db), db.session() as s:
        found = set(s.scalars(sa.select(SessionRow.id).where(SessionRow.id.in_(session_ids))))
    missing = [str(i) for i in session_ids if i not in found]
    if len(missing) == 1:
        raise ExportError(f"There is no session {missing[0]} in {db.name}; nothing was "
                          "exported (`sessions list` shows the sessions there are).")
    if missing:
        raise ExportError(f"There are no sessions {', '.join(missing)} in {db.name}; nothing "
                          "was exported (`sessions list` shows the sessions there are).")
    return [load_session(db, i) for i in session_ids]


def load_session(db: Database, session_id: int) -> ExportSession:
    """The session and its participants; ``ExportError`` when there is no such session."""
    with storage_errors(db), db.session() as s:
        row = s.get(SessionRow, session_id)
        if row is None:
            raise ExportError(f"There is no session {session_id} in {db.name}; "
                              "`sessions list` shows the sessions there are.")
        people = s.execute(
            sa.select(SessionParticipantRow, ParticipantRow, StrapRow.strap_key)
            .join(ParticipantRow, ParticipantRow.id == SessionParticipantRow.participant_id)
            .outerjoin(StrapRow, StrapRow.id == SessionParticipantRow.strap_id)
            .where(SessionParticipantRow.session_id == session_id)
            .order_by(ParticipantRow.study_code)).all()
        participants = tuple(
            ExportParticipant(sp.id, p.study_code, p.display_name, strap, sp.hrmax_bpm,
                              sp.hrmax_method, p.beta_blocker)
            for sp, p, strap in people)
        if row.ended_utc is not None:
            end_s = (row.ended_utc - row.started_utc).total_seconds()
        else:
            last = s.scalar(
                sa.select(sa.func.max(SampleRow.t_s))
                .join(SessionParticipantRow,
                      SessionParticipantRow.id == SampleRow.session_participant_id)
                .where(SessionParticipantRow.session_id == session_id))
            end_s = float(last or 0.0)
        return ExportSession(session_id, protocol_from_json(row.protocol), row.site,
                             row.operator, row.status, row.started_utc, row.ended_utc,
                             max(0.0, end_s), participants, bool(row.simulated))


def samples(db: Database, session_participant_id: int) -> Sequence[sa.Row]:
    """(t_s, wall_utc, bpm, pct_hrmax, level, flags, contact, energy_kj) rows in time
    order: wall_utc is the arrival the driver stamped, contact and energy_kj as sent."""
    with storage_errors(db), db.engine.connect() as conn:
        return conn.execute(
            sa.select(SampleRow.t_s, SampleRow.wall_utc, SampleRow.bpm, SampleRow.pct_hrmax,
                      SampleRow.level, SampleRow.flags, SampleRow.contact,
                      SampleRow.energy_kj)
            .where(SampleRow.session_participant_id == session_participant_id)
            .order_by(SampleRow.t_s, SampleRow.id)).all()


def beats(db: Database, session_participant_id: int) -> Sequence[sa.Row]:
    """(t_s, rr_ms, flags) rows in beat order."""
    with storage_errors(db), db.engine.connect() as conn:
        return conn.execute(
            sa.select(RRIntervalRow.t_s, RRIntervalRow.rr_ms, RRIntervalRow.flags)
            .where(RRIntervalRow.session_participant_id == session_participant_id)
            .order_by(RRIntervalRow.t_s, RRIntervalRow.id)).all()


def adherence(db: Database, session_participant_id: int) -> list[PhaseAdherenceRow]:
    """The judged work phases, in protocol order."""
    with storage_errors(db), db.session() as s:
        return list(s.scalars(
            sa.select(PhaseAdherenceRow)
            .where(PhaseAdherenceRow.session_participant_id == session_participant_id)
            .order_by(PhaseAdherenceRow.phase_index)))


# Readers for the Parquet export: the rows exactly as the database driver returns them, as
# tuples, with no per-row conversion by SQLAlchemy (wall_utc is SQLite's text or
# PostgreSQL's aware datetime, contact its stored text), in the row order of ``samples`` and
# ``beats``. The export turns them into Arrow arrays in one call (pyarrow converts a list of
# tuples to a struct array in C).

def sample_rows(db: Database, session_participant_id: int) -> list[tuple[Any, ...]]:
    """(t_s, wall_utc, bpm, pct_hrmax, level, flags, contact, energy_kj) tuples."""
    t = SampleRow.__table__
    return _driver_rows(db, sa.select(t.c.t_s, t.c.wall_utc, t.c.bpm, t.c.pct_hrmax, t.c.level,
                                      t.c.flags, t.c.contact, t.c.energy_kj)
                        .where(t.c.session_participant_id == session_participant_id)
                        .order_by(t.c.t_s, t.c.id))


def beat_rows(db: Database, session_participant_id: int) -> list[tuple[Any, ...]]:
    """(t_s, rr_ms, flags) tuples."""
    t = RRIntervalRow.__table__
    return _driver_rows(db, sa.select(t.c.t_s, t.c.rr_ms, t.c.flags)
                        .where(t.c.session_participant_id == session_participant_id)
                        .order_by(t.c.t_s, t.c.id))


def _driver_rows(db: Database, query: sa.Select) -> list[tuple[Any, ...]]:
    with storage_errors(db), db.engine.connect() as conn:
        # CursorResult.cursor is the DB-API cursor: its fetchall gives the driver's tuples.
        return list(conn.execute(query).cursor.fetchall())


@dataclass(frozen=True, slots=True)
class Link:
    """The planned session of a programme that a participant's recorded session was."""

    programme: str
    week: int
    number: int  # within the week
    programme_session: int  # within the programme: (week - 1) × sessions a week + number


Links = dict[tuple[int, str], Link]  # (session id, study code) → its planned session


def session_links(db: Database, session_ids: Sequence[int]) -> Links:
    """The planned sessions linked to these recorded sessions (a participant enrolled in two
    programmes that both link the session: the programme first by name)."""
    with storage_errors(db), db.session() as s:
        rows = s.execute(
            sa.select(PlannedSessionRow.session_id, ParticipantRow.study_code,
                      ProgrammeRow.name, ProgrammeRow.sessions_per_week,
                      PlannedSessionRow.week, PlannedSessionRow.number)
            .join(EnrolmentRow, EnrolmentRow.id == PlannedSessionRow.enrolment_id)
            .join(ProgrammeRow, ProgrammeRow.id == EnrolmentRow.programme_id)
            .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
            .where(PlannedSessionRow.session_id.in_(list(session_ids)))
            .order_by(sa.func.lower(ProgrammeRow.name).desc())).all()
    return {(sid, code): Link(name, week, number, (week - 1) * per_week + number)
            for sid, code, name, per_week, week, number in rows}
