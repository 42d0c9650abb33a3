"""Trial metrics of a programme, each defined once, with where its definition comes from.

Sources:
- Nilsen TS et al. "Novel methods for reporting of exercise dose and adherence: an
  exploratory analysis." Med Sci Sports Exerc 2018;50(6):1134–1141
  (doi:10.1249/MSS.0000000000001545): attendance, permanent discontinuation, interruption
  (≥ 3 consecutive missed sessions), dose modification, early termination, relative dose
  intensity (completed / planned cumulative dose).
- Fairman CM et al. "Reporting of resistance training dose, adherence, and tolerance in
  exercise oncology." Med Sci Sports Exerc 2020;52(2):315–322: the same metrics applied
  with a dose unit fitted to the exercise (there, kg of volume load; here, minutes in
  target), and missed (1–2 consecutive) told apart from interrupted (≥ 3).
- CERT, the Consensus on Exercise Reporting Template (Slade et al., "Consensus on Exercise
  Reporting Template (CERT): explanation and elaboration statement", Br J Sports Med
  2016;50:1428–1437): item 5 (how adherence is measured and reported: attendance, missed,
  interruptions, RDI), 7 (progression: the planned dose per week), 11 (type and number of
  adverse events), 16b (whether the exercise was delivered as planned: intensity
  compliance, dose modification, early termination).

Conventions that apply throughout:
- A session the site cancelled is not the participant's non-adherence: it leaves the
  planned count (attendance's denominator) and the planned dose, and it neither counts in
  nor breaks a run of missed sessions. This is a choice made here, not taken from the
  papers: they divide by planned sessions without singling out site closures, and a
  closure says nothing about the participant's adherence. ``cancelled_sessions`` is
  reported beside it, so a reader can recompute attendance the other way.
- A planned session after a withdrawal still counts as planned and not attended
  (intention to treat), but the missed runs after it are not interruptions: the
  discontinuation is reported on its own.
- A ratio with nothing to divide by (nothing planned, no work interval prescribed) is
  None, not an error: a report shows "—" for a participant enrolled yesterday.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hiaim_monitor.programme.model import (
    AE_GRADE_MAX,
    AE_GRADE_MIN,
    Attendance,
    MissedReason,
    ParticipantProgramme,
    Phase,
    SessionRecord,
)

# Nilsen 2018: "interruption" = missing ≥ 3 consecutive sessions. A definition, not a knob.
INTERRUPTION_MIN_MISSED: Final = 3


def _ordered(p: ParticipantProgramme) -> list[SessionRecord]:
    return sorted(p.sessions, key=lambda r: (r.planned.date, r.planned.number))


def _offered(p: ParticipantProgramme) -> list[SessionRecord]:
    """The planned sessions the site did hold (all but those it cancelled), in order; one
    whose attendance is not recorded yet (status None) is still to come, so not counted."""
    return [r for r in _ordered(p) if r.status not in (Attendance.CANCELLED, None)]


# --- Attendance (Nilsen 2018, "conventional" adherence; CERT 5) -------------------------


def planned_sessions(p: ParticipantProgramme) -> int:
    """Sessions offered to the participant: planned minus those the site cancelled."""
    return len(_offered(p))


def attended_sessions(p: ParticipantProgramme) -> int:
    return sum(1 for r in p.sessions if r.attended)


def cancelled_sessions(p: ParticipantProgramme) -> int:
    return sum(1 for r in p.sessions if r.status is Attendance.CANCELLED)


def attendance(p: ParticipantProgramme) -> float | None:
    """attended / planned, with site-cancelled sessions left out of both; None if none planned.

    16 of 18 attended → 16 / 18 = 0.889.
    """
    planned = planned_sessions(p)
    return attended_sessions(p) / planned if planned else None


def missed_sessions(p: ParticipantProgramme) -> int:
    """Offered sessions not attended (a session after a withdrawal counts as missed)."""
    return planned_sessions(p) - attended_sessions(p)


def _after_withdrawal(p: ParticipantProgramme, r: SessionRecord) -> bool:
    return p.withdrawal is not None and r.planned.date > p.withdrawal.date


def sessions_after_withdrawal(p: ParticipantProgramme) -> int:
    """Offered sessions dated after the withdrawal: missed, but for that one reason."""
    return sum(1 for r in _offered(p) if _after_withdrawal(p, r))


def missed_by_reason(p: ParticipantProgramme) -> dict[MissedReason, int]:
    """Sessions recorded MISSED up to the withdrawal, by reason (none given: UNKNOWN); the
    ones after it are ``sessions_after_withdrawal``, so a reason is never guessed for them."""
    counts = Counter(
        r.missed_reason or MissedReason.UNKNOWN
        for r in p.sessions
        if r.status is Attendance.MISSED and not _after_withdrawal(p, r)
    )
    return {reason: counts.get(reason, 0) for reason in MissedReason}


@dataclass(frozen=True)
class MissedRun:
    """Consecutive missed sessions, by their numbers in the programme."""

    first_number: int
    last_number: int
    length: int


def missed_runs(p: ParticipantProgramme) -> list[MissedRun]:
    """Every run of consecutive missed sessions up to the withdrawal (cancelled ones skipped)."""
    runs: list[MissedRun] = []
    current: list[SessionRecord] = []
    for r in _offered(p):
        if _after_withdrawal(p, r):
            break
        if r.attended:
            if current:
                runs.append(_run(current))
            current = []
        else:
            current.append(r)
    if current:
        runs.append(_run(current))
    return runs


def _run(records: list[SessionRecord]) -> MissedRun:
    return MissedRun(records[0].planned.number, records[-1].planned.number, len(records))


def interruptions(p: ParticipantProgramme) -> list[MissedRun]:
    """Runs of ≥ 3 consecutive missed sessions (Nilsen 2018; Fairman 2020)."""
    return [run for run in missed_runs(p) if run.length >= INTERRUPTION_MIN_MISSED]


def discontinuation_week(p: ParticipantProgramme) -> int | None:
    """Week of the programme (1-based, 7 days from its start) in which the participant
    withdrew for good (Nilsen 2018: permanent discontinuation); None if they did not."""
    if p.withdrawal is None:
        return None
    return max(1, (p.withdrawal.date - p.start).days // 7 + 1)


def dose_modified_sessions(p: ParticipantProgramme) -> int:
    """Attended sessions whose prescription was reduced (Nilsen 2018: dose modification)."""
    return sum(1 for r in p.sessions if r.attended and r.dose_modification is not None)


def early_terminations(p: ParticipantProgramme) -> int:
    """Attended sessions stopped before their end (Nilsen 2018: early termination)."""
    return sum(1 for r in p.sessions if r.attended and r.early_termination is not None)


# --- Intensity compliance (CERT 16b: delivered as planned) -------------------------------


@dataclass(frozen=True)
class Compliance:
    """Per-interval intensity compliance over some sessions.

    ``work_achieved`` / ``work_prescribed`` counts prescribed work intervals (one performed
    short-bout block judged as a whole counts once); time in target is summed apart for
    work and for recovery phases, since time "in target" in a recovery means something
    else (HR back within the recovery band) and must not inflate the work figure.
    """

    work_prescribed: int
    work_achieved: int
    work_time_in_target_s: float
    work_planned_s: float
    recovery_time_in_target_s: float
    recovery_planned_s: float

    @property
    def work_fraction(self) -> float | None:
        """work intervals achieved / prescribed; None when none were prescribed."""
        return self.work_achieved / self.work_prescribed if self.work_prescribed else None


def compliance(records: Iterable[SessionRecord]) -> Compliance:
    """Intensity compliance over the attended sessions among ``records``.

    A session with 4 prescribed work intervals, 3 achieved → 3 / 4 = 0.75.
    """
    phases = [i for r in records if r.attended for i in r.intervals]
    work = [i for i in phases if i.phase is Phase.WORK]
    recovery = [i for i in phases if i.phase is Phase.RECOVERY]
    return Compliance(
        work_prescribed=len(work),
        work_achieved=sum(1 for i in work if i.achieved),
        work_time_in_target_s=sum(i.time_in_target_s for i in work),
        work_planned_s=sum(i.planned_s for i in work),
        recovery_time_in_target_s=sum(i.time_in_target_s for i in recovery),
        recovery_planned_s=sum(i.planned_s for i in recovery),
    )


@dataclass(frozen=True)
class IntervalIntensity:
    """Peak and mean % HRmax of one work interval, for the per-interval table."""

    session_number: int
    interval_number: int  # 1-based among the session's work intervals
    achieved: bool
    peak_pct_hrmax: float | None
    mean_pct_hrmax: float | None
    time_in_target_s: float
    planned_s: float


def interval_intensities(p: ParticipantProgramme) -> list[IntervalIntensity]:
    """Every prescribed work interval of every attended session, in programme order."""
    rows: list[IntervalIntensity] = []
    for r in _ordered(p):
        if not r.attended:
            continue
        works = [i for i in r.intervals if i.phase is Phase.WORK]
        for n, i in enumerate(works, start=1):
            rows.append(
                IntervalIntensity(
                    r.planned.number,
                    n,
                    i.achieved,
                    i.peak_pct_hrmax,
                    i.mean_pct_hrmax,
                    i.time_in_target_s,
                    i.planned_s,
                )
            )
    return rows


# --- Relative dose intensity (Nilsen 2018; Fairman 2020) ---------------------------------


def planned_dose_min(p: ParticipantProgramme) -> float:
    """Cumulative planned dose, minutes: Σ planned work time of the offered sessions, as
    the week's protocol prescribes it before any modification (CERT 7, progression)."""
    return sum(r.planned.planned_work_s for r in _offered(p)) / 60.0


def completed_dose_min(p: ParticipantProgramme) -> float:
    """Cumulative completed dose, minutes: Σ over attended sessions and their work
    intervals of min(time at or above target, the interval's planned length)."""
    return (
        sum(
            min(i.time_in_target_s, i.planned_s)
            for r in p.sessions
            if r.attended
            for i in r.intervals
            if i.phase is Phase.WORK
        )
        / 60.0
    )


def relative_dose_intensity(p: ParticipantProgramme) -> float | None:
    """RDI = completed cumulative dose / planned cumulative dose (Nilsen 2018).

    Dose unit: minutes at or above the work target during prescribed work intervals.
    Nilsen used MET·h and Fairman kg of volume load; for heart-rate-prescribed interval
    training the dose actually delivered is time at the prescribed intensity, which the
    engine measures. So

        RDI = Σ_attended Σ_work-intervals min(t_in_target, t_planned)
              / Σ_offered planned_work_s

    Missed sessions add planned dose and no completed dose; a dose modification lowers
    only the completed dose (the planned one stays the original prescription); the cap
    at each interval's planned length keeps RDI ≤ 1. None when no dose was planned.
    """
    planned = planned_dose_min(p)
    return completed_dose_min(p) / planned if planned > 0 else None


# --- Exertion and adverse events (CERT 11) -----------------------------------------------


def rpe_by_session(p: ParticipantProgramme) -> dict[int, int]:
    """Session RPE (Borg 6–20) of each attended session that has one, by session number."""
    return {r.planned.number: r.rpe for r in _ordered(p) if r.attended and r.rpe is not None}


def mean_rpe(p: ParticipantProgramme) -> float | None:
    """Mean session RPE over the programme; None when none was recorded."""
    values = list(rpe_by_session(p).values())
    return statistics.fmean(values) if values else None


def adverse_events_by_grade(records: Iterable[SessionRecord]) -> dict[int, int]:
    """Adverse events counted by grade, every grade 1–5 present (0 when none)."""
    counts = Counter(ae.grade for r in records for ae in r.adverse_events)
    return {g: counts.get(g, 0) for g in range(AE_GRADE_MIN, AE_GRADE_MAX + 1)}


def weekly(p: ParticipantProgramme) -> list[dict[str, Any]]:
    """Per week of the plan: sessions planned and attended, attendance, work intervals
    achieved / prescribed and mean RPE (for "compliance and RPE over the weeks")."""
    rows = []
    for week in sorted({r.planned.week for r in p.sessions}):
        records = [r for r in _ordered(p) if r.planned.week == week]
        offered = [r for r in records if r.status not in (Attendance.CANCELLED, None)]
        attended = [r for r in records if r.attended]
        rpes = [r.rpe for r in attended if r.rpe is not None]
        c = compliance(records)
        rows.append(
            {
                "week": week,
                "planned_sessions": len(offered),
                "attended_sessions": len(attended),
                "attendance": len(attended) / len(offered) if offered else None,
                "work_intervals_prescribed": c.work_prescribed,
                "work_intervals_achieved": c.work_achieved,
                "work_compliance": c.work_fraction,
                "mean_rpe": statistics.fmean(rpes) if rpes else None,
            }
        )
    return rows


# --- Summaries (CONSORT-style numbers a trial paper reports) -----------------------------


def participant_summary(p: ParticipantProgramme) -> dict[str, Any]:
    """The metrics of one participant, as a plain dict (for reports and CSV)."""
    c = compliance(p.sessions)
    return {
        "study_code": p.study_code,
        "planned_sessions": planned_sessions(p),
        "attended_sessions": attended_sessions(p),
        "cancelled_sessions": cancelled_sessions(p),
        "missed_sessions": missed_sessions(p),
        "missed_by_reason": {k.value: v for k, v in missed_by_reason(p).items()},
        "missed_after_withdrawal": sessions_after_withdrawal(p),
        "attendance": attendance(p),
        "interruptions": len(interruptions(p)),
        "withdrawn": p.withdrawal is not None,
        "discontinuation_week": discontinuation_week(p),
        "dose_modified_sessions": dose_modified_sessions(p),
        "early_terminations": early_terminations(p),
        "work_intervals_prescribed": c.work_prescribed,
        "work_intervals_achieved": c.work_achieved,
        "work_compliance": c.work_fraction,
        "work_time_in_target_s": c.work_time_in_target_s,
        "recovery_time_in_target_s": c.recovery_time_in_target_s,
        "planned_dose_min": planned_dose_min(p),
        "completed_dose_min": completed_dose_min(p),
        "relative_dose_intensity": relative_dose_intensity(p),
        "mean_rpe": mean_rpe(p),
        "adverse_events_by_grade": adverse_events_by_grade(p.sessions),
    }


def _spread(values: Sequence[float | None]) -> dict[str, float | None]:
    """Median, min and max of the values that exist (None for all when none do)."""
    present = [v for v in values if v is not None]
    if not present:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(present), "min": min(present), "max": max(present)}


def group_summary(participants: Sequence[ParticipantProgramme]) -> dict[str, Any]:
    """CONSORT-style numbers of a group: enrolled, withdrawn (and in which weeks), how many
    had an interruption, a dose modification or an early termination, attendance, RDI and
    mean RPE as median and range, adverse events by grade over everyone."""
    rows = [participant_summary(p) for p in participants]
    by_grade: Counter[int] = Counter()
    for row in rows:
        by_grade.update(row["adverse_events_by_grade"])
    return {
        "enrolled": len(rows),
        "withdrawn": sum(1 for row in rows if row["withdrawn"]),
        "discontinuation_weeks": sorted(
            row["discontinuation_week"] for row in rows if row["withdrawn"]
        ),
        "with_interruption": sum(1 for row in rows if row["interruptions"]),
        "with_dose_modification": sum(1 for row in rows if row["dose_modified_sessions"]),
        "with_early_termination": sum(1 for row in rows if row["early_terminations"]),
        "sessions_planned": sum(row["planned_sessions"] for row in rows),
        "sessions_attended": sum(row["attended_sessions"] for row in rows),
        "sessions_dose_modified": sum(row["dose_modified_sessions"] for row in rows),
        "sessions_terminated_early": sum(row["early_terminations"] for row in rows),
        "attendance": _spread([row["attendance"] for row in rows]),
        "relative_dose_intensity": _spread([row["relative_dose_intensity"] for row in rows]),
        "mean_rpe": _spread([row["mean_rpe"] for row in rows]),
        "adverse_events_by_grade": {
            g: by_grade.get(g, 0) for g in range(AE_GRADE_MIN, AE_GRADE_MAX + 1)
        },
    }
