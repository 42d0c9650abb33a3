"""``hiaim-monitor simulate-programme``: a whole programme of simulated participants, every
class session recorded through the real path (the strap notifications decoded as live,
``RecordedSession`` over the engine, the storage writer) on a stepped clock, at high speed.

The participants are registered as simulated (pseudonymous codes ``SIMP1-001``…, ages and
HRmax varied), enrolled in a programme marked simulated, and their sessions planned. Then,
planned date by planned date, each class (at most ``CLASS_MAX`` people, several a day for a
large cohort) runs with those who come (``programme_plan``); each attended planned session
is linked to the session it became and gets a Borg RPE that follows the effort recorded.
"""

from __future__ import annotations

import dataclasses
import math
import random
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

import numpy as np

from hiaim_monitor import config
from hiaim_monitor.i18n import tr
from hiaim_monitor.options import SimulateProgrammeOptions, UsageError
from hiaim_monitor.programme.model import RPE_MAX, RPE_MIN, Attendance
from hiaim_monitor.protocols import TrainingProtocol, list_presets
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.storage import Database, StorageError, open_database, programmes
from hiaim_monitor.storage import programme_records as records
from hiaim_monitor.storage.database import simulation_sqlite_path
from hiaim_monitor.storage.registry import RegistryError, add_participant, list_participants
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from simulators.physiology import Response, VirtualParticipant
from simulators.programme_plan import EARLY_STOP_FRACTION, ProgrammePlan, plan_programme
from simulators.roster import make_cohort
from simulators.stepped import SteppedClass

PARTICIPANTS_RANGE: Final = (1, 96)  # up to 8 classes of CLASS_MAX a day
CLASS_MAX: Final = 12  # people in one supervised class (a choice: a group one team can watch)
SESSIONS_PER_WEEK: Final = 3  # HI AIM: three sessions a week, Monday, Wednesday, Friday
FIRST_CLASS_UTC: Final = (8, 0)  # hour, minute of the day's first class
CLASS_EVERY: Final = timedelta(minutes=90)
CODE_PREFIX: Final = "SIMP"  # SIMP1-001: simulated programme 1, participant 1
STRAPS_PER_PROGRAMME: Final = 1000  # programme k's straps are sim:k001…
_WRITER_PACE_FRACTION: Final = 0.5  # above this share of its buffer, wait for the writer
_WRITER_WAIT_S: Final = 60.0
# Borg RPE against % HRmax (ACSM's classification of exercise intensity: Garber CE et al.,
# Med Sci Sports Exerc 2011;43:1334, table 4): light 57–63 % HRmax ~ RPE 9–11, moderate
# 64–76 % ~ 12–13, vigorous 77–95 % ~ 14–17, near-maximal ≥ 96 % ~ ≥ 18. The anchors below
# interpolate that table; a participant's session RPE follows the effort they reached (the
# 90th percentile of their % HRmax over the session), with a little scatter.
_RPE_ANCHORS_PCT: Final = (50.0, 57.0, 64.0, 77.0, 96.0, 100.0)
_RPE_ANCHORS_BORG: Final = (7.0, 9.0, 12.0, 14.0, 18.0, 19.0)


class ProgrammeIncomplete(StorageError):
    """The database failed midway; the message says what was recorded before."""


@dataclass(frozen=True)
class ProgrammeSpec:
    name: str
    participants: int
    weeks: int
    protocol: TrainingProtocol
    start_date: date
    seed: int = config.SIM_DEFAULT_SEED
    minutes: float | None = None  # each session stops after this; None: the whole protocol
    site: str = "Simulated site"
    faults: FaultConfig = dataclasses.field(default_factory=FaultConfig.demo)
    scripted_only: bool = False  # no random misses nor cancellation (programme_plan)


@dataclass(frozen=True)
class SimulatedProgramme:
    """What was recorded, for the summary."""

    name: str
    codes: tuple[str, ...]
    sessions_recorded: int  # class sessions, each a recorded session
    planned: int  # planned sessions, over everyone
    attended: int
    missed: int
    cancelled: int
    samples: int
    seconds: float  # real time taken
    plan: ProgrammePlan


def default_start(weeks: int, today: date) -> date:
    """The Monday ``weeks`` weeks before this week's: the programme has just ended."""
    return today - timedelta(days=today.weekday(), weeks=weeks)


def check_counts(spec: ProgrammeSpec) -> None:
    """Refuse sizes that cannot work (ProgrammeError, one sentence), before any database
    is opened."""
    low, high = PARTICIPANTS_RANGE
    if not low <= spec.participants <= high:
        raise programmes.ProgrammeError(
            tr("A simulated programme has {low}–{high} participants, not {n}.")
            .format(low=low, high=high, n=spec.participants))
    week_low, week_high = programmes.WEEKS_RANGE
    if not week_low <= spec.weeks <= week_high:
        raise programmes.ProgrammeError(
            tr("A programme of {weeks} weeks is outside {low}–{high} weeks; check the number.")
            .format(weeks=spec.weeks, low=week_low, high=week_high))
    if spec.minutes is not None and not (spec.minutes > 0 and math.isfinite(spec.minutes)):
        raise programmes.ProgrammeError(tr("--minutes must be a number above 0, got {m:g}")
                                        .format(m=spec.minutes))


def check_spec(db: Database, spec: ProgrammeSpec) -> str:
    """Refuse, before anything is written, what cannot work (ProgrammeError, one sentence);
    returns the code prefix the cohort gets (``SIMP1``, or the next free one)."""
    check_counts(spec)
    taken = {p.name.lower() for p in programmes.list_programmes(db)}
    if spec.name.strip().lower() in taken:
        raise programmes.ProgrammeError(
            tr("Programme {name} already exists; choose another name (--name).")
            .format(name=spec.name.strip()))
    codes = {p.study_code.lower() for p in list_participants(db)}
    k = 1
    while any(c.startswith(f"{CODE_PREFIX}{k}-".lower()) for c in codes):
        k += 1
    return f"{CODE_PREFIX}{k}"


def simulate_programme(db: Database, spec: ProgrammeSpec, *,
                       progress: Callable[[str], None] = lambda _line: None
                       ) -> SimulatedProgramme:
    """Create, enrol, plan and run the whole programme ``spec`` describes. Refusals
    (ProgrammeError) come before anything is written; a database that fails midway raises
    ``ProgrammeIncomplete`` saying how far it got."""
    started = time.perf_counter()
    prefix = check_spec(db, spec)
    strap_base = int(prefix.removeprefix(CODE_PREFIX)) * STRAPS_PER_PROGRAMME
    cohort = make_cohort(spec.participants, spec.seed, prefix)
    calendar = programmes.calendar(spec.start_date, spec.weeks,
                                   programmes.DEFAULT_WEEKDAYS[SESSIONS_PER_WEEK])
    plan = plan_programme(len(cohort), len(calendar), spec.seed,
                          scripted_only=spec.scripted_only)
    key = spec.protocol.key
    by_week = {w: key for w in range(1, spec.weeks + 1)} if key in list_presets() else None
    programmes.create_programme(
        db, spec.name, start_date=spec.start_date, site=spec.site, weeks=spec.weeks,
        sessions_per_week=SESSIONS_PER_WEEK, protocol_by_week=by_week, simulated=True,
        notes=tr("Simulated by hiaim-monitor simulate-programme (seed {seed}).")
        .format(seed=spec.seed))
    name = spec.name.strip()
    recorded = 0
    try:
        for v in cohort:
            add_participant(db, v.study_code, v.display_name,
                            birth_year=spec.start_date.year - v.age_years,
                            hrmax_bpm=v.hrmax_bpm, resting_bpm=v.resting_bpm,
                            notes="simulated participant", simulated=True)
            programmes.enrol(db, name, v.study_code, enrolled_on=spec.start_date)
        programmes.plan_sessions(db, name)
        classes = _classes(len(cohort))
        samples = 0
        for k, (week, number, day) in enumerate(calendar):
            if plan.withdrawn is not None and plan.withdrawn[1] == k:
                who, _, reason = plan.withdrawn
                programmes.withdraw(db, name, cohort[who].study_code,
                                    withdrawn_on=day - timedelta(days=1), reason=reason)
            for c, members in enumerate(classes):
                came = plan.attending(k, members)
                session_id, effort = None, {}
                if came:
                    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                        hours=FIRST_CLASS_UTC[0], minutes=FIRST_CLASS_UTC[1]) + c * CLASS_EVERY
                    t0 = time.perf_counter()
                    session_id, effort, n_samples = _run_class(
                        db, spec, plan, cohort, came, k, at, strap_base)
                    recorded += 1
                    samples += n_samples
                    progress(tr("Week {week} session {number} ({day}), class {c}: {n} of {m} "
                                "came; recorded session {id} in {s:.1f} s.").format(
                        week=week, number=number, day=day.isoformat(), c=c + 1, n=len(came),
                        m=len(members), id=session_id, s=time.perf_counter() - t0))
                for i in members:
                    _record_outcome(db, name, plan, cohort, i, k, week, number, session_id,
                                    effort)
    except StorageError as err:
        raise ProgrammeIncomplete(
            tr("{error} Programme {name} keeps the {n} class session(s) recorded before "
               "that; remove the database or use another --name.")
            .format(error=str(err).rstrip(), name=name, n=recorded)) from None
    infos = programmes.list_planned_sessions(db, name)
    count = {a: sum(1 for p in infos if p.attendance is a) for a in Attendance}
    return SimulatedProgramme(name, tuple(v.study_code for v in cohort), recorded, len(infos),
                              count[Attendance.ATTENDED], count[Attendance.MISSED],
                              count[Attendance.CANCELLED], samples,
                              time.perf_counter() - started, plan)


def _classes(n: int) -> list[list[int]]:
    """The cohort split into as few classes of at most CLASS_MAX as it takes, evenly."""
    count = math.ceil(n / CLASS_MAX)
    return [list(range(n))[c::count] for c in range(count)]


def _today_self(v: VirtualParticipant, k: int, *, reduced: bool) -> VirtualParticipant:
    """The participant as they are at session ``k``: a new day's heart (own seed), held
    back when their intensity was reduced."""
    seed = random.Random(f"{v.seed}/session/{k}").randrange(2**31)
    return dataclasses.replace(v, seed=seed,
                               response=Response.STRUGGLES if reduced else v.response)


def _run_class(db: Database, spec: ProgrammeSpec, plan: ProgrammePlan,
               cohort: list[VirtualParticipant], came: list[int], k: int, at: datetime,
               strap_base: int) -> tuple[int, dict[int, float | None], int]:
    """One class session through the real recording path; returns its session id, each
    participant's effort (90th percentile of % HRmax; None without data) and the samples."""
    protocol = spec.protocol
    length_s = protocol.total_s if spec.minutes is None else min(protocol.total_s,
                                                                 spec.minutes * 60)
    dose = plan.dose_modified
    faults = spec.faults
    early = plan.terminated_early
    if early is not None and early[1] == k and early[0] in came:
        stop_s = EARLY_STOP_FRACTION * length_s  # the strap comes off when they stop
        off = ScheduledFault(FaultKind.DROPOUT, stop_s, duration_s=length_s - stop_s + 60,
                             target=cohort[early[0]].study_code)
        faults = dataclasses.replace(faults, scheduled=(*faults.scheduled, off))
    today = [_today_self(cohort[i], k, reduced=dose is not None and dose[:2] == (i, k))
             for i in came]
    sim = SteppedClass(len(today), protocol, seed=spec.seed * 10_000 + k, faults=faults,
                       start_utc=at, virtual=today,
                       strap_numbers=[strap_base + i + 1 for i in came])
    rec = RecordedSession.start(db, protocol, sim.participants, sim.clock, sim.events,
                                duration_s=None if spec.minutes is None else length_s,
                                simulated=True)
    writer = rec.writer

    def second() -> None:
        rec.tick()
        if writer.backlog_fraction > _WRITER_PACE_FRACTION:
            writer.flush(_WRITER_WAIT_S)  # never outrun the writer into dropped rows

    sim.run_to(length_s + config.PHASE_JUDGE_GRACE_S + 1.0, on_second=second)
    result = rec.finish(wait_s=_WRITER_WAIT_S)
    if not result.stored or writer.dropped_rows:
        raise StorageError(result.error or tr("Session {id} could not be stored whole in "
                                              "{db}.").format(id=rec.session_id, db=db.name))
    engine = rec.session.engine
    effort: dict[int, float | None] = {}
    samples = 0
    for i, person in zip(came, engine.people, strict=True):
        pct = np.asarray(engine.samples.latest(person.row)["pct"], dtype=np.float64)
        pct = pct[np.isfinite(pct) & (pct > 0)]
        samples += person.samples
        effort[i] = float(np.percentile(pct, 90)) if pct.size else None
    return rec.session_id, effort, samples


def borg_rpe(effort_pct: float | None, rng: random.Random) -> int:
    """A plausible session RPE for an effort of ``effort_pct`` % HRmax (see the anchors)."""
    if effort_pct is None:
        return 11
    base = float(np.interp(effort_pct, _RPE_ANCHORS_PCT, _RPE_ANCHORS_BORG))
    return int(min(RPE_MAX, max(RPE_MIN, round(base + rng.gauss(0.0, 0.7)))))


def _record_outcome(db: Database, name: str, plan: ProgrammePlan,
                    cohort: list[VirtualParticipant], i: int, k: int, week: int, number: int,
                    session_id: int | None, effort: dict[int, float | None]) -> None:
    """Attendance (linked to the recorded session when attended) and, for who came, the
    RPE and whatever the plan has for them at this session."""
    code = cohort[i].study_code
    outcome = plan.outcomes[i, k]
    attended = outcome.status is Attendance.ATTENDED
    programmes.record_attendance(db, name, code, week, number, outcome.status,
                                 reason=outcome.reason, note=outcome.note,
                                 session_id=session_id if attended else None)
    if not attended:
        return
    rng = random.Random(f"{cohort[i].seed}/rpe/{k}")
    early = plan.terminated_early
    stopped = early is not None and early[:2] == (i, k)
    # Who stops for dizziness felt it hard, whatever the strap saw after.
    borg = borg_rpe(effort.get(i), rng) + (2 if stopped else 0)
    records.record_rpe(db, name, code, week, number, min(RPE_MAX, borg))
    dose = plan.dose_modified
    if dose is not None and dose[:2] == (i, k):
        records.record_dose_modification(db, name, code, week, number, dose[2], dose[3])
    if stopped and early is not None:
        records.record_early_termination(db, name, code, week, number, early[2])
    for ae in plan.adverse_events:
        if (ae.participant, ae.session) == (i, k):
            records.record_adverse_event(db, name, code, week, number, ae.what, ae.grade,
                                         ae.related, ae.action)


def summary_lines(done: SimulatedProgramme, db_name: str, db_option: str) -> list[str]:
    """What the user reads at the end: what was recorded, where, and how to look at it
    (``db_option``: ``--simulations`` or ``--db URL``)."""
    name = shlex.quote(done.name)
    plan = done.plan
    lines = [
        tr("Programme {name} (simulated): {n} participants, {sessions} class sessions "
           "recorded ({samples} heart-rate samples) in {s:.0f} s.").format(
            name=done.name, n=len(done.codes), sessions=done.sessions_recorded,
            samples=done.samples, s=done.seconds),
        tr("Planned sessions: {planned}; attended {attended}, missed {missed}, cancelled "
           "by the site {cancelled}.").format(planned=done.planned, attended=done.attended,
                                              missed=done.missed, cancelled=done.cancelled)]
    if plan.interrupted is not None:
        lines.append(tr("Interrupted (3 sessions missed in a row): {code}.")
                     .format(code=done.codes[plan.interrupted[0]]))
    if plan.withdrawn is not None:
        lines.append(tr("Withdrawn: {code}.").format(code=done.codes[plan.withdrawn[0]]))
    if plan.dose_modified is not None:
        lines.append(tr("Dose modified: {code}.").format(code=done.codes[plan.dose_modified[0]]))
    if plan.terminated_early is not None:
        lines.append(tr("Ended a session early: {code}.")
                     .format(code=done.codes[plan.terminated_early[0]]))
    lines += [
        tr("Adverse events: {n}.").format(n=len(plan.adverse_events)),
        tr("Stored in {db}. To look at it:").format(db=db_name),
        f"  hiaim-monitor programmes show {name} {db_option}",
        f"  hiaim-monitor report programme {name} --out programme.pdf {db_option}",
        f"  hiaim-monitor export --programme {name} --format parquet --out export "
        f"{db_option}",
    ]
    return lines


def run_command(opts: SimulateProgrammeOptions) -> int:
    """``hiaim-monitor simulate-programme`` (cli.py): the programme recorded in the
    simulations' database unless ``--db`` names another, progress on stderr, the summary
    on stdout. A refusal, and a database that cannot be opened or written from the start,
    are a UsageError (exit 2) with nothing written; a database failing midway is
    ``ProgrammeIncomplete`` (exit 1), saying what was recorded."""
    spec = ProgrammeSpec(opts.name, opts.participants, opts.weeks, opts.protocol,
                         opts.start or default_start(opts.weeks, datetime.now(UTC).date()),
                         seed=opts.seed, minutes=opts.minutes)
    try:
        check_counts(spec)
        db = open_database(opts.db_url or f"sqlite:///{simulation_sqlite_path()}")
    except (RegistryError, StorageError) as err:
        raise UsageError(str(err)) from None
    try:
        done = simulate_programme(db, spec, progress=lambda line: print(
            line, file=sys.stderr, flush=True))
    except ProgrammeIncomplete:
        raise
    except (RegistryError, StorageError) as err:
        raise UsageError(str(err)) from None
    finally:
        db.close()
    option = f"--db {db.name}" if opts.db_url else "--simulations"
    print("\n".join(summary_lines(done, db.name, option)))
    return 0
