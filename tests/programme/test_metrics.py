"""Known answers for the programme metrics (hiaim_monitor/programme/metrics.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hiaim_monitor.programme import metrics as m
from hiaim_monitor.programme.model import (
    AdverseEvent,
    Attendance,
    DoseModification,
    IntervalResult,
    MissedReason,
    ParticipantProgramme,
    Phase,
    PlannedSession,
    Relatedness,
    SessionRecord,
    Withdrawal,
)

START = date(2026, 1, 5)  # a Monday
A, M, C = Attendance.ATTENDED, Attendance.MISSED, Attendance.CANCELLED


def plan(n: int = 18, work_s: float = 0.0) -> list[PlannedSession]:
    """Three sessions a week (Mon, Wed, Fri), numbered 1…n."""
    out = []
    for k in range(n):
        week, slot = divmod(k, 3)
        day = START + timedelta(days=7 * week + 2 * slot)
        out.append(PlannedSession(week + 1, k + 1, day, work_s))
    return out


def programme(statuses: str, withdrawal: Withdrawal | None = None, **kw) -> ParticipantProgramme:
    """A participant from a string of A (attended), M (missed), C (cancelled by the site)."""
    kind = {"A": A, "M": M, "C": C}
    records = tuple(
        SessionRecord(s, kind[c], **kw) for s, c in zip(plan(len(statuses)), statuses, strict=True)
    )
    return ParticipantProgramme("P07", START, records, withdrawal)


def test_sixteen_of_eighteen_attended_is_0_889():
    p = programme("AAAAMAAAAAAAAMAAAA")
    assert m.planned_sessions(p) == 18
    assert m.attended_sessions(p) == 16
    assert m.missed_sessions(p) == 2
    assert m.attendance(p) == pytest.approx(0.889, abs=5e-4)


def test_a_session_cancelled_by_the_site_leaves_the_planned_count():
    p = programme("AAAAAAAAAAAAAAAACC")
    assert m.planned_sessions(p) == 16
    assert m.cancelled_sessions(p) == 2
    assert m.attendance(p) == 1.0
    assert m.missed_sessions(p) == 0


def test_nothing_planned_gives_no_attendance_rather_than_an_error():
    p = ParticipantProgramme("P01", START)
    assert m.attendance(p) is None
    assert m.relative_dose_intensity(p) is None
    assert m.mean_rpe(p) is None
    assert m.compliance(p.sessions).work_fraction is None
    everyone_cancelled = programme("CCC")
    assert m.attendance(everyone_cancelled) is None


def test_three_missed_in_a_row_are_one_interruption():
    p = programme("AAMMMAAAA")
    assert m.interruptions(p) == [m.MissedRun(3, 5, 3)]


def test_two_runs_of_two_missed_are_no_interruption():
    p = programme("AMMAAMMAA")
    assert [r.length for r in m.missed_runs(p)] == [2, 2]
    assert m.interruptions(p) == []


def test_a_site_cancellation_neither_breaks_nor_extends_a_run_of_missed():
    assert len(m.interruptions(programme("AMMCMA"))) == 1
    assert m.interruptions(programme("AMMCA")) == []


def test_withdrawal_in_week_4_is_reported_and_later_sessions_count_as_missed_not_interrupted():
    # Withdrew on the Tuesday of week 4 (day 22), the day after attending session 10.
    p = programme(
        "AAAAAAAAAAMMMMMMMM", withdrawal=Withdrawal(START + timedelta(days=22), "fatigue")
    )
    assert m.discontinuation_week(p) == 4
    assert m.attendance(p) == pytest.approx(10 / 18)
    assert m.interruptions(p) == []
    assert m.sessions_after_withdrawal(p) == 8
    assert m.missed_by_reason(p)[MissedReason.UNKNOWN] == 0
    assert m.discontinuation_week(programme("AAA")) is None


def test_missed_sessions_are_counted_by_reason():
    records = (
        SessionRecord(plan(3)[0], M, MissedReason.ILLNESS),
        SessionRecord(plan(3)[1], M, MissedReason.ILLNESS),
        SessionRecord(plan(3)[2], M),
    )
    counts = m.missed_by_reason(ParticipantProgramme("P02", START, records))
    assert counts[MissedReason.ILLNESS] == 2
    assert counts[MissedReason.UNKNOWN] == 1
    assert counts[MissedReason.TRANSPORT] == 0


def work(planned_s: float, in_target_s: float, achieved: bool, peak=None, mean=None):
    return IntervalResult(Phase.WORK, planned_s, achieved, peak, mean, in_target_s)


def rest(planned_s: float, in_target_s: float):
    return IntervalResult(Phase.RECOVERY, planned_s, time_in_target_s=in_target_s)


def test_four_work_intervals_three_achieved_is_0_75_and_recovery_is_reported_apart():
    session = SessionRecord(
        plan(1, 960)[0],
        A,
        intervals=(
            work(240, 200, True, 93.0, 88.0),
            rest(180, 150),
            work(240, 210, True, 95.0, 89.5),
            rest(180, 120),
            work(240, 180, True, 92.0, 87.0),
            rest(180, 100),
            work(240, 30, False, 84.0, 78.0),
        ),
    )
    c = m.compliance([session])
    assert (c.work_achieved, c.work_prescribed) == (3, 4)
    assert c.work_fraction == 0.75
    assert c.work_time_in_target_s == 620
    assert c.recovery_time_in_target_s == 370
    assert (c.work_planned_s, c.recovery_planned_s) == (960, 540)
    rows = m.interval_intensities(ParticipantProgramme("P03", START, (session,)))
    assert [(r.interval_number, r.peak_pct_hrmax, r.mean_pct_hrmax) for r in rows] == [
        (1, 93.0, 88.0),
        (2, 95.0, 89.5),
        (3, 92.0, 87.0),
        (4, 84.0, 78.0),
    ]


def test_relative_dose_intensity_by_hand():
    # Three sessions, each prescribing 2 × 4 min work = 8 min: planned 24 min.
    # Session 1: 3.5 + 4 (5 min in target capped at its 4) = 7.5 min.
    # Session 2 missed: 0. Session 3, dose reduced: 2 + 0.5 = 2.5 min.
    # Completed 10 min → RDI = 10 / 24 = 0.4167.
    s1, s2, s3 = plan(3, 480)
    p = ParticipantProgramme(
        "P04",
        START,
        (
            SessionRecord(s1, A, intervals=(work(240, 210, True), work(240, 300, True))),
            SessionRecord(s2, M, MissedReason.TRANSPORT),
            SessionRecord(
                s3,
                A,
                dose_modification=DoseModification.INTENSITY_REDUCED_HEALTH,
                intervals=(work(240, 120, False), work(240, 30, False)),
            ),
        ),
    )
    assert m.planned_dose_min(p) == 24.0
    assert m.completed_dose_min(p) == 10.0
    assert m.relative_dose_intensity(p) == pytest.approx(10 / 24)
    assert m.dose_modified_sessions(p) == 1


def test_a_cancelled_session_adds_no_planned_dose():
    s1, s2 = plan(2, 600)
    p = ParticipantProgramme(
        "P05",
        START,
        (SessionRecord(s1, A, intervals=(work(600, 600, True),)), SessionRecord(s2, C)),
    )
    assert m.relative_dose_intensity(p) == 1.0


def test_rpe_per_session_and_its_mean():
    s = plan(3)
    p = ParticipantProgramme(
        "P06",
        START,
        (SessionRecord(s[0], A, rpe=13), SessionRecord(s[1], M), SessionRecord(s[2], A, rpe=16)),
    )
    assert m.rpe_by_session(p) == {1: 13, 3: 16}
    assert m.mean_rpe(p) == 14.5


@pytest.mark.parametrize("bad", [5, 21, 12.5])
def test_rpe_outside_6_to_20_is_refused_naming_the_value(bad):
    with pytest.raises(ValueError, match=f"6 to 20; {bad} is not"):
        SessionRecord(plan(1)[0], A, rpe=bad)


def test_an_adverse_event_grade_outside_1_to_5_is_refused():
    with pytest.raises(ValueError, match="1 to 5; 6 is not"):
        AdverseEvent("fall", 6, Relatedness.NO)


def test_adverse_events_and_early_terminations_are_counted():
    s = plan(3)
    dizzy = AdverseEvent("dizziness", 1, Relatedness.YES, "rested")
    knee = AdverseEvent("knee pain", 2, Relatedness.POSSIBLE)
    fall = AdverseEvent("fall at home", 3, Relatedness.NO)
    records = (
        SessionRecord(s[0], A, early_termination="dizziness", adverse_events=(dizzy, knee)),
        SessionRecord(s[1], A, adverse_events=(dizzy,)),
        SessionRecord(s[2], A, adverse_events=(fall,)),
    )
    assert m.adverse_events_by_grade(records) == {1: 2, 2: 1, 3: 1, 4: 0, 5: 0}
    assert m.early_terminations(ParticipantProgramme("P08", START, records)) == 1


def test_group_summary_gives_consort_numbers():
    withdrawn = programme("AAAAAAAAAAMMMMMMMM", withdrawal=Withdrawal(START + timedelta(days=23)))
    interrupted = programme("AAMMMAAAAAAAAAAAAA")
    full = programme("AAAAAAAAAAAAAAAAAA", rpe=14)
    g = m.group_summary([withdrawn, interrupted, full])
    assert g["enrolled"] == 3
    assert g["withdrawn"] == 1
    assert g["discontinuation_weeks"] == [4]
    assert g["with_interruption"] == 1
    assert g["sessions_planned"] == 54
    assert g["sessions_attended"] == 10 + 15 + 18
    assert g["attendance"]["median"] == pytest.approx(15 / 18)
    assert g["attendance"]["min"] == pytest.approx(10 / 18)
    assert g["attendance"]["max"] == 1.0
    assert g["mean_rpe"] == {"median": 14, "min": 14, "max": 14}
    assert g["relative_dose_intensity"]["median"] is None  # no dose planned in these plans
    row = m.participant_summary(withdrawn)
    assert row["withdrawn"] and row["discontinuation_week"] == 4
    assert m.group_summary([])["attendance"]["median"] is None


def test_the_rpe_refusal_is_translated_to_danish():
    from hiaim_monitor import i18n

    i18n.set_language("da")
    try:
        with pytest.raises(ValueError, match="6 til 20; det er 25 ikke"):
            SessionRecord(plan(1)[0], A, rpe=25)
    finally:
        i18n.set_language("en")


def test_weekly_rows_show_attendance_and_rpe_week_by_week():
    s = plan(6)
    records = (
        SessionRecord(s[0], A, rpe=12),
        SessionRecord(s[1], A, rpe=14),
        SessionRecord(s[2], M, MissedReason.ILLNESS),
        SessionRecord(s[3], A, rpe=15, intervals=(work(240, 240, True), work(240, 0, False))),
        SessionRecord(s[4], C),
        SessionRecord(s[5], A, rpe=17),
    )
    week1, week2 = m.weekly(ParticipantProgramme("P09", START, records))
    assert (week1["week"], week1["attendance"], week1["mean_rpe"]) == (1, 2 / 3, 13.0)
    assert (week2["planned_sessions"], week2["attendance"], week2["mean_rpe"]) == (2, 1.0, 16.0)
    assert week2["work_compliance"] == 0.5
    assert week1["work_compliance"] is None
