"""What happened to each participant in a planned session of a programme: Borg RPE after a
work phase or block (or once at the end), dose modifications, an early termination and
adverse events, every one time-stamped (UTC) and editable; and one participant's whole
programme with all of it, in the programme model's shape (``programme/model.py``) so the
metrics read it as it is. The choices (attendance, dose modification, relatedness) and the
RPE and grade rules are the model's; storage only says a refusal as its ``ProgrammeError``.

The planned session is named as in ``programmes``: programme, study code, week and number.
Nothing is recorded for a session marked missed or cancelled. A refused command raises
``ProgrammeError`` with one sentence and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor.engine.blocks import prescribed_intervals
from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import (
    AdverseEvent,
    Attendance,
    DoseModification,
    IntervalResult,
    ParticipantProgramme,
    Phase,
    PlannedSession,
    Relatedness,
    RPERating,
    SessionRecord,
    Withdrawal,
    valid_grade,
    valid_rpe,
)
from hiaim_monitor.protocols import ProtocolError, TrainingProtocol, load_protocol
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.programmes import (
    ProgrammeError,
    calendar,
    choice,
    enrolled_rows,
    planned_row,
    planned_rows,
    valid_text,
)
from hiaim_monitor.storage.schema import (
    AdverseEventRow,
    DoseModificationRow,
    EarlyTerminationRow,
    EnrolmentRow,
    ParticipantRow,
    PhaseAdherenceRow,
    PlannedSessionRow,
    ProgrammeRow,
    RPERow,
    SessionParticipantRow,
    SessionRow,
)
from hiaim_monitor.storage.sessions import protocol_from_json

_UNSET: Any = object()  # "leave as it is" where None is a value
_Row = TypeVar("_Row", RPERow, DoseModificationRow, EarlyTerminationRow, AdverseEventRow)


@dataclass(frozen=True, slots=True)
class RPEInfo:
    id: int
    study_code: str
    week: int
    number: int
    phase_index: int | None  # None: once, at the end of the session
    borg: int
    recorded_utc: datetime
    updated_utc: datetime


@dataclass(frozen=True, slots=True)
class DoseModificationInfo:
    id: int
    study_code: str
    week: int
    number: int
    modification: DoseModification
    note: str
    recorded_utc: datetime
    updated_utc: datetime


@dataclass(frozen=True, slots=True)
class EarlyTerminationInfo:
    id: int
    study_code: str
    week: int
    number: int
    reason: str
    recorded_utc: datetime
    updated_utc: datetime


@dataclass(frozen=True, slots=True)
class AdverseEventInfo:
    id: int
    study_code: str
    week: int
    number: int
    description: str
    grade: int
    related: Relatedness
    action: str
    recorded_utc: datetime
    updated_utc: datetime


def record_rpe(db: Database, programme: str, study_code: str, week: int, number: int,
               borg: int, *, phase_index: int | None = None) -> RPEInfo:
    """Borg RPE (6–20) after the work phase or block ``phase_index`` (its index in the
    session's protocol), or once at the end (None). A second rating for the same phase
    replaces the first: it is a correction."""
    borg = _valid_borg(borg)
    phase_index = _valid_phase(phase_index)
    now = datetime.now(UTC)
    with storage_errors(db), db.writing() as s, s.begin():
        person, planned = planned_row(s, programme, study_code, week, number, taking_part=True)
        phase = (RPERow.phase_index.is_(None) if phase_index is None
                 else RPERow.phase_index == phase_index)
        row = s.scalar(sa.select(RPERow).where(RPERow.planned_session_id == planned.id, phase))
        if row is None:
            row = RPERow(planned_session_id=planned.id, phase_index=phase_index, borg=borg,
                         recorded_utc=now, updated_utc=now)
            s.add(row)
        else:
            row.borg, row.updated_utc = borg, now
        s.flush()
        return _rpe_info(person, planned, row)


def edit_rpe(db: Database, record_id: int, *, borg: int | None = None,
             phase_index: Any = _UNSET) -> RPEInfo:
    """Correct a stored RPE rating (``phase_index=None``: it was the end-of-session one)."""
    borg = None if borg is None else _valid_borg(borg)
    with storage_errors(db), db.writing() as s, s.begin():
        row, person, planned = _record(s, RPERow, record_id, tr("RPE rating"))
        if borg is not None:
            row.borg = borg
        if phase_index is not _UNSET:
            row.phase_index = _valid_phase(phase_index)
        row.updated_utc = datetime.now(UTC)
        return _rpe_info(person, planned, row)


def list_rpe(db: Database, programme: str, study_code: str | None = None) -> list[RPEInfo]:
    with storage_errors(db), db.session() as s:
        return [_rpe_info(p, ps, r) for p, ps, r in _records(s, RPERow, programme, study_code)]


def record_dose_modification(db: Database, programme: str, study_code: str, week: int,
                             number: int, modification: DoseModification | str,
                             note: str = "") -> DoseModificationInfo:
    """The dose was modified in this session: intensity or duration reduced, for a
    health-related or other cause (one ``DoseModification`` says both)."""
    modification = choice(DoseModification, modification, tr("Dose modification"))
    now = datetime.now(UTC)
    with storage_errors(db), db.writing() as s, s.begin():
        person, planned = planned_row(s, programme, study_code, week, number, taking_part=True)
        row = DoseModificationRow(planned_session_id=planned.id, modification=modification,
                                  note=note, recorded_utc=now, updated_utc=now)
        s.add(row)
        s.flush()
        return _dose_info(person, planned, row)


def edit_dose_modification(db: Database, record_id: int, *,
                           modification: DoseModification | str | None = None,
                           note: str | None = None) -> DoseModificationInfo:
    new = (None if modification is None
           else choice(DoseModification, modification, tr("Dose modification")))
    with storage_errors(db), db.writing() as s, s.begin():
        row, person, planned = _record(s, DoseModificationRow, record_id,
                                       tr("dose modification"))
        if new is not None:
            row.modification = new
        if note is not None:
            row.note = note
        row.updated_utc = datetime.now(UTC)
        return _dose_info(person, planned, row)


def list_dose_modifications(db: Database, programme: str,
                            study_code: str | None = None) -> list[DoseModificationInfo]:
    with storage_errors(db), db.session() as s:
        return [_dose_info(p, ps, r)
                for p, ps, r in _records(s, DoseModificationRow, programme, study_code)]


def record_early_termination(db: Database, programme: str, study_code: str, week: int,
                             number: int, reason: str) -> EarlyTerminationInfo:
    """The participant stopped before the session's end. One per planned session: recording
    it again corrects the reason."""
    reason = valid_text(reason, tr("The reason for the early termination is empty; give "
                                    "one."))
    now = datetime.now(UTC)
    with storage_errors(db), db.writing() as s, s.begin():
        person, planned = planned_row(s, programme, study_code, week, number, taking_part=True)
        row = s.scalar(sa.select(EarlyTerminationRow)
                       .where(EarlyTerminationRow.planned_session_id == planned.id))
        if row is None:
            row = EarlyTerminationRow(planned_session_id=planned.id, reason=reason,
                                      recorded_utc=now, updated_utc=now)
            s.add(row)
        else:
            row.reason, row.updated_utc = reason, now
        s.flush()
        return _termination_info(person, planned, row)


def edit_early_termination(db: Database, record_id: int, *,
                           reason: str) -> EarlyTerminationInfo:
    reason = valid_text(reason, tr("The reason for the early termination is empty; give "
                                    "one."))
    with storage_errors(db), db.writing() as s, s.begin():
        row, person, planned = _record(s, EarlyTerminationRow, record_id,
                                       tr("early termination"))
        row.reason, row.updated_utc = reason, datetime.now(UTC)
        return _termination_info(person, planned, row)


def list_early_terminations(db: Database, programme: str,
                            study_code: str | None = None) -> list[EarlyTerminationInfo]:
    with storage_errors(db), db.session() as s:
        return [_termination_info(p, ps, r)
                for p, ps, r in _records(s, EarlyTerminationRow, programme, study_code)]


def record_adverse_event(db: Database, programme: str, study_code: str, week: int,
                         number: int, description: str, grade: int,
                         related: Relatedness | str, action: str = "") -> AdverseEventInfo:
    """An adverse event in this session: what happened, its grade (1–5), whether it is
    related to the exercise (yes, possible, no) and the action taken."""
    description = valid_text(description, tr("The adverse event has no description; say "
                                              "what happened."))
    grade = _valid_grade(grade)
    related = choice(Relatedness, related, tr("Related to exercise"))
    now = datetime.now(UTC)
    with storage_errors(db), db.writing() as s, s.begin():
        person, planned = planned_row(s, programme, study_code, week, number, taking_part=True)
        row = AdverseEventRow(planned_session_id=planned.id, description=description,
                              grade=grade, related=related, action=action, recorded_utc=now,
                              updated_utc=now)
        s.add(row)
        s.flush()
        return _adverse_info(person, planned, row)


def edit_adverse_event(db: Database, record_id: int, *, description: str | None = None,
                       grade: int | None = None, related: Relatedness | str | None = None,
                       action: str | None = None) -> AdverseEventInfo:
    if description is not None:
        description = valid_text(description, tr("The adverse event has no description; "
                                                  "say what happened."))
    grade = None if grade is None else _valid_grade(grade)
    new_related = (None if related is None
                   else choice(Relatedness, related, tr("Related to exercise")))
    with storage_errors(db), db.writing() as s, s.begin():
        row, person, planned = _record(s, AdverseEventRow, record_id, tr("adverse event"))
        if description is not None:
            row.description = description
        if grade is not None:
            row.grade = grade
        if new_related is not None:
            row.related = new_related
        if action is not None:
            row.action = action
        row.updated_utc = datetime.now(UTC)
        return _adverse_info(person, planned, row)


def list_adverse_events(db: Database, programme: str,
                        study_code: str | None = None) -> list[AdverseEventInfo]:
    with storage_errors(db), db.session() as s:
        return [_adverse_info(p, ps, r)
                for p, ps, r in _records(s, AdverseEventRow, programme, study_code)]


def delete_record(db: Database, kind: str, record_id: int) -> None:
    """Delete a record entered by mistake; ``kind``: rpe, dose-modification,
    early-termination or adverse-event."""
    tables: dict[str, type[Any]] = {"rpe": RPERow, "dose-modification": DoseModificationRow,
                                    "early-termination": EarlyTerminationRow,
                                    "adverse-event": AdverseEventRow}
    if kind not in tables:
        raise ProgrammeError(tr("Record kind {kind} is not one of {kinds}.").format(
            kind=repr(kind), kinds=", ".join(tables)))
    with storage_errors(db), db.writing() as s, s.begin():
        row, _, _ = _record(s, tables[kind], record_id, kind)
        s.delete(row)


def participant_programme(db: Database, programme: str,
                          study_code: str) -> ParticipantProgramme:
    """One participant's whole programme in the programme model's shape, so
    ``programme.metrics`` reads it as it is: every planned session with its attendance
    (None: not recorded yet), records and stored ids; the planned work time from the week's
    protocol (the programme's, else the linked recorded session's) and, for a session linked
    to a recorded one, its prescribed work phases with how the participant did in each."""
    with storage_errors(db), db.session() as s:
        prog, person, enrolment = enrolled_rows(s, programme, study_code)
        planned = list(s.scalars(sa.select(PlannedSessionRow)
                                 .where(PlannedSessionRow.enrolment_id == enrolment.id)
                                 .order_by(PlannedSessionRow.week, PlannedSessionRow.number)))
        ids = [p.id for p in planned]

        def of(table: type[_Row]) -> dict[int, list[_Row]]:
            rows: dict[int, list[_Row]] = {}
            for row in s.scalars(sa.select(table).where(table.planned_session_id.in_(ids))
                                 .order_by(table.id)):
                rows.setdefault(row.planned_session_id, []).append(row)
            return rows

        rpe, doses, ends, events = (of(RPERow), of(DoseModificationRow),
                                    of(EarlyTerminationRow), of(AdverseEventRow))
        by_week = {int(w): k for w, k in (prog.protocol_by_week or {}).items()}
        presets: dict[str, TrainingProtocol | None] = {}
        sessions = []
        for p in planned:
            recorded = _recorded(s, p.session_id, person.id)
            protocol = _preset(presets, by_week.get(p.week))
            if protocol is None and recorded is not None:
                protocol = recorded[0]
            ratings = tuple(RPERating(r.borg, r.phase_index, r.id, r.recorded_utc,
                                      r.updated_utc)
                            for r in sorted(rpe.get(p.id, []),
                                            key=lambda r: (r.phase_index is None,
                                                           r.phase_index or 0)))
            end = ends.get(p.id, [])
            dose = doses.get(p.id, [])
            sessions.append(SessionRecord(
                PlannedSession(p.week, (p.week - 1) * prog.sessions_per_week + p.number,
                               p.planned_on, _work_s(protocol) if protocol else 0.0,
                               number_in_week=p.number),
                p.attendance, p.missed_reason,
                rpe=next((r.borg for r in ratings if r.phase_index is None), None),
                # Several may be recorded; the latest is the one that stood.
                dose_modification=dose[-1].modification if dose else None,
                early_termination=end[0].reason if end else None,
                intervals=_intervals(s, *recorded) if recorded else (),
                adverse_events=tuple(AdverseEvent(e.description, e.grade, e.related,
                                                  e.action or "", e.id)
                                     for e in events.get(p.id, [])),
                id=p.id, session_id=p.session_id, note=p.attendance_note or "",
                rpe_ratings=ratings, dose_note=(dose[-1].note or "") if dose else ""))
        withdrawal = None
        if enrolment.withdrawn_on is not None:
            withdrawal = Withdrawal(enrolment.withdrawn_on, enrolment.withdrawal_reason or "")
            sessions = _after_withdrawal(sessions, prog, enrolment.enrolled_on,
                                         enrolment.withdrawn_on, by_week, presets)
        return ParticipantProgramme(person.study_code, prog.start_date, tuple(sessions),
                                    withdrawal, prog.name, enrolment.enrolled_on)


def _after_withdrawal(sessions: list[SessionRecord], prog: ProgrammeRow, enrolled_on: date,
                      withdrawn_on: date, by_week: dict[int, str],
                      presets: dict[str, TrainingProtocol | None]) -> list[SessionRecord]:
    """Intention to treat (programme.metrics): every session of the plan after a withdrawal
    counts as planned and missed, whether it was planned before the withdrawal (attendance
    never recorded) or not planned at all (storage plans none after a withdrawal)."""
    out = [replace(r, status=Attendance.MISSED)
           if r.status is None and r.planned.date > withdrawn_on else r for r in sessions]
    have = {(r.planned.week, r.planned.number_in_week) for r in out}
    for week, number, day in calendar(prog.start_date, prog.weeks, prog.weekdays):
        if (week, number) in have or day <= withdrawn_on or day < enrolled_on:
            continue
        protocol = _preset(presets, by_week.get(week))
        out.append(SessionRecord(
            PlannedSession(week, (week - 1) * prog.sessions_per_week + number, day,
                           _work_s(protocol) if protocol else 0.0, number_in_week=number),
            Attendance.MISSED))
    return sorted(out, key=lambda r: (r.planned.week, r.planned.number))


def _preset(cache: dict[str, TrainingProtocol | None],
            key: str | None) -> TrainingProtocol | None:
    if key is None:
        return None
    if key not in cache:
        try:
            cache[key] = load_protocol(key)
        except ProtocolError:  # a preset since removed: fall back to the recording
            cache[key] = None
    return cache[key]


def _recorded(s: Session, session_id: int | None,
              participant_id: int) -> tuple[TrainingProtocol, int] | None:
    """The protocol a linked recorded session ran and the participant's row in it."""
    if session_id is None:
        return None
    row = s.execute(sa.select(SessionRow.protocol, SessionParticipantRow.id)
                    .join(SessionParticipantRow, SessionParticipantRow.session_id == SessionRow.id)
                    .where(SessionRow.id == session_id,
                           SessionParticipantRow.participant_id == participant_id)).first()
    return None if row is None else (protocol_from_json(row[0]), row[1])


def _work_s(protocol: TrainingProtocol) -> float:
    """Prescribed work time: the intervals with a target, as the protocol lays them out (a
    block of short bouts whole, rests included, as it is judged)."""
    return sum(i.planned_s for i in prescribed_intervals(protocol))


def _intervals(s: Session, protocol: TrainingProtocol,
               session_participant_id: int) -> tuple[IntervalResult, ...]:
    """Each prescribed interval (a work phase, or a block of short bouts once) with the
    stored judgement; one not performed (early termination) or cut short before it could
    be judged is listed as not achieved."""
    judged = {a.phase_index: a for a in s.scalars(
        sa.select(PhaseAdherenceRow)
        .where(PhaseAdherenceRow.session_participant_id == session_participant_id))}
    out = []
    for interval in prescribed_intervals(protocol):
        a = judged.get(interval.index)
        if a is None:
            out.append(IntervalResult(Phase.WORK, interval.planned_s))
        else:
            out.append(IntervalResult(Phase.WORK, a.planned_s or interval.planned_s,
                                      achieved=a.achieved and a.judged,
                                      peak_pct_hrmax=a.peak_pct,
                                      time_in_target_s=a.seconds_in_target))
    return tuple(out)


def _valid_borg(borg: int) -> int:
    try:  # the rule and its sentence are the model's; storage only says it as its own error
        return valid_rpe(borg)
    except ValueError as e:
        raise ProgrammeError(str(e)) from None


def _valid_grade(grade: int) -> int:
    try:
        return valid_grade(grade)
    except ValueError as e:
        raise ProgrammeError(str(e)) from None


def _valid_phase(phase_index: int | None) -> int | None:
    if phase_index is not None and phase_index < 0:
        raise ProgrammeError(tr("Phase {index} does not exist; phases are counted from 0.")
                             .format(index=phase_index))
    return phase_index


def _records(s: Session, table: type[_Row], programme: str,
             study_code: str | None) -> Iterable[tuple[ParticipantRow, PlannedSessionRow, _Row]]:
    planned = {ps.id: (p, ps) for p, ps in planned_rows(s, programme, study_code)}
    rows = s.scalars(sa.select(table).where(table.planned_session_id.in_(list(planned)))
                     .order_by(table.id))
    found = [(*planned[r.planned_session_id], r) for r in rows]
    return sorted(found, key=lambda t: (t[0].study_code.lower(), t[1].week, t[1].number,
                                        t[2].id))


def _record(s: Session, table: type[_Row], record_id: int,
            what: str) -> tuple[_Row, ParticipantRow, PlannedSessionRow]:
    row = s.get(table, record_id)
    if row is None:
        raise ProgrammeError(tr("There is no {what} with id {id}; `programmes records NAME` "
                                "lists the ids.")
                             .format(what=what, id=record_id))
    planned = s.get_one(PlannedSessionRow, row.planned_session_id)
    enrolment = s.get_one(EnrolmentRow, planned.enrolment_id)
    return row, s.get_one(ParticipantRow, enrolment.participant_id), planned


def _rpe_info(person: ParticipantRow, planned: PlannedSessionRow, row: RPERow) -> RPEInfo:
    return RPEInfo(row.id, person.study_code, planned.week, planned.number, row.phase_index,
                   row.borg, row.recorded_utc, row.updated_utc)


def _dose_info(person: ParticipantRow, planned: PlannedSessionRow,
               row: DoseModificationRow) -> DoseModificationInfo:
    return DoseModificationInfo(row.id, person.study_code, planned.week, planned.number,
                                row.modification, row.note or "", row.recorded_utc,
                                row.updated_utc)


def _termination_info(person: ParticipantRow, planned: PlannedSessionRow,
                      row: EarlyTerminationRow) -> EarlyTerminationInfo:
    return EarlyTerminationInfo(row.id, person.study_code, planned.week, planned.number,
                                row.reason, row.recorded_utc, row.updated_utc)


def _adverse_info(person: ParticipantRow, planned: PlannedSessionRow,
                  row: AdverseEventRow) -> AdverseEventInfo:
    return AdverseEventInfo(row.id, person.study_code, planned.week, planned.number,
                            row.description, row.grade, row.related, row.action or "",
                            row.recorded_utc, row.updated_utc)

