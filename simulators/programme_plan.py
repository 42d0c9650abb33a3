"""What happens in a simulated programme, decided before any class runs: who comes to which
planned session, who misses which and why, the one interruption, the one withdrawal, the
session the site cancels, a dose modification, an early termination and the adverse events.
Pure and seeded: the same participants, calendar length and seed give the same plan.

The pattern is what exercise-oncology trials report (Nilsen et al., Med Sci Sports Exerc
2018;50:1134): most sessions attended, a few missed for illness or treatment side effects,
at least one interruption (≥ 3 consecutive missed sessions: here a hospital admission) and
one permanent discontinuation. The rates are choices that look like such a trial, not
figures taken from one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final

from hiaim_monitor.programme.metrics import INTERRUPTION_MIN_MISSED
from hiaim_monitor.programme.model import (
    Attendance,
    DoseModification,
    MissedReason,
    Relatedness,
)

MISS_CHANCE_RANGE: Final = (0.03, 0.12)  # per participant: chance of missing a session
# Why the odd session is missed, and how often (weights).
_MISSED_REASONS: Final = ((MissedReason.ILLNESS, 3), (MissedReason.TREATMENT_SIDE_EFFECTS, 3),
                          (MissedReason.PERSONAL, 2), (MissedReason.TRANSPORT, 1),
                          (MissedReason.UNKNOWN, 1))
_WITHDRAWAL_REASONS: Final = ("Disease progression; started a new line of treatment.",
                              "Too tired to go on with the training.",
                              "No longer wishes to take part.")
AFTER_WITHDRAWAL_NOTE: Final = "After the withdrawal."
CANCELLED_NOTE: Final = "Cancelled by the site: no instructor available."
EARLY_STOP_FRACTION: Final = 0.6  # of the session's length: when the early stopper stops


@dataclass(frozen=True)
class Outcome:
    """One participant at one planned session."""

    status: Attendance
    reason: MissedReason | None = None
    note: str = ""


@dataclass(frozen=True)
class AdverseEventPlan:
    participant: int  # index into the cohort
    session: int  # index into the calendar
    what: str
    grade: int
    related: Relatedness
    action: str


@dataclass(frozen=True)
class ProgrammePlan:
    """The plan; participants and sessions are 0-based indexes into the cohort and into the
    programme's calendar (``storage.programmes.calendar``)."""

    outcomes: dict[tuple[int, int], Outcome]  # (participant, session) → outcome
    cancelled: int | None = None  # the session the site cancelled (for everyone)
    interrupted: tuple[int, int] | None = None  # (participant, first missed session)
    withdrawn: tuple[int, int, str] | None = None  # (participant, first session after, reason)
    dose_modified: tuple[int, int, DoseModification, str] | None = None
    terminated_early: tuple[int, int, str] | None = None  # (participant, session, reason)
    adverse_events: tuple[AdverseEventPlan, ...] = field(default=())

    def attending(self, session: int, among: range | list[int]) -> list[int]:
        return [i for i in among if self.outcomes[i, session].status is Attendance.ATTENDED]


def plan_programme(n: int, sessions: int, seed: int, *,
                   scripted_only: bool = False) -> ProgrammePlan:
    """The plan for ``n`` participants over ``sessions`` planned sessions each.

    Given enough of both: one participant is interrupted (3 consecutive sessions missed,
    from a hospital admission; from 5 sessions), another withdraws after about half the
    programme (from 2 participants and 3 sessions), one session is cancelled by the site
    (from 9 sessions), one attended session has its intensity reduced for a health reason
    (with a grade 2 adverse event), and one ends early (with a grade 1 adverse event).
    Other misses are random, a few per participant, never 3 in a row; ``scripted_only``
    leaves them and the site's cancellation out (every other session attended: a trial of
    full size for the benchmarks).
    """
    rng = random.Random(f"{seed}/programme-plan")
    order = rng.sample(range(n), n)
    fixed: dict[tuple[int, int], Outcome] = {}
    must_attend: set[tuple[int, int]] = set()

    interrupted = None
    if sessions >= 5:
        who, first = order[0], rng.randint(1, max(1, sessions - 4))
        interrupted = (who, first)
        for k in range(first, first + INTERRUPTION_MIN_MISSED):
            fixed[who, k] = Outcome(Attendance.MISSED, MissedReason.HOSPITAL_ADMISSION,
                                    "Admitted with pneumonia.")
        must_attend |= {(who, first - 1), (who, first + INTERRUPTION_MIN_MISSED)}

    withdrawn = None
    if n >= 2 and sessions >= 3:
        who = order[1]
        after = min(sessions - 1, rng.randint(math.ceil(0.4 * sessions),
                                              math.ceil(0.7 * sessions)))
        after = max(after, 2)
        withdrawn = (who, after, rng.choice(_WITHDRAWAL_REASONS))
        fixed[who, after - 1] = Outcome(Attendance.MISSED, MissedReason.ILLNESS,
                                        "Unwell; called to say they would stop.")
        for k in range(after, sessions):
            fixed[who, k] = Outcome(Attendance.MISSED, None, AFTER_WITHDRAWAL_NOTE)
        must_attend |= {(who, after - 2), (who, after - 3)}

    cancelled = None
    if sessions >= 9 and not scripted_only:
        busy = set()
        if interrupted is not None:
            busy = set(range(interrupted[1] - 1, interrupted[1] + INTERRUPTION_MIN_MISSED + 1))
        cancelled = rng.choice([k for k in range(2, sessions - 1) if k not in busy])

    def attended_choice(who: int, low: float, high: float) -> int | None:
        """An attended-to-be session of ``who`` around ``low``–``high`` of the programme."""
        free = [k for k in range(sessions) if (who, k) not in fixed and k != cancelled]
        near = [k for k in free if low * sessions <= k <= high * sessions] or free
        return rng.choice(near) if near else None

    events: list[AdverseEventPlan] = []
    dose_modified = None
    who = order[2] if n >= 3 else order[-1]
    k = attended_choice(who, 0.25, 0.5)
    if k is not None:
        dose_modified = (who, k, DoseModification.INTENSITY_REDUCED_HEALTH,
                         "Knee pain: kept to intermediate intensity from the first high "
                         "interval on.")
        must_attend.add((who, k))
        fixed[who, k] = Outcome(Attendance.ATTENDED)
        events.append(AdverseEventPlan(who, k, "Knee pain during the high-intensity interval.",
                                       2, Relatedness.POSSIBLE,
                                       "Intensity reduced; ice after the session."))
    terminated_early = None
    who = order[3] if n >= 4 else order[0]
    k = attended_choice(who, 0.6, 0.9)
    if k is not None:
        terminated_early = (who, k, "Dizziness in the third high interval; stopped and "
                                    "rested.")
        fixed[who, k] = Outcome(Attendance.ATTENDED)
        events.append(AdverseEventPlan(who, k, "Dizziness and nausea during a high "
                                               "interval.", 1, Relatedness.YES,
                                       "Stopped the session; rested lying down and was "
                                       "observed for 15 minutes; recovered."))

    reasons = [r for r, _ in _MISSED_REASONS]
    weights = [w for _, w in _MISSED_REASONS]
    outcomes: dict[tuple[int, int], Outcome] = {}
    for i in range(n):
        chance = (0.0 if scripted_only
                  else random.Random(f"{seed}/miss-chance/{i}").uniform(*MISS_CHANCE_RANGE))
        own = random.Random(f"{seed}/misses/{i}")
        run = 0  # sessions missed in a row (the site's cancellations skipped)
        for k in range(sessions):
            draw, why = own.random(), own.choices(reasons, weights)[0]  # drawn every time
            if k == cancelled:
                outcomes[i, k] = Outcome(Attendance.CANCELLED, None, CANCELLED_NOTE)
                continue
            if (i, k) in fixed:
                outcome = fixed[i, k]
            elif (i, k) in must_attend or run >= INTERRUPTION_MIN_MISSED - 1 or draw >= chance:
                outcome = Outcome(Attendance.ATTENDED)
            else:
                outcome = Outcome(Attendance.MISSED, why)
            outcomes[i, k] = outcome
            run = run + 1 if outcome.status is Attendance.MISSED else 0
    return ProgrammePlan(outcomes, cancelled, interrupted, withdrawn, dose_modified,
                         terminated_early, tuple(events))
