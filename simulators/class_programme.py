"""The programme the simulated class of ``make demo`` lives in (``hiaim-monitor --simulate
N``, window and headless): "Simulated class", marked simulated, created on first use in the
database the simulation records in. Its calendar has a session every day, planned only up
to today as the demo is used (``plan_sessions(until=...)``), so a demo on any day has
today's planned session, and it stays small. Each simulated session is linked to it:
today's planned session is attended and points at the recorded session.

Simulated participants go only into simulated programmes and real ones only into real ones
(``storage.programmes.enrol`` refuses the mix), so the demo's class never meets a real one.
A few look-ups a start, and one enrolment per participant the first time.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import Attendance
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.storage import Database, StorageError
from hiaim_monitor.storage import programmes as progs
from hiaim_monitor.storage.registry import RegistryError

SIMULATED_CLASS: Final = "Simulated class"
CALENDAR_WEEKS: Final = progs.WEEKS_RANGE[1]  # a year; then the next one is begun
EVERY_DAY: Final = (0, 1, 2, 3, 4, 5, 6)


def simulated_class_programme(db: Database, today: date) -> str:
    """The name of the simulated programme whose calendar holds ``today``, created (from
    this week's Monday) when there is none."""
    for p in progs.list_programmes(db):
        first_after = p.start_date + timedelta(weeks=p.weeks)
        if (p.simulated and p.name.startswith(SIMULATED_CLASS)
                and p.start_date <= today < first_after and p.weekdays == EVERY_DAY):
            return p.name
    monday = today - timedelta(days=today.weekday())
    taken = {p.name.lower() for p in progs.list_programmes(db)}
    name = (SIMULATED_CLASS if SIMULATED_CLASS.lower() not in taken
            else f"{SIMULATED_CLASS} from {monday.isoformat()}")
    progs.create_programme(db, name, start_date=monday, weeks=CALENDAR_WEEKS,
                           sessions_per_week=len(EVERY_DAY), weekdays=EVERY_DAY,
                           simulated=True, site="Simulation",
                           notes="The simulated class of hiaim-monitor --simulate (make demo).")
    return name


def join_simulated_class(db: Database, class_codes: Sequence[str], today: date) -> str:
    """Enrol the simulated class (``class_codes``, registered as simulated) in its
    programme if not yet, and plan up to today, so the setup page finds today's session
    due; returns the programme's name."""
    name = simulated_class_programme(db, today)
    enrolled = {e.study_code.lower() for e in progs.list_enrolments(db, name)}
    for code in class_codes:
        if code.lower() not in enrolled:
            progs.enrol(db, name, code, enrolled_on=today)
    progs.plan_sessions(db, name, until=today)  # adds only what is missing
    return name


def record_simulated_class(db: Database, class_codes: Sequence[str],
                           attending: Sequence[str], session_id: int, today: date) -> str:
    """``join_simulated_class``, then today's planned session: attended and linked to
    ``session_id`` for those ``attending``, missed (no reason given) for the others.
    Returns the programme's name."""
    name = join_simulated_class(db, class_codes, today)
    info = next(p for p in progs.list_programmes(db) if p.name == name)
    week, number = next((w, n) for w, n, day in progs.calendar(info.start_date, info.weeks,
                                                                info.weekdays) if day == today)
    here = {code.lower() for code in attending}
    for code in class_codes:
        if code.lower() in here:
            progs.record_attendance(db, name, code, week, number, Attendance.ATTENDED,
                                    session_id=session_id)
        else:
            progs.record_attendance(db, name, code, week, number, Attendance.MISSED)
    return name



def in_simulated_class(db: Database, class_codes: Sequence[str],
                       recorded: RecordedSession) -> None:
    """``record_simulated_class`` for a simulation's session just started (cli.py, window
    and headless). Best effort: the session records whatever this says."""
    try:
        record_simulated_class(db, class_codes,
                               [p.study_code for p in recorded.session.participants],
                               recorded.session_id, recorded.stored.started_utc.date())
    except (RegistryError, StorageError) as err:
        print("hiaim-monitor: warning: " + tr("the simulated class's attendance was not "
                                              "recorded: {error}").format(error=err),
              file=sys.stderr)


def joined_simulated_class(db: Database, class_codes: Sequence[str], today: date) -> None:
    """``join_simulated_class`` as a simulation starts (cli.py), best effort."""
    try:
        join_simulated_class(db, class_codes, today)
    except (RegistryError, StorageError) as err:
        print("hiaim-monitor: warning: " + tr("the simulated class's attendance was not "
                                              "recorded: {error}").format(error=err),
              file=sys.stderr)
