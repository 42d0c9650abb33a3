"""The simulated class of ``make demo`` lives in a programme marked simulated: today's
planned session is attended and linked to the session recorded, and no real participant
can join it."""

from __future__ import annotations

import pytest

from hiaim_monitor.programme.model import Attendance
from hiaim_monitor.storage import open_database, programmes
from hiaim_monitor.storage.programmes import ProgrammeError
from hiaim_monitor.storage.registry import add_participant
from simulators.class_programme import SIMULATED_CLASS


def _demo(cli):
    code, _, err = cli("--simulate", "3", "--headless", "--speed", "200", "--duration", "15",
                       "--faults", "none")
    assert code == 0, err
    assert "attendance was not recorded" not in err


def test_each_simulated_session_is_todays_attended_session_of_the_simulated_class(
        cli, tmp_path):
    _demo(cli)
    db = open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        (programme,) = programmes.list_programmes(db)
        assert programme.name == SIMULATED_CLASS and programme.simulated
        planned = programmes.list_planned_sessions(db, SIMULATED_CLASS)
        assert [(p.study_code, p.attendance, p.session_id) for p in planned] == [
            (f"SIM-00{i}", Attendance.ATTENDED, 1) for i in (1, 2, 3)]
    finally:
        db.close()

    _demo(cli)  # later the same day: the same planned session, now the newer recording
    db = open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        planned = programmes.list_planned_sessions(db, SIMULATED_CLASS)
        assert {(p.attendance, p.session_id) for p in planned} == {(Attendance.ATTENDED, 2)}
        assert len(planned) == 3
        day = planned[0].planned_on
        assert programmes.planned_session_of(db, 2, "SIM-002") == (
            SIMULATED_CLASS, planned[0].week, planned[0].number)
        assert day.weekday() == planned[0].number - 1  # a session every day of the week
    finally:
        db.close()


def test_a_real_participant_cannot_join_the_simulated_class(cli, tmp_path):
    _demo(cli)
    db = open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    try:
        add_participant(db, "HIAIM-001", "Ida", hrmax_bpm=170)
        with pytest.raises(ProgrammeError, match="never mixed"):
            programmes.enrol(db, SIMULATED_CLASS, "HIAIM-001")
    finally:
        db.close()


def test_the_setup_page_finds_todays_session_due_before_the_class_starts(tmp_path):
    from datetime import date

    from hiaim_monitor.class_setup import load_programme_day
    from simulators.class_programme import join_simulated_class

    db = open_database(f"sqlite:///{tmp_path / 'sim.sqlite3'}")
    try:
        for code in ("SIM-001", "SIM-002"):
            add_participant(db, code, code, hrmax_bpm=160, simulated=True)
        today = date(2026, 12, 3)  # a Thursday
        name = join_simulated_class(db, ["SIM-001", "SIM-002"], today)
        day = load_programme_day(db, name, today)
        assert {code: (p.planned_on, p.attendance) for code, p in day.due.items()} == {
            "SIM-001": (today, None), "SIM-002": (today, None)}
        assert len(programmes.list_planned_sessions(db, name)) == 2  # planned up to today
    finally:
        db.close()
