"""Programmes in the store, on SQLite and PostgreSQL: the calendar planned from the start date,
enrolment and withdrawal, attendance, and per planned session RPE, dose modifications, early
terminations and adverse events, all editable; a refused command names what is wrong and
writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hiaim_monitor import i18n
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import (
    Attendance,
    DoseModification,
    MissedReason,
    ParticipantProgramme,
    Relatedness,
    Withdrawal,
)
from hiaim_monitor.protocols import PhaseKind, load_protocol
from hiaim_monitor.storage import Database, start_session
from hiaim_monitor.storage import programme_records as rec
from hiaim_monitor.storage import programmes as pg
from hiaim_monitor.storage.registry import RegistryError, add_participant
from hiaim_monitor.storage.schema import PhaseAdherenceRow
from tests.storage.helpers import START_UTC, roster

MONDAY = date(2026, 3, 2)


def hi_aim(db: Database, *codes: str, **kwargs) -> str:
    """Programme "HI AIM Herlev" from Monday 2 March 2026 (6 weeks, Mon/Wed/Fri), with
    ``codes`` registered, enrolled on the start date and planned."""
    pg.create_programme(db, "HI AIM Herlev", start_date=MONDAY, site="Herlev", **kwargs)
    for code in codes:
        add_participant(db, code, code, hrmax_bpm=180)
        pg.enrol(db, "HI AIM Herlev", code, enrolled_on=MONDAY)
    pg.plan_sessions(db, "HI AIM Herlev")
    return "HI AIM Herlev"


def test_a_programme_plans_18_sessions_on_monday_wednesday_friday(db):
    name = hi_aim(db, "HIAIM-001")
    [info] = pg.list_programmes(db)
    assert (info.weeks, info.sessions_per_week, info.weekdays, info.enrolled) == (
        6, 3, (0, 2, 4), 1)
    planned = pg.list_planned_sessions(db, name, "HIAIM-001")
    assert len(planned) == 18
    assert [(p.week, p.number, p.planned_on) for p in planned[:4]] == [
        (1, 1, date(2026, 3, 2)), (1, 2, date(2026, 3, 4)), (1, 3, date(2026, 3, 6)),
        (2, 1, date(2026, 3, 9))]
    assert planned[-1].planned_on == date(2026, 4, 10)  # Friday of week 6
    assert all(p.attendance is None for p in planned)
    assert pg.plan_sessions(db, name) == 0  # planning again adds nothing


def test_the_calendar_follows_given_weekdays_from_a_midweek_start():
    # Week 1 is the seven days from Wednesday 4 March: Thu 5 then Tue 10.
    assert pg.calendar(date(2026, 3, 4), 2, [1, 3]) == [
        (1, 1, date(2026, 3, 5)), (1, 2, date(2026, 3, 10)),
        (2, 1, date(2026, 3, 12)), (2, 2, date(2026, 3, 17))]


def test_someone_enrolled_late_gets_the_sessions_from_their_enrolment_on(db):
    name = hi_aim(db, "HIAIM-001", protocol_by_week={1: "hi-aim", 2: "hi-aim"})
    add_participant(db, "HIAIM-002", "Bo", hrmax_bpm=175)
    pg.enrol(db, name, "HIAIM-002", enrolled_on=date(2026, 3, 9))
    assert pg.plan_sessions(db, name) == 15
    later = pg.list_planned_sessions(db, name, "HIAIM-002")
    assert (later[0].week, later[0].number) == (2, 1)
    assert pg.list_programmes(db)[0].protocol_by_week == {1: "hi-aim", 2: "hi-aim"}


def test_a_withdrawal_keeps_its_date_and_reason(db):
    name = hi_aim(db, "HIAIM-001")
    info = pg.withdraw(db, name, "hiaim-001", withdrawn_on=date(2026, 3, 20),
                       reason="disease progression")
    assert (info.study_code, info.withdrawn_on, info.withdrawal_reason) == (
        "HIAIM-001", date(2026, 3, 20), "disease progression")
    assert pg.list_enrolments(db, name) == [info]


@pytest.mark.parametrize(("call", "says"), [
    (lambda db: pg.enrol(db, "No Such", "HIAIM-001"), "There is no programme 'No Such'"),
    (lambda db: pg.enrol(db, "HI AIM Herlev", "HIAIM-999"), "no participant with study code"),
    (lambda db: pg.enrol(db, "HI AIM Herlev", "HIAIM-001"), "already enrolled"),
    (lambda db: pg.withdraw(db, "HI AIM Herlev", "HIAIM-001", withdrawn_on=date(2026, 1, 1),
                            reason="moved"), "before HIAIM-001 was enrolled"),
    (lambda db: pg.create_programme(db, "hi aim herlev", start_date=MONDAY), "already exists"),
    (lambda db: pg.create_programme(db, "Other", start_date=MONDAY, weekdays=[0, 2]),
     "Give 3 different weekdays"),
    (lambda db: pg.record_attendance(db, "HI AIM Herlev", "HIAIM-001", 7, 1, "attended"),
     "Week 7 session 1 is outside programme HI AIM Herlev"),
    (lambda db: pg.record_attendance(db, "HI AIM Herlev", "HIAIM-001", 1, 4, "attended"),
     "outside programme"),
    (lambda db: pg.record_attendance(db, "HI AIM Herlev", "HIAIM-001", 1, 1, "late"),
     "Attendance 'late' is not one of attended, missed, cancelled"),
    (lambda db: pg.record_attendance(db, "HI AIM Herlev", "HIAIM-001", 1, 1, "attended",
                                     reason="illness"), "give a reason only for a missed"),
    (lambda db: rec.record_rpe(db, "HI AIM Herlev", "HIAIM-001", 1, 1, 21),
     "Borg RPE is a whole number from 6 to 20; 21 is not"),
    (lambda db: rec.record_rpe(db, "HI AIM Herlev", "HIAIM-001", 1, 1, 5), "; 5 is not"),
    (lambda db: rec.record_adverse_event(db, "HI AIM Herlev", "HIAIM-001", 1, 1, "dizzy", 6,
                                        "possible"), "grade is 1 to 5; 6 is not"),
    (lambda db: rec.record_adverse_event(db, "HI AIM Herlev", "HIAIM-001", 1, 1, "dizzy", 0,
                                        "possible"), "grade is 1 to 5; 0 is not"),
    (lambda db: rec.record_adverse_event(db, "HI AIM Herlev", "HIAIM-001", 1, 1, "dizzy", 2,
                                        "maybe"), "Related to exercise 'maybe' is not one of"),
    (lambda db: rec.record_dose_modification(db, "HI AIM Herlev", "HIAIM-001", 1, 1,
                                            "intensity_raised"), "is not one of"),
    (lambda db: rec.record_early_termination(db, "HI AIM Herlev", "HIAIM-001", 1, 1, " "),
     "early termination is empty"),
    (lambda db: rec.edit_rpe(db, 4711, borg=12), "There is no RPE rating with id 4711"),
])
def test_bad_input_is_one_sentence_and_writes_nothing(db, call, says):
    name = hi_aim(db, "HIAIM-001")
    before = rec.participant_programme(db, name, "HIAIM-001"), pg.list_programmes(db)
    with pytest.raises(RegistryError, match=says) as refused:
        call(db)
    assert str(refused.value).count(". ") == 0 and str(refused.value).endswith(".")
    assert (rec.participant_programme(db, name, "HIAIM-001"), pg.list_programmes(db)) == before


def test_simulated_and_real_participants_are_never_mixed(db):
    hi_aim(db, "HIAIM-001")
    pg.create_programme(db, "Demo", start_date=MONDAY, simulated=True)
    add_participant(db, "SIM-001", "Sim", hrmax_bpm=180, simulated=True)
    with pytest.raises(RegistryError, match="SIM-001 is a simulated participant"):
        pg.enrol(db, "HI AIM Herlev", "SIM-001")
    with pytest.raises(RegistryError, match="HIAIM-001 is a real participant"):
        pg.enrol(db, "Demo", "HIAIM-001")
    pg.enrol(db, "Demo", "SIM-001")
    assert [p.name for p in pg.list_programmes(db, include_simulated=False)] == ["HI AIM Herlev"]


def test_attendance_is_recorded_linked_and_its_reason_filled_in_later(db):
    name = hi_aim(db, "HIAIM-001")
    stored = start_session(db, load_protocol("hi-aim"), roster(1), started_utc=START_UTC)
    pg.record_attendance(db, name, "HIAIM-001", 1, 1, Attendance.ATTENDED,
                         session_id=stored.session_id)
    pg.record_attendance(db, name, "HIAIM-001", 1, 2, "missed")  # why: not known yet
    pg.record_attendance(db, name, "HIAIM-001", 1, 3, "cancelled", note="hall closed")
    later = pg.record_attendance(db, name, "HIAIM-001", 1, 2, "missed",
                                 reason="treatment_side_effects", note="nausea")
    assert later.missed_reason is MissedReason.TREATMENT_SIDE_EFFECTS
    assert later.attendance_utc is not None and later.attendance_utc.tzinfo is not None
    week1 = pg.list_planned_sessions(db, name, "HIAIM-001")[:3]
    assert [(p.attendance, p.missed_reason, p.attendance_note, p.session_id) for p in week1] == [
        (Attendance.ATTENDED, None, "", stored.session_id),
        (Attendance.MISSED, MissedReason.TREATMENT_SIDE_EFFECTS, "nausea", None),
        (Attendance.CANCELLED, None, "hall closed", None)]
    assert pg.planned_session_of(db, stored.session_id, "hiaim-001") == (name, 1, 1)
    assert pg.planned_session_of(db, stored.session_id, "HIAIM-002") is None
    with pytest.raises(RegistryError, match="no recorded session 999"):
        pg.record_attendance(db, name, "HIAIM-001", 1, 1, "attended", session_id=999)
    add_participant(db, "HIAIM-009", "Ida", hrmax_bpm=170)
    pg.enrol(db, name, "HIAIM-009", enrolled_on=MONDAY)
    pg.plan_sessions(db, name)
    with pytest.raises(RegistryError, match="HIAIM-009 did not take part in recorded session"):
        pg.record_attendance(db, name, "HIAIM-009", 1, 1, "attended",
                             session_id=stored.session_id)


def test_rpe_after_each_block_and_at_the_end_and_a_second_rating_corrects(db):
    name = hi_aim(db, "HIAIM-001")
    rec.record_rpe(db, name, "HIAIM-001", 1, 1, 15, phase_index=2)
    first = rec.record_rpe(db, name, "HIAIM-001", 1, 1, 17, phase_index=4)
    rec.record_rpe(db, name, "HIAIM-001", 1, 1, 16)  # once, at the end
    corrected = rec.record_rpe(db, name, "HIAIM-001", 1, 1, 18, phase_index=4)
    assert corrected.id == first.id and corrected.recorded_utc == first.recorded_utc
    assert corrected.updated_utc >= first.updated_utc
    edited = rec.edit_rpe(db, first.id, borg=19)
    assert [(r.phase_index, r.borg) for r in rec.list_rpe(db, name, "HIAIM-001")] == [
        (2, 15), (4, 19), (None, 16)]
    assert edited.updated_utc.tzinfo is not None


def test_nothing_is_recorded_for_a_session_the_participant_missed(db):
    name = hi_aim(db, "HIAIM-001")
    pg.record_attendance(db, name, "HIAIM-001", 2, 1, "missed", reason="illness")
    with pytest.raises(RegistryError, match="marked missed; record it as attended first"):
        rec.record_rpe(db, name, "HIAIM-001", 2, 1, 14)
    assert rec.list_rpe(db, name) == []


def test_dose_modification_early_termination_and_adverse_event_are_stored_and_editable(db):
    name = hi_aim(db, "HIAIM-001", "HIAIM-002")
    dose = rec.record_dose_modification(db, name, "HIAIM-001", 3, 2,
                                       "intensity_reduced_health", "knee pain")
    end = rec.record_early_termination(db, name, "HIAIM-001", 3, 2, "dizzy")
    event = rec.record_adverse_event(db, name, "HIAIM-001", 3, 2, "presyncope", 2, "yes",
                                    "stopped, lay down, BP measured")
    rec.record_adverse_event(db, name, "HIAIM-002", 1, 1, "fall on the way in", 1, "no")

    rec.edit_dose_modification(db, dose.id,
                               modification=DoseModification.DURATION_REDUCED_HEALTH)
    rec.edit_early_termination(db, end.id, reason="dizziness after block 2")
    rec.edit_adverse_event(db, event.id, grade=3, related=Relatedness.POSSIBLE)
    again = rec.record_early_termination(db, name, "HIAIM-001", 3, 2, "dizziness")
    assert again.id == end.id  # one per planned session: recording again corrects it

    [d] = rec.list_dose_modifications(db, name)
    assert (d.study_code, d.week, d.number, d.modification, d.note) == (
        "HIAIM-001", 3, 2, DoseModification.DURATION_REDUCED_HEALTH, "knee pain")
    assert [t.reason for t in rec.list_early_terminations(db, name)] == ["dizziness"]
    events = rec.list_adverse_events(db, name)
    assert [(e.study_code, e.grade, e.related) for e in events] == [
        ("HIAIM-001", 3, Relatedness.POSSIBLE), ("HIAIM-002", 1, Relatedness.NO)]
    assert [e.study_code for e in rec.list_adverse_events(db, name, "HIAIM-002")] == ["HIAIM-002"]

    rec.delete_record(db, "adverse-event", events[1].id)
    assert len(rec.list_adverse_events(db, name)) == 1


def test_one_participants_whole_programme_reads_in_the_programme_models_shape(db):
    name = hi_aim(db, "HIAIM-001")
    pg.record_attendance(db, name, "HIAIM-001", 1, 1, "attended", note="came by bus")
    rating = rec.record_rpe(db, name, "HIAIM-001", 1, 1, 13)
    event = rec.record_adverse_event(db, name, "HIAIM-001", 1, 1, "nausea", 1, "possible")
    pg.record_attendance(db, name, "HIAIM-001", 1, 2, "missed", reason="hospital_admission")
    pg.withdraw(db, name, "HIAIM-001", withdrawn_on=date(2026, 3, 30), reason="moved away")

    whole = rec.participant_programme(db, name, "HIAIM-001")
    assert isinstance(whole, ParticipantProgramme)
    assert (whole.programme, whole.study_code, whole.start, whole.enrolled_on) == (
        name, "HIAIM-001", MONDAY, MONDAY)
    assert whole.withdrawal == Withdrawal(date(2026, 3, 30), "moved away")
    assert len(whole.sessions) == 18
    first, second, third = whole.sessions[:3]
    assert (first.status, first.rpe, first.note) == (Attendance.ATTENDED, 13, "came by bus")
    assert [(r.borg, r.phase_index, r.id) for r in first.rpe_ratings] == [(13, None, rating.id)]
    assert [(e.what, e.grade, e.related, e.id) for e in first.adverse_events] == [
        ("nausea", 1, Relatedness.POSSIBLE, event.id)]
    assert first.early_termination is None and first.dose_modification is None
    assert (second.status, second.missed_reason) == (Attendance.MISSED,
                                                    MissedReason.HOSPITAL_ADMISSION)
    assert third.status is None  # not recorded yet
    # Intention to treat: the sessions after the withdrawal (30 March) count as missed.
    after = [s for s in whole.sessions if s.planned.date > date(2026, 3, 30)]
    assert len(after) == 5 and {s.status for s in after} == {Attendance.MISSED}
    assert [(s.planned.week, s.planned.number, s.planned.number_in_week)
            for s in whole.sessions[2:4]] == [(1, 3, 3), (2, 4, 1)]
    assert all(r.recorded_utc is not None and r.recorded_utc <= datetime.now(UTC)
               for r in first.rpe_ratings)


def test_the_metrics_read_a_programme_recorded_through_storage(db):
    """Two weeks of three sessions, week 2 running the 4x4; the first session was recorded
    (HI AIM protocol: 4 x 240 s intermediate + 4 x 180 s high = 1680 s of work)."""
    pg.create_programme(db, "Small", start_date=MONDAY, weeks=2,
                        protocol_by_week={2: "norwegian-4x4"})  # 4 x 240 s = 960 s of work
    add_participant(db, "HIAIM-001", "Ann", hrmax_bpm=180)
    pg.enrol(db, "Small", "HIAIM-001", enrolled_on=MONDAY)
    pg.plan_sessions(db, "Small")
    stored = start_session(db, load_protocol("intermediate-high"), roster(1), started_utc=START_UTC)
    with db.session() as s, s.begin():  # as the session writer stores the engine's judgement
        s.add(PhaseAdherenceRow(
            session_participant_id=stored.session_participant_ids["HIAIM-001"],
            phase_index=2, phase_name="High 1/4", kind=PhaseKind.HIGH, start_s=540.0,
            end_s=720.0, target_level=int(Level.HIGH), seconds_in_target=150.0,
            seconds_above_target=0.0, seconds_below_target=30.0, seconds_no_data=0.0,
            fraction_in_target_after_ramp=0.9, time_to_target_s=20.0, peak_pct=93.0,
            achieved=True, planned_s=180.0, ran_s=180.0, judged=True))
    pg.record_attendance(db, "Small", "HIAIM-001", 1, 1, "attended",
                         session_id=stored.session_id)
    rec.record_rpe(db, "Small", "HIAIM-001", 1, 1, 13, phase_index=2)  # after a block
    rec.record_rpe(db, "Small", "HIAIM-001", 1, 1, 15)  # the session RPE
    pg.record_attendance(db, "Small", "HIAIM-001", 1, 2, "missed", reason="illness")
    pg.record_attendance(db, "Small", "HIAIM-001", 1, 3, "missed")
    pg.record_attendance(db, "Small", "HIAIM-001", 2, 1, "missed", reason="transport")
    pg.record_attendance(db, "Small", "HIAIM-001", 2, 2, "cancelled", note="hall closed")
    pg.record_attendance(db, "Small", "HIAIM-001", 2, 3, "attended")
    rec.record_rpe(db, "Small", "HIAIM-001", 2, 3, 17)

    summary = metrics.participant_summary(rec.participant_programme(db, "Small", "HIAIM-001"))

    # 6 planned, 1 cancelled by the site: 5 offered, 2 attended.
    assert (summary["planned_sessions"], summary["attended_sessions"],
            summary["cancelled_sessions"]) == (5, 2, 1)
    assert summary["attendance"] == pytest.approx(2 / 5)
    # Missed 2, 3 of week 1 and 1 of week 2 in a row (the cancelled one neither counts nor
    # breaks the run): one interruption of 3.
    assert summary["interruptions"] == 1
    assert summary["missed_by_reason"]["illness"] == 1
    assert summary["missed_by_reason"]["unknown"] == 1
    assert summary["mean_rpe"] == pytest.approx((15 + 17) / 2)  # session RPEs only
    # Planned dose: 1680 s (the recorded session's protocol) + 2 x 960 s (week 2's offered
    # sessions); week 1's unlinked sessions have no protocol to plan from.
    assert summary["planned_dose_min"] == pytest.approx((1680 + 2 * 960) / 60)
    # The recorded session's 8 prescribed work phases, one judged achieved.
    assert (summary["work_intervals_prescribed"], summary["work_intervals_achieved"],
            summary["work_time_in_target_s"]) == (8, 1, 150.0)


def test_a_refusal_reads_in_danish(db):
    hi_aim(db, "HIAIM-001")
    i18n.set_language("da")
    try:
        with pytest.raises(RegistryError, match="fra 6 til 20; det er 30 ikke"):
            rec.record_rpe(db, "HI AIM Herlev", "HIAIM-001", 1, 1, 30)
    finally:
        i18n.set_language("en")


def test_a_programme_is_renamed_and_keeps_its_participants(db):
    hi_aim(db, "HIAIM-001")
    info = pg.edit_programme(db, "hi aim herlev", new_name="HI AIM Herlev 2026", site="Rigs",
                             protocol_by_week={6: "norwegian-4x4"})
    assert (info.name, info.site, info.protocol_by_week, info.enrolled) == (
        "HI AIM Herlev 2026", "Rigs", {6: "norwegian-4x4"}, 1)
    assert len(pg.list_planned_sessions(db, "HI AIM Herlev 2026")) == 18
    with pytest.raises(RegistryError, match="Week 7 is outside the programme's 6 weeks"):
        pg.edit_programme(db, "HI AIM Herlev 2026", protocol_by_week={7: "hi-aim"})


def test_no_sessions_are_planned_after_a_withdrawal(db):
    pg.create_programme(db, "Late", start_date=MONDAY)
    add_participant(db, "HIAIM-001", "Ann", hrmax_bpm=180)
    pg.enrol(db, "Late", "HIAIM-001", enrolled_on=MONDAY)
    pg.withdraw(db, "Late", "HIAIM-001", withdrawn_on=date(2026, 3, 8), reason="moved")
    assert pg.plan_sessions(db, "Late") == 3  # week 1 only
    for number, status in ((1, "attended"), (2, "attended"), (3, "missed")):
        pg.record_attendance(db, "Late", "HIAIM-001", 1, number, status)
    # Yet the metrics count the whole plan (intention to treat): 18 planned, 2 attended, the
    # 15 after the withdrawal missed.
    summary = metrics.participant_summary(rec.participant_programme(db, "Late", "HIAIM-001"))
    assert (summary["planned_sessions"], summary["attended_sessions"],
            summary["missed_after_withdrawal"]) == (18, 2, 15)


def test_rpe_and_grades_are_whole_numbers(db):
    name = hi_aim(db, "HIAIM-001")
    with pytest.raises(RegistryError, match=r"; 12\.5 is not"):
        rec.record_rpe(db, name, "HIAIM-001", 1, 1, 12.5)
    with pytest.raises(RegistryError, match="grade is 1 to 5; '2' is not"):
        rec.record_adverse_event(db, name, "HIAIM-001", 1, 1, "dizzy", "2", "no")


def test_a_withdrawal_entered_by_mistake_is_undone_and_the_enrolment_date_corrected(db):
    name = hi_aim(db, "HIAIM-001")
    pg.withdraw(db, name, "HIAIM-001", withdrawn_on=date(2026, 3, 10), reason="wrong person")
    with pytest.raises(RegistryError, match="withdrawal date 2026-03-10 is before"):
        pg.edit_enrolment(db, name, "HIAIM-001", enrolled_on=date(2026, 3, 11))
    info = pg.edit_enrolment(db, name, "HIAIM-001", enrolled_on=date(2026, 2, 27),
                             undo_withdrawal=True)
    assert (info.enrolled_on, info.withdrawn_on, info.withdrawal_reason) == (
        date(2026, 2, 27), None, "")
