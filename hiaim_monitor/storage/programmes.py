"""Programmes in the store: a programme (e.g. HI AIM's 18 sessions, 3 a week for 6 weeks),
who is enrolled and withdrawn, each participant's planned sessions and their attendance, and
per planned session the Borg RPE ratings, dose modifications, an early termination and
adverse events (DESIGN.md, "Above one session: the programme").

The registry commands and the setup page call these functions; reports and metrics read
``participant_programme`` and the ``list_*`` functions, which return plain data.

As in the participant registry, every write checks everything first and commits once, so
a refused command changes nothing; what a user can get wrong raises ``ProgrammeError``
(a ``RegistryError``) with one sentence. A planned session is named by programme, study
code, week (1..weeks) and number within the week (1..sessions per week).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Session

from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.registry import RegistryError, find_participant_row
from hiaim_monitor.storage.schema import (
    AdverseEventRow,
    Attendance,
    DoseChange,
    DoseChangeCause,
    DoseModificationRow,
    EarlyTerminationRow,
    EnrolmentRow,
    MissedReason,
    ParticipantRow,
    PlannedSessionRow,
    ProgrammeRow,
    Relatedness,
    RPERow,
    SessionRow,
)

BORG_RANGE: Final = (6, 20)  # Borg's RPE scale
GRADE_RANGE: Final = (1, 5)  # adverse-event severity, CTCAE-style
WEEKS_RANGE: Final = (1, 52)
NAME_MAX_CHARS: Final = 100  # programmes.name
# The weekdays (0 = Monday) a programme runs on when none are given: spread over the week.
DEFAULT_WEEKDAYS: Final = {1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4),
                           5: (0, 1, 2, 3, 4), 6: (0, 1, 2, 3, 4, 5),
                           7: (0, 1, 2, 3, 4, 5, 6)}


_UNSET: Any = object()  # "leave as it is" where None is a value


class ProgrammeError(RegistryError):
    """A programme command was refused; the message is one sentence for the user."""


@dataclass(frozen=True, slots=True)
class ProgrammeInfo:
    name: str
    site: str
    start_date: date
    weeks: int
    sessions_per_week: int
    weekdays: tuple[int, ...]  # 0 = Monday
    protocol_by_week: dict[int, str]  # week -> protocol key; empty: none planned per week
    simulated: bool
    notes: str
    enrolled: int  # participants enrolled, withdrawn ones included


@dataclass(frozen=True, slots=True)
class EnrolmentInfo:
    programme: str
    study_code: str
    enrolled_on: date
    withdrawn_on: date | None  # permanent discontinuation
    withdrawal_reason: str


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
    change: DoseChange
    cause: DoseChangeCause
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


@dataclass(frozen=True, slots=True)
class PlannedSessionInfo:
    study_code: str
    week: int
    number: int
    planned_on: date
    session_id: int | None  # the recorded session, when linked
    attendance: Attendance | None  # None: not recorded yet
    missed_reason: MissedReason | None
    attendance_note: str
    attendance_utc: datetime | None
    rpe: tuple[RPEInfo, ...] = ()
    dose_modifications: tuple[DoseModificationInfo, ...] = ()
    early_termination: EarlyTerminationInfo | None = None
    adverse_events: tuple[AdverseEventInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class ParticipantProgramme:
    """One participant's whole programme, as plain data."""

    programme: ProgrammeInfo
    enrolment: EnrolmentInfo
    sessions: tuple[PlannedSessionInfo, ...]  # by week and number


# --- programmes


def create_programme(db: Database, name: str, *, start_date: date, site: str = "",
                     weeks: int = 6, sessions_per_week: int = 3,
                     weekdays: Sequence[int] | None = None,
                     protocol_by_week: dict[int, str] | None = None, simulated: bool = False,
                     notes: str = "") -> ProgrammeInfo:
    """A new programme. ``weekdays`` (0 = Monday; as many as ``sessions_per_week``) are the
    days its sessions fall on, Mon/Wed/Fri for 3 a week unless given; ``protocol_by_week``
    optionally names the protocol each week runs (progression). ``simulated``: only
    simulated participants can be enrolled, and no real programme takes them."""
    name = _valid_name(name)
    weeks, sessions_per_week, days = _valid_calendar(weeks, sessions_per_week, weekdays)
    protocols = _valid_protocols(protocol_by_week, weeks)
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        if _find_programme(s, name) is not None:
            raise ProgrammeError(tr("Programme {name} already exists; choose another name.")
                                 .format(name=name))
        row = ProgrammeRow(name=name, site=site.strip(), start_date=start_date, weeks=weeks,
                           sessions_per_week=sessions_per_week, weekdays=list(days),
                           protocol_by_week=protocols, simulated=simulated, notes=notes,
                           created_utc=now, updated_utc=now)
        s.add(row)
        try:
            s.flush()
        except exc.IntegrityError:  # created meanwhile by another user
            raise ProgrammeError(tr("Programme {name} already exists; choose another name.")
                                 .format(name=name)) from None
        return _programme_info(s, row)


def edit_programme(db: Database, name: str, *, new_name: str | None = None,
                   site: str | None = None, notes: str | None = None,
                   protocol_by_week: dict[int, str] | None = None) -> ProgrammeInfo:
    """Change what is given (None: leave it). The calendar (start, weeks, sessions a week)
    is fixed once created: the planned sessions and their records depend on it."""
    with storage_errors(db), db.session() as s, s.begin():
        row = find_programme_row(s, name)
        if new_name is not None:
            new_name = _valid_name(new_name)
            same = _find_programme(s, new_name)
            if same is not None and same.id != row.id:
                raise ProgrammeError(tr("Programme {name} already exists; choose another "
                                        "name.").format(name=new_name))
            row.name = new_name
        if site is not None:
            row.site = site.strip()
        if notes is not None:
            row.notes = notes
        if protocol_by_week is not None:
            row.protocol_by_week = _valid_protocols(protocol_by_week, row.weeks)
        row.updated_utc = datetime.now(UTC)
        s.flush()
        return _programme_info(s, row)


def list_programmes(db: Database, *, include_simulated: bool = True) -> list[ProgrammeInfo]:
    """The programmes by name; without the simulated ones for a real class's choices."""
    query = sa.select(ProgrammeRow).order_by(sa.func.lower(ProgrammeRow.name))
    if not include_simulated:
        query = query.where(ProgrammeRow.simulated == sa.false())
    with storage_errors(db), db.session() as s:
        return [_programme_info(s, row) for row in s.scalars(query)]


def calendar(start_date: date, weeks: int,
             weekdays: Sequence[int]) -> list[tuple[int, int, date]]:
    """The planned (week, number, date) of a programme: week 1 is the seven days from
    ``start_date``, and each week's sessions fall on ``weekdays`` (0 = Monday) in date
    order, numbered from 1."""
    plan = []
    for week in range(1, weeks + 1):
        first = start_date + timedelta(days=7 * (week - 1))
        days = sorted(first + timedelta(days=d) for d in range(7)
                      if (first + timedelta(days=d)).weekday() in set(weekdays))
        plan.extend((week, number, day) for number, day in enumerate(days, start=1))
    return plan


# --- enrolment


def enrol(db: Database, programme: str, study_code: str, *,
          enrolled_on: date | None = None) -> EnrolmentInfo:
    """Enrol a registered participant (``enrolled_on``: today unless given). Simulated
    participants go only into simulated programmes, real ones only into real ones."""
    enrolled_on = enrolled_on or datetime.now(UTC).date()
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        prog = find_programme_row(s, programme)
        person = find_participant_row(s, study_code)
        if person.archived:
            raise ProgrammeError(tr("{code} is archived; put them back on the roster before "
                                    "enrolling them.").format(code=person.study_code))
        if bool(person.simulated) != bool(prog.simulated):
            text = (tr("{code} is a simulated participant and programme {name} is real; "
                       "simulated and real participants are never mixed.") if person.simulated
                    else tr("{code} is a real participant and programme {name} is simulated; "
                            "simulated and real participants are never mixed."))
            raise ProgrammeError(text.format(code=person.study_code, name=prog.name))
        if _enrolment(s, prog, person) is not None:
            raise ProgrammeError(tr("{code} is already enrolled in programme {name}.")
                                 .format(code=person.study_code, name=prog.name))
        row = EnrolmentRow(programme_id=prog.id, participant_id=person.id,
                           enrolled_on=enrolled_on, withdrawn_on=None, withdrawal_reason="",
                           created_utc=now, updated_utc=now)
        s.add(row)
        s.flush()
        return _enrolment_info(prog, person, row)


def withdraw(db: Database, programme: str, study_code: str, *, withdrawn_on: date,
             reason: str) -> EnrolmentInfo:
    """Withdraw a participant for good (permanent discontinuation) on ``withdrawn_on``. Their
    planned sessions and records stay; correcting a withdrawal is withdrawing again."""
    reason = reason.strip()
    if not reason:
        raise ProgrammeError(tr("The reason for the withdrawal is empty; give one."))
    with storage_errors(db), db.session() as s, s.begin():
        prog, person, row = _enrolled(s, programme, study_code)
        if withdrawn_on < row.enrolled_on:
            raise ProgrammeError(tr("The withdrawal date {day} is before {code} was enrolled "
                                    "({enrolled}); check the date.").format(
                day=withdrawn_on.isoformat(), code=person.study_code,
                enrolled=row.enrolled_on.isoformat()))
        row.withdrawn_on = withdrawn_on
        row.withdrawal_reason = reason
        row.updated_utc = datetime.now(UTC)
        return _enrolment_info(prog, person, row)


def list_enrolments(db: Database, programme: str) -> list[EnrolmentInfo]:
    """Who is enrolled in ``programme``, by study code, withdrawn ones included."""
    with storage_errors(db), db.session() as s:
        prog = find_programme_row(s, programme)
        rows = s.execute(sa.select(EnrolmentRow, ParticipantRow)
                         .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
                         .where(EnrolmentRow.programme_id == prog.id)
                         .order_by(sa.func.lower(ParticipantRow.study_code))).all()
        return [_enrolment_info(prog, person, row) for row, person in rows]


# --- planned sessions and attendance


def plan_sessions(db: Database, programme: str, study_code: str | None = None) -> int:
    """Plan the programme's calendar for every enrolled participant (or the one given): each
    planned date on or after their enrolment. Sessions already planned stay as they are, so
    planning again (after enrolling someone new) adds only what is missing. Returns how many
    sessions were planned anew."""
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        prog = find_programme_row(s, programme)
        if study_code is not None:
            enrolments = [_enrolled(s, programme, study_code)[2]]
        else:
            enrolments = list(s.scalars(sa.select(EnrolmentRow)
                                        .where(EnrolmentRow.programme_id == prog.id)))
        plan = calendar(prog.start_date, prog.weeks, prog.weekdays)
        added = 0
        for enrolment in enrolments:
            have = {(w, n) for w, n in s.execute(
                sa.select(PlannedSessionRow.week, PlannedSessionRow.number)
                .where(PlannedSessionRow.enrolment_id == enrolment.id))}
            for week, number, day in plan:
                if (week, number) in have or day < enrolment.enrolled_on:
                    continue
                s.add(PlannedSessionRow(enrolment_id=enrolment.id, week=week, number=number,
                                        planned_on=day, attendance_note="", created_utc=now))
                added += 1
        return added


def record_attendance(db: Database, programme: str, study_code: str, week: int, number: int,
                      attendance: Attendance | str, *, reason: MissedReason | str | None = None,
                      note: str = "", session_id: int | None = None) -> PlannedSessionInfo:
    """Record (or correct) whether a planned session was attended, missed (``reason`` from
    the short list, which may be filled in later; ``note`` free text) or cancelled by the
    site; ``session_id`` links the recorded session it became."""
    attendance = _choice(Attendance, attendance, tr("Attendance"))
    missed = None if reason is None else _choice(MissedReason, reason, tr("Missed reason"))
    if missed is not None and attendance is not Attendance.MISSED:
        raise ProgrammeError(tr("A reason for missing is given, but the session is marked "
                                "{attendance}; give a reason only for a missed session.")
                             .format(attendance=attendance.value))
    with storage_errors(db), db.session() as s, s.begin():
        person, planned = _planned(s, programme, study_code, week, number)
        if session_id is not None:
            if s.get(SessionRow, session_id) is None:
                raise ProgrammeError(tr("There is no recorded session {id}; the session list "
                                        "shows them.").format(id=session_id))
            planned.session_id = session_id
        planned.attendance = attendance
        planned.missed_reason = missed
        planned.attendance_note = note
        planned.attendance_utc = datetime.now(UTC)
        return _planned_info(person, planned)


def list_planned_sessions(db: Database, programme: str,
                          study_code: str | None = None) -> list[PlannedSessionInfo]:
    """The planned sessions with their attendance, by study code, week and number (records
    left out: ``participant_programme`` has them)."""
    with storage_errors(db), db.session() as s:
        return [_planned_info(person, planned)
                for person, planned in _planned_rows(s, programme, study_code)]


def planned_session_of(db: Database, session_id: int,
                       study_code: str) -> tuple[str, int, int] | None:
    """(programme, week, number) of the planned session a recorded session was linked to
    for this participant, or None: what the session page needs to record RPE and events."""
    with storage_errors(db), db.session() as s:
        row = s.execute(
            sa.select(ProgrammeRow.name, PlannedSessionRow.week, PlannedSessionRow.number)
            .join(EnrolmentRow, EnrolmentRow.id == PlannedSessionRow.enrolment_id)
            .join(ProgrammeRow, ProgrammeRow.id == EnrolmentRow.programme_id)
            .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
            .where(PlannedSessionRow.session_id == session_id,
                   sa.func.lower(ParticipantRow.study_code) == study_code.strip().lower())
        ).first()
        return None if row is None else (row[0], row[1], row[2])


# --- what happened in a session, per participant


def record_rpe(db: Database, programme: str, study_code: str, week: int, number: int,
               borg: int, *, phase_index: int | None = None) -> RPEInfo:
    """Borg RPE (6–20) after the work phase or block ``phase_index`` (its index in the
    session's protocol), or once at the end (None). A second rating for the same phase
    replaces the first: it is a correction."""
    borg = _valid_borg(borg)
    phase_index = _valid_phase(phase_index)
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        person, planned = _planned(s, programme, study_code, week, number, taking_part=True)
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
    with storage_errors(db), db.session() as s, s.begin():
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
                             number: int, change: DoseChange | str,
                             cause: DoseChangeCause | str,
                             note: str = "") -> DoseModificationInfo:
    """The dose was modified in this session: intensity or duration reduced, for a
    health-related or other cause."""
    change = _choice(DoseChange, change, tr("Dose modification"))
    cause = _choice(DoseChangeCause, cause, tr("Cause"))
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        person, planned = _planned(s, programme, study_code, week, number, taking_part=True)
        row = DoseModificationRow(planned_session_id=planned.id, change=change, cause=cause,
                                  note=note, recorded_utc=now, updated_utc=now)
        s.add(row)
        s.flush()
        return _dose_info(person, planned, row)


def edit_dose_modification(db: Database, record_id: int, *,
                           change: DoseChange | str | None = None,
                           cause: DoseChangeCause | str | None = None,
                           note: str | None = None) -> DoseModificationInfo:
    new_change = None if change is None else _choice(DoseChange, change,
                                                     tr("Dose modification"))
    new_cause = None if cause is None else _choice(DoseChangeCause, cause, tr("Cause"))
    with storage_errors(db), db.session() as s, s.begin():
        row, person, planned = _record(s, DoseModificationRow, record_id,
                                       tr("dose modification"))
        if new_change is not None:
            row.change = new_change
        if new_cause is not None:
            row.cause = new_cause
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
    reason = _valid_text(reason, tr("The reason for the early termination is empty; give "
                                    "one."))
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        person, planned = _planned(s, programme, study_code, week, number, taking_part=True)
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
    reason = _valid_text(reason, tr("The reason for the early termination is empty; give "
                                    "one."))
    with storage_errors(db), db.session() as s, s.begin():
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
    description = _valid_text(description, tr("The adverse event has no description; say "
                                              "what happened."))
    grade = _valid_grade(grade)
    related = _choice(Relatedness, related, tr("Related to exercise"))
    now = datetime.now(UTC)
    with storage_errors(db), db.session() as s, s.begin():
        person, planned = _planned(s, programme, study_code, week, number, taking_part=True)
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
        description = _valid_text(description, tr("The adverse event has no description; "
                                                  "say what happened."))
    grade = None if grade is None else _valid_grade(grade)
    new_related = (None if related is None
                   else _choice(Relatedness, related, tr("Related to exercise")))
    with storage_errors(db), db.session() as s, s.begin():
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
    with storage_errors(db), db.session() as s, s.begin():
        row, _, _ = _record(s, tables[kind], record_id, kind)
        s.delete(row)


def participant_programme(db: Database, programme: str,
                          study_code: str) -> ParticipantProgramme:
    """One participant's whole programme: the programme, their enrolment, and every planned
    session with its attendance and records."""
    with storage_errors(db), db.session() as s:
        prog, person, enrolment = _enrolled(s, programme, study_code)
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
        sessions = []
        for p in planned:
            base = _planned_info(person, p)
            end = ends.get(p.id, [])
            sessions.append(PlannedSessionInfo(
                base.study_code, base.week, base.number, base.planned_on, base.session_id,
                base.attendance, base.missed_reason, base.attendance_note, base.attendance_utc,
                rpe=tuple(_rpe_info(person, p, r) for r in sorted(
                    rpe.get(p.id, []), key=lambda r: (r.phase_index is None,
                                                      r.phase_index or 0))),
                dose_modifications=tuple(_dose_info(person, p, r) for r in doses.get(p.id, [])),
                early_termination=_termination_info(person, p, end[0]) if end else None,
                adverse_events=tuple(_adverse_info(person, p, r)
                                     for r in events.get(p.id, []))))
        return ParticipantProgramme(_programme_info(s, prog),
                                    _enrolment_info(prog, person, enrolment), tuple(sessions))


# --- checks and look-ups

_Row = TypeVar("_Row", RPERow, DoseModificationRow, EarlyTerminationRow, AdverseEventRow)
_E = TypeVar("_E", bound=StrEnum)


def _valid_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ProgrammeError(tr("The programme name is empty; give one."))
    if len(name) > NAME_MAX_CHARS:
        raise ProgrammeError(tr("The programme name is longer than {n} characters; shorten "
                                "it.").format(n=NAME_MAX_CHARS))
    return name


def _valid_calendar(weeks: int, sessions_per_week: int,
                    weekdays: Sequence[int] | None) -> tuple[int, int, tuple[int, ...]]:
    if not WEEKS_RANGE[0] <= weeks <= WEEKS_RANGE[1]:
        raise ProgrammeError(tr("A programme of {weeks} weeks is outside {low}–{high} weeks; "
                                "check the number.").format(weeks=weeks, low=WEEKS_RANGE[0],
                                                            high=WEEKS_RANGE[1]))
    if not 1 <= sessions_per_week <= 7:
        raise ProgrammeError(tr("{n} sessions a week is outside 1–7; check the number.")
                             .format(n=sessions_per_week))
    days = tuple(sorted(set(weekdays))) if weekdays is not None else (
        DEFAULT_WEEKDAYS[sessions_per_week])
    if any(not 0 <= d <= 6 for d in days) or len(days) != sessions_per_week:
        raise ProgrammeError(tr("Give {n} different weekdays (0 = Monday … 6 = Sunday) for "
                                "{n} sessions a week.").format(n=sessions_per_week))
    return weeks, sessions_per_week, days


def _valid_protocols(protocol_by_week: dict[int, str] | None,
                     weeks: int) -> dict[str, str] | None:
    if not protocol_by_week:
        return None
    for week, key in protocol_by_week.items():
        if not 1 <= int(week) <= weeks:
            raise ProgrammeError(tr("Week {week} is outside the programme's {weeks} weeks; "
                                    "check the protocol plan.").format(week=week, weeks=weeks))
        if not str(key).strip():
            raise ProgrammeError(tr("Week {week} has no protocol; name one or leave the week "
                                    "out.").format(week=week))
    # JSON keys are text; sorted so the stored plan reads week by week.
    return {str(w): str(k).strip() for w, k in sorted(protocol_by_week.items(),
                                                      key=lambda i: int(i[0]))}


def _valid_borg(borg: int) -> int:
    if isinstance(borg, bool) or int(borg) != borg or not (
            BORG_RANGE[0] <= borg <= BORG_RANGE[1]):
        raise ProgrammeError(tr("RPE {borg} is outside Borg's scale of {low}–{high}; check "
                                "the rating.").format(borg=borg, low=BORG_RANGE[0],
                                                      high=BORG_RANGE[1]))
    return int(borg)


def _valid_grade(grade: int) -> int:
    if isinstance(grade, bool) or int(grade) != grade or not (
            GRADE_RANGE[0] <= grade <= GRADE_RANGE[1]):
        raise ProgrammeError(tr("Grade {grade} is outside {low}–{high}; check the adverse "
                                "event's severity.").format(grade=grade, low=GRADE_RANGE[0],
                                                            high=GRADE_RANGE[1]))
    return int(grade)


def _valid_phase(phase_index: int | None) -> int | None:
    if phase_index is not None and phase_index < 0:
        raise ProgrammeError(tr("Phase {index} does not exist; phases are counted from 0.")
                             .format(index=phase_index))
    return phase_index


def _valid_text(text: str, empty: str) -> str:
    text = text.strip()
    if not text:
        raise ProgrammeError(empty)
    return text


def _choice(enum_cls: type[_E], value: _E | str, what: str) -> _E:
    try:
        return enum_cls(value)
    except ValueError:
        raise ProgrammeError(tr("{what} {value} is not one of {values}.").format(
            what=what, value=repr(value),
            values=", ".join(str(m.value) for m in enum_cls))) from None


def _find_programme(s: Session, name: str) -> ProgrammeRow | None:
    """Names are typed by hand: compared in any case."""
    return s.scalar(sa.select(ProgrammeRow).where(
        sa.func.lower(ProgrammeRow.name) == name.strip().lower()))


def find_programme_row(s: Session, name: str) -> ProgrammeRow:
    row = _find_programme(s, name)
    if row is None:
        raise ProgrammeError(tr("There is no programme {name}; the programme list shows the "
                                "programmes.").format(name=repr(name.strip())))
    return row


def _enrolment(s: Session, prog: ProgrammeRow, person: ParticipantRow) -> EnrolmentRow | None:
    return s.scalar(sa.select(EnrolmentRow).where(EnrolmentRow.programme_id == prog.id,
                                                  EnrolmentRow.participant_id == person.id))


def _enrolled(s: Session, programme: str,
              study_code: str) -> tuple[ProgrammeRow, ParticipantRow, EnrolmentRow]:
    prog = find_programme_row(s, programme)
    person = find_participant_row(s, study_code)
    row = _enrolment(s, prog, person)
    if row is None:
        raise ProgrammeError(tr("{code} is not enrolled in programme {name}.")
                             .format(code=person.study_code, name=prog.name))
    return prog, person, row


def _planned(s: Session, programme: str, study_code: str, week: int, number: int, *,
             taking_part: bool = False) -> tuple[ParticipantRow, PlannedSessionRow]:
    """The planned session named so; ``taking_part``: refused when it is marked missed or
    cancelled (no RPE or events for a session the participant was not at)."""
    prog, person, enrolment = _enrolled(s, programme, study_code)
    if not (1 <= week <= prog.weeks and 1 <= number <= prog.sessions_per_week):
        raise ProgrammeError(tr("Week {week} session {number} is outside programme {name}, "
                                "which has {weeks} weeks of {n} sessions.").format(
            week=week, number=number, name=prog.name, weeks=prog.weeks,
            n=prog.sessions_per_week))
    row = s.scalar(sa.select(PlannedSessionRow).where(
        PlannedSessionRow.enrolment_id == enrolment.id, PlannedSessionRow.week == week,
        PlannedSessionRow.number == number))
    if row is None:
        raise ProgrammeError(tr("{code} has no session planned in week {week} as number "
                                "{number} of programme {name}; plan the sessions first.")
                             .format(code=person.study_code, week=week, number=number,
                                     name=prog.name))
    if taking_part and row.attendance in (Attendance.MISSED, Attendance.CANCELLED):
        raise ProgrammeError(tr("{code}'s session in week {week} as number {number} is "
                                "marked {attendance}; record it as attended first.").format(
            code=person.study_code, week=week, number=number,
            attendance=row.attendance.value))
    return person, row


def _planned_rows(s: Session, programme: str,
                  study_code: str | None) -> list[tuple[ParticipantRow, PlannedSessionRow]]:
    prog = find_programme_row(s, programme)
    query = (sa.select(ParticipantRow, PlannedSessionRow)
             .join(EnrolmentRow, EnrolmentRow.id == PlannedSessionRow.enrolment_id)
             .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
             .where(EnrolmentRow.programme_id == prog.id)
             .order_by(sa.func.lower(ParticipantRow.study_code), PlannedSessionRow.week,
                       PlannedSessionRow.number))
    if study_code is not None:
        query = query.where(EnrolmentRow.id == _enrolled(s, programme, study_code)[2].id)
    return [(p, ps) for p, ps in s.execute(query)]


def _records(s: Session, table: type[_Row], programme: str,
             study_code: str | None) -> Iterable[tuple[ParticipantRow, PlannedSessionRow, _Row]]:
    planned = {ps.id: (p, ps) for p, ps in _planned_rows(s, programme, study_code)}
    rows = s.scalars(sa.select(table).where(table.planned_session_id.in_(list(planned)))
                     .order_by(table.id))
    found = [(*planned[r.planned_session_id], r) for r in rows]
    return sorted(found, key=lambda t: (t[0].study_code.lower(), t[1].week, t[1].number,
                                        t[2].id))


def _record(s: Session, table: type[_Row], record_id: int,
            what: str) -> tuple[_Row, ParticipantRow, PlannedSessionRow]:
    row = s.get(table, record_id)
    if row is None:
        raise ProgrammeError(tr("There is no {what} with id {id}; the list shows the ids.")
                             .format(what=what, id=record_id))
    planned = s.get_one(PlannedSessionRow, row.planned_session_id)
    enrolment = s.get_one(EnrolmentRow, planned.enrolment_id)
    return row, s.get_one(ParticipantRow, enrolment.participant_id), planned


# --- plain data


def _programme_info(s: Session, row: ProgrammeRow) -> ProgrammeInfo:
    enrolled = s.scalar(sa.select(sa.func.count()).select_from(EnrolmentRow)
                        .where(EnrolmentRow.programme_id == row.id)) or 0
    return ProgrammeInfo(row.name, row.site, row.start_date, row.weeks, row.sessions_per_week,
                         tuple(row.weekdays),
                         {int(w): k for w, k in (row.protocol_by_week or {}).items()},
                         bool(row.simulated), row.notes or "", enrolled)


def _enrolment_info(prog: ProgrammeRow, person: ParticipantRow,
                    row: EnrolmentRow) -> EnrolmentInfo:
    return EnrolmentInfo(prog.name, person.study_code, row.enrolled_on, row.withdrawn_on,
                         row.withdrawal_reason or "")


def _planned_info(person: ParticipantRow, row: PlannedSessionRow) -> PlannedSessionInfo:
    return PlannedSessionInfo(person.study_code, row.week, row.number, row.planned_on,
                              row.session_id, row.attendance, row.missed_reason,
                              row.attendance_note or "", row.attendance_utc)


def _rpe_info(person: ParticipantRow, planned: PlannedSessionRow, row: RPERow) -> RPEInfo:
    return RPEInfo(row.id, person.study_code, planned.week, planned.number, row.phase_index,
                   row.borg, row.recorded_utc, row.updated_utc)


def _dose_info(person: ParticipantRow, planned: PlannedSessionRow,
               row: DoseModificationRow) -> DoseModificationInfo:
    return DoseModificationInfo(row.id, person.study_code, planned.week, planned.number,
                                row.change, row.cause, row.note or "", row.recorded_utc,
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
