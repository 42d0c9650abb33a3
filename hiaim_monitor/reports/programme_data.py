"""One programme, read once for its report: the programme, every enrolled participant's
whole programme in the model's shape (``storage.programme_records.participant_programme``,
which the metrics read as it is), each planned session's place in the attendance calendar,
and the sessions whose data are missing (attended but no recorded session linked, or
linked to a session that holds no heart rate for the participant).

No sample is read: the intervals come from the stored judgements; whether a linked session
has data at all is one EXISTS query for the whole programme.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import Attendance, ParticipantProgramme, SessionRecord
from hiaim_monitor.storage import programme_records, programmes
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.programmes import EnrolmentInfo, ProgrammeInfo
from hiaim_monitor.storage.registry import find_participant_row
from hiaim_monitor.storage.schema import ParticipantRow, SampleRow, SessionParticipantRow

MISSING_NAMED_IN_WARNING: Final = 3  # the warning line names this many, then "and N more"


class Cell(enum.Enum):
    """A planned session's place in the attendance calendar."""

    ATTENDED = "attended"
    MISSED = "missed"
    CANCELLED = "cancelled"
    NOT_RECORDED = "not_recorded"  # still to come, or attendance not entered yet
    AFTER_WITHDRAWAL = "after_withdrawal"
    NOT_PLANNED = "not_planned"  # before the enrolment


def cell_of(p: ParticipantProgramme, r: SessionRecord) -> Cell:
    if r.status is Attendance.ATTENDED:
        return Cell.ATTENDED
    if p.withdrawal is not None and r.planned.date > p.withdrawal.date:
        return Cell.AFTER_WITHDRAWAL
    if r.status is Attendance.MISSED:
        return Cell.MISSED
    if r.status is Attendance.CANCELLED:
        return Cell.CANCELLED
    return Cell.NOT_RECORDED


@dataclass(frozen=True)
class Missing:
    """A session whose data the report cannot show."""

    study_code: str
    session_number: int  # in the programme, 1-based
    week: int
    number_in_week: int
    session_id: int | None  # None: attended but no recorded session linked

    def text(self) -> str:
        where = tr("{code} session {n} (week {week} #{number})").format(
            code=self.study_code, n=self.session_number, week=self.week,
            number=self.number_in_week)
        if self.session_id is None:
            return tr("{where}: attended, but no recorded session is linked").format(
                where=where)
        return tr("{where}: recorded session {id} holds no heart rate for them").format(
            where=where, id=self.session_id)


@dataclass(frozen=True)
class ProgrammeReport:
    info: ProgrammeInfo
    people: tuple[ParticipantProgramme, ...]  # by study code
    enrolments: dict[str, EnrolmentInfo]
    missing: tuple[Missing, ...]
    only: str | None = None  # the one participant asked for, or None: everyone

    @property
    def slots(self) -> int:
        """Planned sessions in the programme's calendar (18 in HI AIM)."""
        return self.info.weeks * self.info.sessions_per_week

    def missing_for(self, code: str) -> list[Missing]:
        return [m for m in self.missing if m.study_code == code]

    def missing_line(self) -> str:
        """One line for stderr: how many sessions have missing data, naming the first."""
        named = "; ".join(m.text() for m in self.missing[:MISSING_NAMED_IN_WARNING])
        more = len(self.missing) - MISSING_NAMED_IN_WARNING
        line = tr("{n} sessions of programme {name} have no data to report: {named}").format(
            n=len(self.missing), name=self.info.name, named=named)
        if more > 0:
            line += tr("; and {n} more (listed in the report)").format(n=more)
        return line


def load_programme_report(db: Database, programme: str,
                          participant: str | None = None) -> ProgrammeReport:
    """Everything the programme report shows; ``ProgrammeError``/``RegistryError`` for an
    unknown programme or study code, or a participant not enrolled."""
    enrolments = programmes.list_enrolments(db, programme)  # refuses an unknown programme
    # Names are matched in any case, as storage matches them.
    info = next(i for i in programmes.list_programmes(db)
                if i.name.lower() == programme.strip().lower())
    codes = [e.study_code for e in enrolments]
    if participant is not None:
        with storage_errors(db), db.session() as s:
            code = find_participant_row(s, participant).study_code  # refuses an unknown code
        # participant_programme refuses one not enrolled, in the programme's own words.
        people = (programme_records.participant_programme(db, info.name, code),)
        only: str | None = people[0].study_code
    else:
        people = tuple(programme_records.participant_programme(db, info.name, c)
                       for c in codes)
        only = None
    return ProgrammeReport(info, people, {e.study_code: e for e in enrolments},
                           tuple(_missing(db, people)), only)


def _missing(db: Database, people: tuple[ParticipantProgramme, ...]) -> list[Missing]:
    linked = {r.session_id for p in people for r in p.sessions
              if r.attended and r.session_id is not None}
    with_data: set[tuple[int, str]] = set()
    if linked:
        has_samples = sa.exists().where(
            SampleRow.session_participant_id == SessionParticipantRow.id)
        with storage_errors(db), db.session() as s:
            with_data = {(sid, code) for sid, code in s.execute(
                sa.select(SessionParticipantRow.session_id, ParticipantRow.study_code)
                .join(ParticipantRow, ParticipantRow.id == SessionParticipantRow.participant_id)
                .where(SessionParticipantRow.session_id.in_(sorted(linked)), has_samples))}
    out = []
    for p in people:
        for r in p.sessions:
            if not r.attended:
                continue
            if r.session_id is None or (r.session_id, p.study_code) not in with_data:
                out.append(Missing(p.study_code, r.planned.number, r.planned.week,
                                   r.planned.number_in_week or 0, r.session_id))
    return out


def group_weeks(report: ProgrammeReport) -> list[dict[str, Any]]:
    """Per week over everyone: attendance, work-interval compliance, RPE mean and range of
    the participants' weekly means."""
    out = []
    for week in range(1, report.info.weeks + 1):
        rows = [r for p in report.people for r in metrics.weekly(p) if r["week"] == week]
        records = [r for p in report.people for r in p.sessions if r.planned.week == week]
        rpes = [r.rpe for r in records if r.attended and r.rpe is not None]
        c = metrics.compliance(records)
        planned = sum(r["planned_sessions"] for r in rows)
        attended = sum(r["attended_sessions"] for r in rows)
        means = [r["mean_rpe"] for r in rows if r["mean_rpe"] is not None]
        out.append({"week": week, "planned_sessions": planned, "attended_sessions": attended,
                    "attendance": attended / planned if planned else None,
                    "work_intervals_prescribed": c.work_prescribed,
                    "work_intervals_achieved": c.work_achieved,
                    "work_compliance": c.work_fraction,
                    "mean_rpe": statistics.fmean(rpes) if rpes else None,
                    "rpe_low": min(means) if means else None,
                    "rpe_high": max(means) if means else None})
    return out
