"""What a programme export covers: the programme, one participant or everyone enrolled, the
recorded sessions their planned sessions are linked to, and in each of those sessions only
the participants whose planned session it was (someone else in the same class, enrolled
elsewhere or not at all, is left out).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import ExportError, name_part
from hiaim_monitor.exports.data import Link, Links
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.programmes import enrolled_rows, find_programme_row
from hiaim_monitor.storage.registry import RegistryError
from hiaim_monitor.storage.schema import (
    EnrolmentRow,
    ParticipantRow,
    PlannedSessionRow,
    SessionRow,
)


@dataclass(frozen=True, slots=True)
class ProgrammeScope:
    name: str  # as stored
    weeks: int
    sessions_per_week: int
    study_code: str | None  # one participant (as stored), or None: everyone enrolled
    display_names: dict[str, str]  # study code → display name, of everyone in the scope
    session_ids: tuple[int, ...]  # the linked recorded sessions, in the order they started
    links: Links  # (session id, study code) → its planned session, for those in the scope

    @property
    def codes(self) -> list[str]:
        """The study codes in the scope, in study-code order."""
        return sorted(self.display_names, key=str.lower)


def programme_scope(db: Database, programme: str, study_code: str | None = None
                    ) -> ProgrammeScope:
    """The scope of ``programme`` (for ``study_code`` only, when given); ``ExportError``
    for an unknown programme or study code or a participant not enrolled in it."""
    with storage_errors(db), db.session() as s:
        try:
            prog = find_programme_row(s, programme)
            enrolment = (enrolled_rows(s, programme, study_code)[2]
                         if study_code is not None else None)
        except RegistryError as error:
            raise ExportError(str(error)) from None
        mine = EnrolmentRow.programme_id == prog.id
        if enrolment is not None:
            mine = sa.and_(mine, EnrolmentRow.id == enrolment.id)
        people = s.execute(
            sa.select(ParticipantRow.study_code, ParticipantRow.display_name)
            .join(EnrolmentRow, EnrolmentRow.participant_id == ParticipantRow.id)
            .where(mine)).all()
        planned = s.execute(
            sa.select(PlannedSessionRow.session_id, ParticipantRow.study_code,
                      PlannedSessionRow.week, PlannedSessionRow.number)
            .join(EnrolmentRow, EnrolmentRow.id == PlannedSessionRow.enrolment_id)
            .join(ParticipantRow, ParticipantRow.id == EnrolmentRow.participant_id)
            .join(SessionRow, SessionRow.id == PlannedSessionRow.session_id)
            .where(mine)
            .order_by(SessionRow.started_utc, SessionRow.id)).all()
    per_week = prog.sessions_per_week
    links = {(sid, code): Link(prog.name, week, number, (week - 1) * per_week + number)
             for sid, code, week, number in planned}
    return ProgrammeScope(
        prog.name, prog.weeks, per_week,
        None if enrolment is None else people[0][0],
        dict(people), tuple(dict.fromkeys(sid for sid, *_ in planned)), links)


def scoped_sessions(db: Database, scope: ProgrammeScope) -> list[data.ExportSession]:
    """The linked sessions, each with only the participants whose planned session it was."""
    out = []
    for session in data.load_sessions(db, list(scope.session_ids)):
        people = tuple(p for p in session.participants
                       if (session.session_id, p.study_code) in scope.links)
        out.append(replace(session, participants=people))
    return out


def programme_stem(scope: ProgrammeScope, with_names: bool) -> str:
    """``programme-HI-AIM-Herlev``, or ``programme-HI-AIM-Herlev_HIAIM-001`` (``_Anna``
    appended only when names were asked for) for one participant."""
    parts = [f"programme-{name_part(scope.name)}"]
    if scope.study_code is not None:
        parts.append(name_part(scope.study_code))
        if with_names:
            parts.append(name_part(scope.display_names[scope.study_code]))
    return "_".join(parts)
