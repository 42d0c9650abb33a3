"""What a programme records about one participant, as plain frozen values.

Storage fills these in; the metrics (``programme/metrics.py``) read only these, so they
are the same on SQLite, PostgreSQL or a hand-written test case. Values a user can type
wrongly (RPE, an adverse-event grade) are refused here, with one sentence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from hiaim_monitor.i18n import tr

RPE_MIN: int = 6  # Borg RPE scale 6–20 (Borg 1982)
RPE_MAX: int = 20
AE_GRADE_MIN: int = 1  # CTCAE-style severity grade 1 (mild) … 5 (death)
AE_GRADE_MAX: int = 5


class Attendance(enum.Enum):
    ATTENDED = "attended"
    MISSED = "missed"  # the participant did not come; a MissedReason says why
    # The site cancelled it (closure, no instructor): not the participant's non-adherence.
    CANCELLED = "cancelled"


class MissedReason(enum.Enum):
    ILLNESS = "illness"
    TREATMENT_SIDE_EFFECTS = "treatment_side_effects"
    HOSPITAL_ADMISSION = "hospital_admission"
    TRANSPORT = "transport"
    PERSONAL = "personal"
    UNKNOWN = "unknown"


class DoseModification(enum.Enum):
    """How the prescription was changed for one session (Nilsen 2018: dose modification)."""

    INTENSITY_REDUCED_HEALTH = "intensity_reduced_health"
    INTENSITY_REDUCED_OTHER = "intensity_reduced_other"
    DURATION_REDUCED_HEALTH = "duration_reduced_health"
    DURATION_REDUCED_OTHER = "duration_reduced_other"


class Relatedness(enum.Enum):
    """Is the adverse event related to the exercise?"""

    YES = "yes"
    POSSIBLE = "possible"
    NO = "no"


class Phase(enum.Enum):
    WORK = "work"
    RECOVERY = "recovery"


def valid_rpe(value: object) -> int:
    """A Borg RPE as typed, or ValueError with one sentence. Whole numbers only: a 12.5 or
    a "12" is a typing slip, named as typed (repr) so the user sees what went wrong."""
    if isinstance(value, bool) or not isinstance(value, int) or not (RPE_MIN <= value <= RPE_MAX):
        raise ValueError(
            tr("Borg RPE is a whole number from 6 to 20; {value} is not.").format(
                value=repr(value)
            )
        )
    return value


def valid_grade(value: object) -> int:
    """An adverse-event grade as typed, or ValueError with one sentence."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (AE_GRADE_MIN <= value <= AE_GRADE_MAX)
    ):
        raise ValueError(
            tr("An adverse event's grade is 1 to 5; {value} is not.").format(value=repr(value))
        )
    return value


@dataclass(frozen=True)
class PlannedSession:
    """One session of a participant's plan. ``planned_work_s`` is the work time the week's
    protocol prescribes (before any dose modification): the planned dose of the session."""

    week: int  # 1-based week of the programme
    number: int  # 1-based number of the session in the programme (1…18 in HI AIM)
    date: date
    planned_work_s: float = 0.0
    number_in_week: int | None = None  # 1-based; how storage and the registry name it


@dataclass(frozen=True)
class IntervalResult:
    """One prescribed phase of an attended session, as the engine judged it.

    A prescribed interval not performed (early termination) is still listed, with
    ``achieved`` False and no time in target, so compliance counts it as prescribed.
    """

    phase: Phase
    planned_s: float  # prescribed length of the phase
    achieved: bool = False  # work: reached the target (engine's rule); recovery: unused
    peak_pct_hrmax: float | None = None  # None: no heart rate recorded in the phase
    mean_pct_hrmax: float | None = None
    time_in_target_s: float = 0.0  # at or above target (work) / within the band (recovery)


@dataclass(frozen=True)
class AdverseEvent:
    what: str
    grade: int  # 1–5
    related: Relatedness
    action: str = ""
    id: int | None = None  # the stored record's id, to correct or delete it

    def __post_init__(self) -> None:
        valid_grade(self.grade)


@dataclass(frozen=True)
class RPERating:
    """One stored Borg rating: after the work phase or block ``phase_index`` (its index in
    the session's protocol), or once at the end of the session (None)."""

    borg: int
    phase_index: int | None = None
    id: int | None = None
    recorded_utc: datetime | None = None
    updated_utc: datetime | None = None

    def __post_init__(self) -> None:
        valid_rpe(self.borg)


@dataclass(frozen=True)
class SessionRecord:
    """What happened at one planned session. ``status`` None: attendance not recorded yet
    (a session still to come), which the metrics leave out as not yet held."""

    planned: PlannedSession
    status: Attendance | None
    missed_reason: MissedReason | None = None  # only when MISSED
    rpe: int | None = None  # Borg 6–20, session RPE; None: not asked
    dose_modification: DoseModification | None = None
    early_termination: str | None = None  # the reason; None: the session ran to its end
    intervals: tuple[IntervalResult, ...] = ()
    adverse_events: tuple[AdverseEvent, ...] = ()
    # What storage keeps besides: the planned session's id, the recorded session it became,
    # the attendance note (free text) and every RPE rating (``rpe`` is the end-of-session one).
    id: int | None = None
    session_id: int | None = None
    note: str = ""
    rpe_ratings: tuple[RPERating, ...] = ()
    dose_note: str = ""

    def __post_init__(self) -> None:
        if self.rpe is not None:
            valid_rpe(self.rpe)

    @property
    def attended(self) -> bool:
        return self.status is Attendance.ATTENDED


@dataclass(frozen=True)
class Withdrawal:
    """Permanent discontinuation (Nilsen 2018): the participant stopped for good."""

    date: date
    reason: str = ""


@dataclass(frozen=True)
class ParticipantProgramme:
    """One enrolled participant's programme: a record for every planned session, those
    after a withdrawal included (recorded MISSED), so the planned count stays the plan's."""

    study_code: str  # pseudonymous
    start: date  # the programme's first day; week 1 is its first 7 days
    sessions: tuple[SessionRecord, ...] = field(default=())
    withdrawal: Withdrawal | None = None
    programme: str = ""  # the programme's name
    enrolled_on: date | None = None
