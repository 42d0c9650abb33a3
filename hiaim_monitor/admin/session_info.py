"""What the store holds about recorded sessions, for `sessions list` and `sessions show`:
the session rows, and per participant how much was recorded and how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor.engine.codes import UNTRUSTED
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.recovery import heartbeat_fresh, is_recording
from hiaim_monitor.storage.schema import (
    EventRow,
    ParticipantRow,
    PhaseAdherenceRow,
    RRIntervalRow,
    SampleRow,
    SessionParticipantRow,
    SessionRow,
    SessionStatus,
    StrapRow,
)
from hiaim_monitor.storage.sessions import protocol_from_json


class SessionNotFound(LookupError):
    """There is no session with that id; the message is one sentence."""


@dataclass(frozen=True, slots=True)
class SessionListing:
    session_id: int
    started_utc: datetime
    ended_utc: datetime | None
    status: SessionStatus
    protocol_key: str
    protocol_name: str
    site: str
    operator: str
    host: str
    participants: int
    simulated: bool = False  # virtual participants, not people
    heartbeat_utc: datetime | None = None  # the writer's last sign of life
    recording: bool = False  # running, and someone is still recording it

    @property
    def shown_status(self) -> str:
        """The status as a person should read it: a session stored as running that nobody
        records any more is interrupted, whatever the row says."""
        if self.status is not SessionStatus.RUNNING:
            return str(self.status)
        if self.recording and heartbeat_fresh(self.heartbeat_utc):
            return str(self.status)
        since = (f" since {self.heartbeat_utc:%Y-%m-%d %H:%M:%S} UTC"
                 if self.heartbeat_utc is not None else "")
        if self.recording:  # its process runs here, but the database is not hearing it
            return f"running (no heartbeat{since})"
        return f"interrupted (no heartbeat{since})"


@dataclass(frozen=True, slots=True)
class SessionParticipantDetail:
    study_code: str
    display_name: str
    strap_key: str | None
    hrmax_bpm: float
    hrmax_method: HRMaxMethod
    samples: int
    samples_untrusted: int
    beats: int
    beats_flagged: int
    intervals_achieved: int
    intervals_judged: int


@dataclass(frozen=True, slots=True)
class BlockResultInfo:
    """One participant's block of short bouts, judged as a whole (display.BlockResult)."""

    study_code: str
    block_index: int | None
    phase_name: str
    peak_pct: float | None
    seconds_in_target: float  # at or above target_pct over the whole block
    target_pct: float | None
    judged: bool
    achieved: bool
    bout_peaks_pct: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class SessionDetail:
    session: SessionListing
    notes: str
    participants: list[SessionParticipantDetail]
    events: dict[str, int]  # event kind → how many
    protocol: TrainingProtocol | None = None  # as it ran; None if it cannot be read
    blocks: list[BlockResultInfo] = field(default_factory=list)  # by study code, in order


def _count(s: Session, session_id: int) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(SessionParticipantRow)
                    .where(SessionParticipantRow.session_id == session_id)) or 0


def _listing(s: Session, row: SessionRow) -> SessionListing:
    return SessionListing(row.id, row.started_utc, row.ended_utc, row.status, row.protocol_key,
                          str(row.protocol.get("name", row.protocol_key)), row.site,
                          row.operator, row.host, _count(s, row.id), bool(row.simulated),
                          row.heartbeat_utc, is_recording(row))


def list_sessions(db: Database) -> list[SessionListing]:
    """Every stored session, newest first."""
    with storage_errors(db), db.session() as s:
        rows = s.scalars(sa.select(SessionRow)
                         .order_by(SessionRow.started_utc.desc(), SessionRow.id.desc())).all()
        return [_listing(s, row) for row in rows]


def get_session(db: Database, session_id: int) -> SessionListing:
    """One session's row; ``SessionNotFound`` when there is none."""
    with storage_errors(db), db.session() as s:
        row = s.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFound(f"There is no session {session_id} in {db.name}; "
                                  "`sessions list` shows the sessions there are.")
        return _listing(s, row)


def show_session(db: Database, session_id: int) -> SessionDetail:
    """A session with per-participant counts and its events by kind."""
    listing = get_session(db, session_id)
    with storage_errors(db), db.session() as s:
        row = s.get(SessionRow, session_id)
        assert row is not None
        sp = SessionParticipantRow
        # Count only this session's rows: the tables hold every session ever recorded.
        ours = sa.select(sp.id).where(sp.session_id == session_id)
        untrusted = sa.case((SampleRow.flags.op("&")(int(UNTRUSTED)) != 0, 1), else_=0)
        samples = (sa.select(SampleRow.session_participant_id.label("sp_id"),
                             sa.func.count().label("n"), sa.func.sum(untrusted).label("bad"))
                   .where(SampleRow.session_participant_id.in_(ours))
                   .group_by(SampleRow.session_participant_id).subquery())
        flagged = sa.case((RRIntervalRow.flags != 0, 1), else_=0)
        beats = (sa.select(RRIntervalRow.session_participant_id.label("sp_id"),
                           sa.func.count().label("n"), sa.func.sum(flagged).label("bad"))
                 .where(RRIntervalRow.session_participant_id.in_(ours))
                 .group_by(RRIntervalRow.session_participant_id).subquery())
        achieved = sa.case((PhaseAdherenceRow.achieved, 1), else_=0)
        phases = (sa.select(PhaseAdherenceRow.session_participant_id.label("sp_id"),
                            sa.func.count().label("n"), sa.func.sum(achieved).label("ok"))
                  .where(PhaseAdherenceRow.session_participant_id.in_(ours),
                         PhaseAdherenceRow.judged)  # cut short: neither achieved nor missed
                  .group_by(PhaseAdherenceRow.session_participant_id).subquery())
        rows = s.execute(
            sa.select(ParticipantRow.study_code, ParticipantRow.display_name,
                      StrapRow.strap_key, sp.hrmax_bpm, sp.hrmax_method,
                      samples.c.n, samples.c.bad, beats.c.n, beats.c.bad, phases.c.ok,
                      phases.c.n)
            .select_from(sp)
            .join(ParticipantRow, ParticipantRow.id == sp.participant_id)
            .outerjoin(StrapRow, StrapRow.id == sp.strap_id)
            .outerjoin(samples, samples.c.sp_id == sp.id)
            .outerjoin(beats, beats.c.sp_id == sp.id)
            .outerjoin(phases, phases.c.sp_id == sp.id)
            .where(sp.session_id == session_id)
            .order_by(ParticipantRow.study_code)).all()
        people = [SessionParticipantDetail(code, name, strap, hrmax, method,
                                           *(int(v or 0) for v in counts))
                  for code, name, strap, hrmax, method, *counts in rows]
        a = PhaseAdherenceRow
        blocks = [BlockResultInfo(code, r.block_index, r.phase_name, r.peak_pct,
                                  r.seconds_in_target, r.target_pct, r.judged, r.achieved,
                                  tuple(r.bout_peaks_pct or ()))
                  for code, r in s.execute(
                      sa.select(ParticipantRow.study_code, a)
                      .join(sp, sp.id == a.session_participant_id)
                      .join(ParticipantRow, ParticipantRow.id == sp.participant_id)
                      .where(sp.session_id == session_id, a.block_index.is_not(None))
                      .order_by(ParticipantRow.study_code, a.phase_index)).all()]
        events = dict(s.execute(
            sa.select(EventRow.kind, sa.func.count()).where(EventRow.session_id == session_id)
            .group_by(EventRow.kind).order_by(EventRow.kind)).all())
        return SessionDetail(listing, row.notes or "", people,
                             {str(kind): int(n) for kind, n in events.items()},
                             _protocol(row.protocol), blocks)


def _protocol(doc: dict) -> TrainingProtocol | None:
    try:
        return protocol_from_json(doc)
    except (KeyError, TypeError, ValueError):  # an old or hand-made row: names as stored
        return None
