"""Starting and finishing a stored session: the session row, who took part with which strap
and HRmax, and the protocol exactly as it ran."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import (
    MIN_JUDGED_FRACTION,
    AchievedRule,
    Block,
    Phase,
    PhaseKind,
    Thresholds,
    TrainingProtocol,
)
from hiaim_monitor.storage.database import Database, StorageError, storage_errors
from hiaim_monitor.storage.schema import (
    ParticipantRow,
    SessionParticipantRow,
    SessionRow,
    SessionStatus,
    StrapRow,
)
from hiaim_monitor.storage.straps import strap_by_id


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session row and the keys the writer needs to file rows under it."""

    session_id: int
    started_utc: datetime
    # study code (Participant.study_code) → session_participants.id
    session_participant_ids: dict[str, int]

    def t_s(self, wall_utc: datetime) -> float:
        """Session seconds at ``wall_utc``."""
        return (wall_utc - self.started_utc).total_seconds()


def start_session(db: Database, protocol: TrainingProtocol,
                  participants: Sequence[Participant], *, started_utc: datetime,
                  operator: str = "", site: str = "", notes: str = "",
                  host: str | None = None, simulated: bool = False) -> StoredSession:
    """Record a new running session. Participants and straps not yet in the store are added
    (by study code and strap id); ones already there are left as they are. ``simulated``:
    virtual participants, not people (the session and the participants it adds say so)."""
    with storage_errors(db), db.writing() as s, s.begin():
        row = SessionRow(
            protocol_key=protocol.key, protocol=protocol_to_json(protocol),
            operator=operator, site=site,
            host=socket.gethostname() if host is None else host,
            started_utc=started_utc, status=SessionStatus.RUNNING, notes=notes,
            simulated=simulated, heartbeat_utc=datetime.now(UTC), pid=os.getpid())
        s.add(row)
        s.flush()
        ids = {}
        for p in participants:
            sp = SessionParticipantRow(
                session_id=row.id,
                participant_id=_participant(s, p, started_utc, simulated).id,
                strap_id=_strap(s, p.strap_id).id, hrmax_bpm=p.hrmax.bpm,
                hrmax_method=p.hrmax.method, resting_bpm=p.resting_bpm,
                ceiling_pct=p.ceiling_pct)
            s.add(sp)
            s.flush()
            ids[p.study_code] = sp.id
        return StoredSession(row.id, started_utc, ids)


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """How a session ended: when, and the operator's notes as they finally read (None:
    leave the session's notes as they are; participants by study code)."""

    ended_utc: datetime
    notes: str | None = None
    participant_notes: Mapping[str, str] | None = None


def finish_session(db: Database, session_id: int, *, ended_utc: datetime | None = None,
                   notes: str | None = None,
                   participant_notes: Mapping[str, str] | None = None) -> None:
    """Mark a session finished at ``ended_utc`` (now when None), with the operator's notes
    on the session and on participants (by study code) as they finally read."""
    end = SessionEnd(ended_utc or datetime.now(UTC), notes, participant_notes)
    with storage_errors(db), db.writing() as s, s.begin():
        apply_end(db, s, session_id, end)


def apply_end(db: Database, s: Session, session_id: int, end: SessionEnd) -> None:
    """Inside the transaction ``s``: mark the session finished as ``end`` says."""
    row = _session(db, s, session_id)
    row.status = SessionStatus.FINISHED
    row.ended_utc = end.ended_utc
    _put_notes(s, row, end.notes, end.participant_notes)


def store_notes(db: Database, session_id: int, *, notes: str | None = None,
                participant_notes: Mapping[str, str] | None = None) -> None:
    """Replace the operator's notes on a session (e.g. written after it ended)."""
    with storage_errors(db), db.writing() as s, s.begin():
        _put_notes(s, _session(db, s, session_id), notes, participant_notes)


def _session(db: Database, s: Session, session_id: int) -> SessionRow:
    row = s.get(SessionRow, session_id)
    if row is None:
        raise StorageError(f"There is no session {session_id} in {db.name}.")
    return row


def _put_notes(s: Session, row: SessionRow, notes: str | None,
               participant_notes: Mapping[str, str] | None) -> None:
    if notes is not None:
        row.notes = notes
    if participant_notes:
        ids = session_participant_ids(s, row.id)
        for code, text in participant_notes.items():
            if code in ids:
                s.get_one(SessionParticipantRow, ids[code]).notes = text


def stored_protocol(db: Database, session_id: int) -> TrainingProtocol:
    """The protocol a stored session ran (to resume it exactly)."""
    with storage_errors(db), db.session() as s:
        row = s.get(SessionRow, session_id)
        if row is None:
            raise StorageError(f"There is no session {session_id} in {db.name}.")
        return protocol_from_json(row.protocol)


def session_participant_ids(s: Session, session_id: int) -> dict[str, int]:
    """study code → session_participants.id for one stored session."""
    rows = s.execute(
        sa.select(ParticipantRow.study_code, SessionParticipantRow.id)
        .join(SessionParticipantRow, SessionParticipantRow.participant_id == ParticipantRow.id)
        .where(SessionParticipantRow.session_id == session_id))
    return {code: sp_id for code, sp_id in rows}


def _participant(s: Session, p: Participant, now_utc: datetime,
                 simulated: bool) -> ParticipantRow:
    row = s.scalars(sa.select(ParticipantRow)
                    .where(ParticipantRow.study_code == p.study_code)).one_or_none()
    if row is None:
        row = ParticipantRow(
            study_code=p.study_code, display_name=p.display_name,
            hrmax_bpm=p.hrmax.bpm, hrmax_method=p.hrmax.method, hrmax_date=now_utc.date(),
            resting_bpm=p.resting_bpm, beta_blocker=p.beta_blocker, notes="",
            created_utc=now_utc, simulated=simulated, archived=False)
        s.add(row)
        s.flush()
    return row


def _strap(s: Session, strap_key: str) -> StrapRow:
    row = strap_by_id(s, strap_key)  # by any of its ids: a dual-mode strap is one strap
    if row is None:
        row = StrapRow(strap_key=strap_key, name="", kind="")
        s.add(row)
        s.flush()
    return row


def protocol_to_json(protocol: TrainingProtocol) -> dict[str, Any]:
    """The protocol as plain JSON, so a stored session says exactly what ran."""
    th = protocol.thresholds
    return {
        "key": protocol.key, "name": protocol.name, "description": protocol.description,
        "thresholds": {"intermediate_pct": th.intermediate_pct, "high_pct": th.high_pct,
                       "ceiling_pct": th.ceiling_pct},
        "ramp_allowance_s": protocol.ramp_allowance_s,
        "achieved_fraction": protocol.achieved_fraction,
        "min_judged_fraction": protocol.min_judged_fraction,
        "names": dict(protocol.names), "descriptions": dict(protocol.descriptions),
        "phases": [{"name": p.name, "kind": p.kind.value, "duration_s": p.duration_s,
                    "target_min_pct": p.target_min_pct, "target_max_pct": p.target_max_pct,
                    "names": dict(p.names), "station": p.station, "block": p.block,
                    "bout": p.bout}
                   for p in protocol.phases],
        "blocks": [{"name": b.name, "kind": b.kind.value, "repeat": b.repeat,
                    "work_s": b.work_s, "rest_s": b.rest_s,
                    "target_min_pct": b.target_min_pct, "target_max_pct": b.target_max_pct,
                    "achieved_by": b.achieved_by.value,
                    "achieved_fraction": b.achieved_fraction, "first_phase": b.first_phase,
                    "last_phase": b.last_phase, "station": b.station, "names": dict(b.names)}
                   for b in protocol.blocks],
    }


def protocol_from_json(doc: dict[str, Any]) -> TrainingProtocol:
    """The protocol ``protocol_to_json`` stored (to resume a session as it ran)."""
    return TrainingProtocol(
        key=doc["key"], name=doc["name"], description=doc["description"],
        # Sessions stored before stations and blocks existed have neither.
        phases=tuple(Phase(p["name"], PhaseKind(p["kind"]), p["duration_s"],
                           p["target_min_pct"], p["target_max_pct"],
                           tuple(p.get("names", {}).items()), p.get("station", ""),
                           p.get("block"), p.get("bout", 0)) for p in doc["phases"]),
        blocks=tuple(Block(i, b["name"], PhaseKind(b["kind"]), b["repeat"], b["work_s"],
                           b["rest_s"], b["target_min_pct"], b["target_max_pct"],
                           AchievedRule(b["achieved_by"]), b["achieved_fraction"],
                           b["first_phase"], b["last_phase"], b.get("station", ""),
                           tuple(b.get("names", {}).items()))
                     for i, b in enumerate(doc.get("blocks", []))),
        thresholds=Thresholds(**doc["thresholds"]),
        ramp_allowance_s=doc["ramp_allowance_s"],
        achieved_fraction=doc["achieved_fraction"],
        # Sessions stored before these existed: the defaults they would have run with.
        min_judged_fraction=doc.get("min_judged_fraction", MIN_JUDGED_FRACTION),
        names=tuple(doc.get("names", {}).items()),
        descriptions=tuple(doc.get("descriptions", {}).items()),
    )
