"""Programmes in the store: a programme (e.g. HI AIM's 18 sessions, 3 a week for 6 weeks),
who is enrolled and withdrawn, and each participant's planned sessions and their attendance
(DESIGN.md, "Above one session: the programme"). What happened in a session (RPE, dose
modifications, early terminations, adverse events) and one participant's whole programme
are in ``programme_records``.

The registry commands and the setup page call these functions; reports and metrics read
the ``list_*`` functions, which return plain data.

As in the participant registry, every write checks everything first and commits once, so
a refused command changes nothing; what a user can get wrong raises ``ProgrammeError``
(a ``RegistryError``) with one sentence. A planned session is named by programme, study
code, week (1..weeks) and number within the week (1..sessions per week).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Final, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Session

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import Attendance, MissedReason
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.registry import RegistryError, find_participant_row
from hiaim_monitor.storage.schema import (
    EnrolmentRow,
    ParticipantRow,
    PlannedSessionRow,
    ProgrammeRow,
    SessionParticipantRow,
    SessionRow,
)

WEEKS_RANGE: Final = (1, 52)
NAME_MAX_CHARS: Final = 100  # programmes.name
# The weekdays (0 = Monday) a programme runs on when none are given: spread over the week.
DEFAULT_WEEKDAYS: Final = {1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4),
                           5: (0, 1, 2, 3, 4), 6: (0, 1, 2, 3, 4, 5),
                           7: (0, 1, 2, 3, 4, 5, 6)}


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
    with storage_errors(db), db.writing() as s, s.begin():
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
        return programme_info(s, row)


def edit_programme(db: Database, name: str, *, new_name: str | None = None,
                   site: str | None = None, notes: str | None = None,
                   protocol_by_week: dict[int, str] | None = None) -> ProgrammeInfo:
    """Change what is given (None: leave it). The calendar (start, weeks, sessions a week)
    is fixed once created: the planned sessions and their records depend on it."""
    with storage_errors(db), db.writing() as s, s.begin():
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
        return programme_info(s, row)


def list_programmes(db: Database, *, include_simulated: bool = True) -> list[ProgrammeInfo]:
    """The programmes by name; without the simulated ones for a real class's choices."""
    query = sa.select(ProgrammeRow).order_by(sa.func.lower(ProgrammeRow.name))
    if not include_simulated:
        query = query.where(ProgrammeRow.simulated == sa.false())
    with storage_errors(db), db.session() as s:
        return [programme_info(s, row) for row in s.scalars(query)]


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
    with storage_errors(db), db.writing() as s, s.begin():
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
        return enrolment_info(prog, person, row)


def withdraw(db: Database, programme: str, study_code: str, *, withdrawn_on: date,
             reason: str) -> EnrolmentInfo:
    """Withdraw a participant for good (permanent discontinuation) on ``withdrawn_on``. Their
    planned sessions and records stay; correcting a withdrawal is withdrawing again."""
    reason = reason.strip()
    if not reason:
        raise ProgrammeError(tr("The reason for the withdrawal is empty; give one."))
    with storage_errors(db), db.writing() as s, s.begin():
        prog, person, row = enrolled_rows(s, programme, study_code)
        if withdrawn_on < row.enrolled_on:
            raise ProgrammeError(tr("The withdrawal date {day} is before {code} was enrolled "
                                    "({enrolled}); check the date.").format(
                day=withdrawn_on.isoformat(), code=person.study_code,
                enrolled=row.enrolled_on.isoformat()))
        row.withdrawn_on = withdrawn_on
        row.withdrawal_reason = reason
        row.updated_utc = datetime.now(UTC)
        return enrolment_info(prog, person, row)


def edit_enrolment(db: Database, programme: str, study_code: str, *,
                   enrolled_on: date | None = None, undo_withdrawal: bool = False) -> EnrolmentInfo:
    """Correct the enrolment date, or undo a withdrawal entered by mistake. Sessions already
    planned stay: ``plan_sessions`` adds any the new dates call for."""
    with storage_errors(db), db.writing() as s, s.begin():
        prog, person, row = enrolled_rows(s, programme, study_code)
        if enrolled_on is not None:
            if row.withdrawn_on is not None and not undo_withdrawal and (
                    row.withdrawn_on < enrolled_on):
                raise ProgrammeError(tr("The withdrawal date {day} is before {code} was "
                                        "enrolled ({enrolled}); check the date.").format(
                    day=row.withdrawn_on.isoformat(), code=person.study_code,
                    enrolled=enrolled_on.isoformat()))
            row.enrolled_on = enrolled_on
        if undo_withdrawal:
            row.withdrawn_on, row.withdrawal_reason = None, ""
        row.updated_utc = datetime.now(UTC)
        return enrolment_info(prog, person, row)


def list_enrolments(db: Database, programme: str) -> list[EnrolmentInfo]:
    """Who is enrolled in ``programme``, by study code, withdrawn ones included."""
    with storage_errors(db), db.session() as s:
        prog = find_programme_row(s, programme)
        rows = s.execute(sa.select(EnrolmentRow, ParticipantRow)
                         .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
                         .where(EnrolmentRow.programme_id == prog.id)
                         .order_by(sa.func.lower(ParticipantRow.study_code))).all()
        return [enrolment_info(prog, person, row) for row, person in rows]


# --- planned sessions and attendance


def plan_sessions(db: Database, programme: str, study_code: str | None = None, *,
                  until: date | None = None) -> int:
    """Plan the programme's calendar for every enrolled participant (or the one given): each
    planned date from their enrolment up to a withdrawal (if any), and up to ``until`` when
    given (a long open-ended calendar planned as it goes, like the demo's simulated class).
    Sessions already planned stay as they are, so planning again (after enrolling someone
    new) adds only what is missing. Returns how many sessions were planned anew."""
    now = datetime.now(UTC)
    with storage_errors(db), db.writing() as s, s.begin():
        prog = find_programme_row(s, programme)
        if study_code is not None:
            enrolments = [enrolled_rows(s, programme, study_code)[2]]
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
                after = ((enrolment.withdrawn_on is not None and day > enrolment.withdrawn_on)
                         or (until is not None and day > until))
                if (week, number) in have or day < enrolment.enrolled_on or after:
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
    attendance = choice(Attendance, attendance, tr("Attendance"))
    missed = None if reason is None else choice(MissedReason, reason, tr("Missed reason"))
    if missed is not None and attendance is not Attendance.MISSED:
        raise ProgrammeError(tr("A reason for missing is given, but the session is marked "
                                "{attendance}; give a reason only for a missed session.")
                             .format(attendance=attendance.value))
    with storage_errors(db), db.writing() as s, s.begin():
        person, planned = planned_row(s, programme, study_code, week, number)
        if session_id is not None:
            session = s.get(SessionRow, session_id)
            if session is None:
                raise ProgrammeError(tr("There is no recorded session {id}; the session list "
                                        "shows them.").format(id=session_id))
            took_part = s.scalar(sa.select(SessionParticipantRow.id).where(
                SessionParticipantRow.session_id == session_id,
                SessionParticipantRow.participant_id == person.id))
            if took_part is None:
                raise ProgrammeError(tr("{code} did not take part in recorded session {id}; "
                                        "link the session they were in.")
                                     .format(code=person.study_code, id=session_id))
            planned.session_id = session_id
        planned.attendance = attendance
        planned.missed_reason = missed
        planned.attendance_note = note
        planned.attendance_utc = datetime.now(UTC)
        return planned_info(person, planned)


def list_planned_sessions(db: Database, programme: str,
                          study_code: str | None = None) -> list[PlannedSessionInfo]:
    """The planned sessions with their attendance, by study code, week and number (records
    left out: ``programme_records.participant_programme`` has them)."""
    with storage_errors(db), db.session() as s:
        return [planned_info(person, planned)
                for person, planned in planned_rows(s, programme, study_code)]


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


# --- checks and look-ups

_E = TypeVar("_E", bound=Enum)


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


def valid_text(text: str, empty: str) -> str:
    text = text.strip()
    if not text:
        raise ProgrammeError(empty)
    return text


def choice(enum_cls: type[_E], value: _E | str, what: str) -> _E:
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


def enrolled_rows(s: Session, programme: str,
              study_code: str) -> tuple[ProgrammeRow, ParticipantRow, EnrolmentRow]:
    prog = find_programme_row(s, programme)
    person = find_participant_row(s, study_code)
    row = _enrolment(s, prog, person)
    if row is None:
        raise ProgrammeError(tr("{code} is not enrolled in programme {name}.")
                             .format(code=person.study_code, name=prog.name))
    return prog, person, row


def planned_row(s: Session, programme: str, study_code: str, week: int, number: int, *,
             taking_part: bool = False) -> tuple[ParticipantRow, PlannedSessionRow]:
    """The planned session named so; ``taking_part``: refused when it is marked missed or
    cancelled (no RPE or events for a session the participant was not at)."""
    prog, person, enrolment = enrolled_rows(s, programme, study_code)
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


def planned_rows(s: Session, programme: str,
                  study_code: str | None) -> list[tuple[ParticipantRow, PlannedSessionRow]]:
    prog = find_programme_row(s, programme)
    query = (sa.select(ParticipantRow, PlannedSessionRow)
             .join(EnrolmentRow, EnrolmentRow.id == PlannedSessionRow.enrolment_id)
             .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
             .where(EnrolmentRow.programme_id == prog.id)
             .order_by(sa.func.lower(ParticipantRow.study_code), PlannedSessionRow.week,
                       PlannedSessionRow.number))
    if study_code is not None:
        query = query.where(EnrolmentRow.id == enrolled_rows(s, programme, study_code)[2].id)
    return [(p, ps) for p, ps in s.execute(query)]


# --- plain data


def programme_info(s: Session, row: ProgrammeRow) -> ProgrammeInfo:
    enrolled = s.scalar(sa.select(sa.func.count()).select_from(EnrolmentRow)
                        .where(EnrolmentRow.programme_id == row.id)) or 0
    return ProgrammeInfo(row.name, row.site, row.start_date, row.weeks, row.sessions_per_week,
                         tuple(row.weekdays),
                         {int(w): k for w, k in (row.protocol_by_week or {}).items()},
                         bool(row.simulated), row.notes or "", enrolled)


def enrolment_info(prog: ProgrammeRow, person: ParticipantRow,
                    row: EnrolmentRow) -> EnrolmentInfo:
    return EnrolmentInfo(prog.name, person.study_code, row.enrolled_on, row.withdrawn_on,
                         row.withdrawal_reason or "")


def planned_info(person: ParticipantRow, row: PlannedSessionRow) -> PlannedSessionInfo:
    return PlannedSessionInfo(person.study_code, row.week, row.number, row.planned_on,
                              row.session_id, row.attendance, row.missed_reason,
                              row.attendance_note or "", row.attendance_utc)


