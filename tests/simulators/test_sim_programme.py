"""``hiaim-monitor simulate-programme``: a whole simulated programme recorded through the
real path, with the attendance pattern a trial reports (missed sessions, one interruption,
one withdrawal, a dose modification, an early termination, adverse events); and its plan,
the same for the same seed."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from hiaim_monitor.cli import main
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import (
    ParticipantProgramme,
    PlannedSession,
    SessionRecord,
    Withdrawal,
)
from hiaim_monitor.storage import open_database, programme_records, programmes
from hiaim_monitor.storage.registry import list_participants
from simulators.programme_plan import plan_programme

START = "2026-03-02"  # a Monday


def _as_programme(plan, i, sessions):
    """Participant ``i`` of a plan as the metrics read a programme (dates 2 days apart)."""
    start = date(2026, 3, 2)
    records = tuple(
        SessionRecord(PlannedSession(k // 3 + 1, k + 1, start + timedelta(days=2 * k)),
                      plan.outcomes[i, k].status, plan.outcomes[i, k].reason)
        for k in range(sessions))
    withdrawal = None
    if plan.withdrawn is not None and plan.withdrawn[0] == i:
        withdrawal = Withdrawal(start + timedelta(days=2 * plan.withdrawn[1] - 1))
    return ParticipantProgramme(f"P{i}", start, records, withdrawal)


def test_a_plan_has_exactly_one_interruption_and_one_withdrawal_whatever_the_seed():
    for n, sessions in ((4, 6), (12, 18), (54, 18)):
        for seed in range(1, 16):
            plan = plan_programme(n, sessions, seed)
            people = [_as_programme(plan, i, sessions) for i in range(n)]
            interrupted = [p for p in people if metrics.interruptions(p)]
            assert [p.study_code for p in interrupted] == [f"P{plan.interrupted[0]}"]
            assert sum(1 for p in people if p.withdrawal is not None) == 1
            attended = sum(metrics.attended_sessions(p) for p in people)
            if n >= 12:  # in a small one the interruption and the withdrawal weigh more
                assert attended > 0.75 * n * sessions  # most sessions are attended


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    assert plan_programme(12, 18, 5) == plan_programme(12, 18, 5)
    assert plan_programme(12, 18, 5).outcomes != plan_programme(12, 18, 6).outcomes


def test_a_small_simulated_programme_is_recorded_with_its_trial_events(cli, tmp_path):
    code, out, err = cli("simulate-programme", "--participants", "4", "--weeks", "2",
                         "--minutes", "3", "--start", START, "--name", "Pilot")
    assert code == 0, err
    assert "Week 2 session 3 (2026-03-13)" in err  # progress, on stderr
    assert "programmes show Pilot" in out and "report programme Pilot" in out
    assert "export --programme Pilot" in out

    db = open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        (info,) = programmes.list_programmes(db)
        assert (info.name, info.simulated, info.weeks, info.start_date.isoformat()) == (
            "Pilot", True, 2, START)
        people = list_participants(db)
        assert len(people) == 4 and all(p.simulated for p in people)
        assert len({p.hrmax_bpm for p in people}) > 1  # HRmax varied
        planned = programmes.list_planned_sessions(db, "Pilot")
        assert len(planned) == 4 * 6
        assert all(p.attendance is not None for p in planned)
        codes = sorted(p.study_code for p in people)
        mine = [programme_records.participant_programme(db, "Pilot", c) for c in codes]
        assert sum(1 for p in mine if metrics.interruptions(p)) == 1
        (withdrawn,) = [p for p in mine if p.withdrawal is not None]
        assert metrics.discontinuation_week(withdrawn) in (1, 2)
        assert sum(metrics.adverse_events_by_grade(p.sessions)[g] for p in mine
                   for g in (1, 2)) == 2
        assert sum(metrics.dose_modified_sessions(p) for p in mine) == 1
        assert sum(metrics.early_terminations(p) for p in mine) == 1
        attended = [r for p in mine for r in p.sessions if r.attended]
        assert attended and all(6 <= r.rpe <= 20 for r in attended)
        linked = {r.session_id for r in attended}
        assert None not in linked
        with db.engine.connect() as conn:
            per_session = dict(conn.execute(sa.text(
                "select sp.session_id, count(*) from samples s join session_participants sp "
                "on sp.id = s.session_participant_id group by sp.session_id")).all())
            simulated = conn.execute(sa.text("select count(*) from sessions where simulated "
                                             "and status = 'finished'")).scalar_one()
        assert linked <= set(per_session) and min(per_session.values()) > 100
        assert simulated == len(linked) == 6
    finally:
        db.close()


def test_the_same_seed_records_the_same_programme(capsys, tmp_path):
    shows = []
    for name in ("A", "B"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        assert main(["simulate-programme", "--participants", "3", "--weeks", "1",
                     "--minutes", "2", "--start", START, "--seed", "9", "--db", url]) == 0
        capsys.readouterr()
        assert main(["programmes", "show", "Simulated programme", "--db", url]) == 0
        shows.append(capsys.readouterr().out)
    assert shows[0] == shows[1] and "SIMP1-003" in shows[0]


def _refused(cli, *argv):
    code, out, err = cli("simulate-programme", *argv)
    assert code == 2 and not out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hiaim-monitor: error: ")
    return lines[0]


def test_bad_sizes_are_refused_in_one_line_before_any_database_is_made(cli, tmp_path):
    assert "1–96 participants, not 0" in _refused(cli, "--participants", "0")
    assert "53 weeks is outside 1–52 weeks" in _refused(cli, "--weeks", "53")
    assert "0 weeks is outside" in _refused(cli, "--weeks", "0")
    assert "--minutes must be a number above 0" in _refused(cli, "--minutes", "0")
    assert "not a date" in _refused(cli, "--start", "March")
    assert not (tmp_path / "registry.sqlite3").exists()


def test_a_programme_name_taken_is_refused_and_nothing_more_is_written(cli, tmp_path):
    args = ("--participants", "1", "--weeks", "1", "--minutes", "1", "--name", "Twice")
    assert cli("simulate-programme", *args)[0] == 0
    line = _refused(cli, *args[:-1], "twice")
    assert "Programme twice already exists; choose another name" in line
    db = open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        assert len(list_participants(db)) == 1
        assert len(programmes.list_programmes(db)) == 1
    finally:
        db.close()


def test_a_second_programme_gets_its_own_participants(cli, tmp_path):
    for name in ("One", "Two"):
        assert cli("simulate-programme", "--participants", "2", "--weeks", "1", "--minutes",
                   "1", "--name", name)[0] == 0
    db = open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        codes = {e.study_code for e in programmes.list_enrolments(db, "Two")}
        assert codes == {"SIMP2-001", "SIMP2-002"}
    finally:
        db.close()


def test_a_database_that_cannot_be_made_is_refused_in_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["simulate-programme", "--participants", "2", "--weeks", "1",
                 "--db", f"sqlite:///{blocker}/sim.sqlite3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("hiaim-monitor: error: ")


def test_rpe_rises_with_the_effort_recorded():
    import random

    from simulators.programme import borg_rpe

    def mean(pct):
        rng = random.Random(1)
        return sum(borg_rpe(pct, rng) for _ in range(200)) / 200

    means = [mean(pct) for pct in (55, 70, 85, 97)]
    assert means == sorted(means) and means[-1] - means[0] > 6
    assert 12 <= mean(70) <= 14 and 14 <= mean(85) <= 17  # ACSM: moderate, vigorous
    assert all(6 <= borg_rpe(pct, random.Random(2)) <= 20 for pct in (0, 40, 120, None))


def test_a_cohort_larger_than_a_class_has_distinct_codes_and_varied_figures():
    from simulators.roster import make_cohort

    cohort = make_cohort(54, 1, "SIMP1")
    assert len({v.study_code for v in cohort}) == len({v.display_name for v in cohort}) == 54
    assert cohort[0].study_code == "SIMP1-001" and cohort[-1].study_code == "SIMP1-054"
    assert len({v.age_years for v in cohort}) > 10 and len({v.hrmax_bpm for v in cohort}) > 10
    assert make_cohort(54, 1, "SIMP1") == cohort
