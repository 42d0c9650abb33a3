"""A small programme with recorded sessions, for the report tests.

Programme "Herlev" (6 weeks, Mon/Wed/Fri from Monday 2 March 2026: 18 sessions):

- HIAIM-001 attends 16 of 18: session 5 missed (illness), 11 missed (transport). Each
  attended session is recorded (a four-minute protocol with two work phases, both
  reached); RPE 13 and 15 at the end of sessions 1 and 2 (and 14 after phase 3 of
  session 1); at session 1 an adverse event (grade 2, possibly related: "dizziness"), at
  session 2 a dose modification (intensity reduced for health).
- HIAIM-002 attends sessions 1–4 (recorded with them; only the intermediate target
  reached), misses 5–8 (illness: one interruption of 4) and is withdrawn on Wednesday 18
  March (week 3, the day of session 8): the 10 sessions after it are missed (ITT), so
  4 of 18.
- HIAIM-003 attends session 1, linked to session A where their strap recorded nothing,
  and session 2 with no session linked: two sessions whose data are missing. Nothing else
  recorded yet.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np

from hiaim_monitor.engine.blocks import protocol_adherence
from hiaim_monitor.engine.classify import level_of
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import PhaseKind
from hiaim_monitor.storage import Database, SampleRecord, finish_session, start_session
from hiaim_monitor.storage import programme_records as rec
from hiaim_monitor.storage import programmes as pg
from hiaim_monitor.storage.registry import add_participant
from tests.storage.helpers import START_UTC, fast_writer
from tests.storage.recorded import DURATION_S, SHORT

NAME = "Herlev"
MONDAY = date(2026, 3, 2)
CODES = ("HIAIM-001", "HIAIM-002", "HIAIM-003")
HRMAX = {"HIAIM-001": 180.0, "HIAIM-002": 170.0, "HIAIM-003": 175.0}
# Share of HRmax per phase kind: 001 reaches both targets, 002 only the intermediate one.
SHARE = {"HIAIM-001": {PhaseKind.INTERMEDIATE: 0.78, PhaseKind.HIGH: 0.9},
         "HIAIM-002": {PhaseKind.INTERMEDIATE: 0.76, PhaseKind.HIGH: 0.8}}
NAMES = {"HIAIM-001": "Zoë Ærø", "HIAIM-002": "Bjørn Øster", "HIAIM-003": "Åse Ulv"}


def people() -> list[Participant]:
    return [Participant(code, NAMES[code], f"STRAP-{n}", measured_hrmax(HRMAX[code]))
            for n, code in enumerate(CODES, start=1)]


def record(db: Database, day: date, taking_part: tuple[str, ...],
           with_samples: tuple[str, ...]) -> int:
    """A finished four-minute session (tests/storage/recorded.SHORT) of ``taking_part``,
    with one sample a second and the engine's interval results for ``with_samples`` only."""
    started = START_UTC.replace(year=day.year, month=day.month, day=day.day)
    who = [p for p in people() if p.study_code in taking_part]
    stored = start_session(db, SHORT, who, started_utc=started, operator="physio",
                           site="Herlev", host="test-host")
    with fast_writer(db, stored) as writer:
        for p in who:
            if p.study_code not in with_samples:
                continue
            sp = stored.session_participant_ids[p.study_code]
            rows = []
            for i in range(int(DURATION_S)):
                t_s = i + 0.5
                phase = SHORT.phase_at(t_s)
                assert phase is not None
                share = SHARE[p.study_code].get(phase.phase.kind, 0.6)
                bpm = round(p.hrmax.bpm * share)
                pct = 100.0 * bpm / p.hrmax.bpm
                rows.append(SampleRecord(sp, t_s, started + timedelta(seconds=t_s), bpm, pct,
                                         int(level_of(pct, SHORT.thresholds)), 0,
                                         SensorContact.DETECTED, None))
            writer.submit_samples(rows)
            pct_arr = np.array([r.pct_hrmax for r in rows])
            for result in protocol_adherence([r.t_s for r in rows], pct_arr,
                                             [r.level for r in rows], SHORT):
                writer.submit_adherence(sp, result)
        assert writer.flush(20.0)
    finish_session(db, stored.session_id, ended_utc=started + timedelta(seconds=DURATION_S))
    return stored.session_id


@dataclasses.dataclass(frozen=True)
class Built:
    sessions: dict[int, int]  # session number in the programme -> recorded session id

    @property
    def first(self) -> int:
        """Session 1: HIAIM-001 and -002 recorded, HIAIM-003's strap recorded nothing."""
        return self.sessions[1]


def build(db: Database) -> Built:
    pg.create_programme(db, NAME, start_date=MONDAY, site="Herlev Hospital")
    for code in CODES:
        add_participant(db, code, NAMES[code], hrmax_bpm=HRMAX[code])
        pg.enrol(db, NAME, code, enrolled_on=MONDAY)
    pg.plan_sessions(db, NAME)
    plan = pg.calendar(MONDAY, 6, (0, 2, 4))
    sessions = {}
    for n, (_week, _number, day) in enumerate(plan, start=1):
        if n in (5, 11):
            continue
        with_data = ("HIAIM-001", "HIAIM-002") if n <= 4 else ("HIAIM-001",)
        sessions[n] = record(db, day, with_data + (("HIAIM-003",) if n == 1 else ()),
                             with_data)
    for n, (week, number, _day) in enumerate(plan, start=1):
        linked = sessions.get(n)
        if n == 5:
            pg.record_attendance(db, NAME, "HIAIM-001", week, number, "missed",
                                 reason="illness")
        elif n == 11:
            pg.record_attendance(db, NAME, "HIAIM-001", week, number, "missed",
                                 reason="transport")
        else:
            pg.record_attendance(db, NAME, "HIAIM-001", week, number, "attended",
                                 session_id=linked)
        if n <= 4:
            pg.record_attendance(db, NAME, "HIAIM-002", week, number, "attended",
                                 session_id=linked)
        elif n <= 8:
            pg.record_attendance(db, NAME, "HIAIM-002", week, number, "missed",
                                 reason="illness")
    rec.record_rpe(db, NAME, "HIAIM-001", 1, 1, 13)
    rec.record_rpe(db, NAME, "HIAIM-001", 1, 2, 15)
    rec.record_rpe(db, NAME, "HIAIM-001", 1, 1, 14, phase_index=3)
    rec.record_adverse_event(db, NAME, "HIAIM-001", 1, 1, "dizziness", 2, "possible",
                             "rested 5 min")
    rec.record_dose_modification(db, NAME, "HIAIM-001", 1, 2, "intensity_reduced_health")
    pg.withdraw(db, NAME, "HIAIM-002", withdrawn_on=date(2026, 3, 18),
                reason="disease progression")
    pg.record_attendance(db, NAME, "HIAIM-003", 1, 1, "attended", session_id=sessions[1])
    pg.record_attendance(db, NAME, "HIAIM-003", 1, 2, "attended")
    return Built(sessions)
