"""The session and programme reports, read back as a reader would: the PDF's pages and the
words and numbers on them (pypdf), the CSV tables by value, and the command's refusals."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from hiaim_monitor import i18n
from hiaim_monitor.reports import (
    ReportError,
    write_programme_csv,
    write_programme_report,
    write_session_csv,
    write_session_report,
)
from hiaim_monitor.reports.common import decimate
from hiaim_monitor.storage import Database, open_database
from hiaim_monitor.storage.registry import add_participant
from tests.reports.programme import NAME, NAMES, Built, build


@pytest.fixture(scope="module")
def built_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Built]:
    """The programme of tests/reports/programme.py in an SQLite file, built once; each test
    works on its own copy."""
    path = tmp_path_factory.mktemp("built") / "store.sqlite3"
    database = open_database(f"sqlite:///{path}")
    try:
        built = build(database)
    finally:
        database.close()
    return path, built


@pytest.fixture
def store(built_file: tuple[Path, Built], tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "registry.sqlite3"  # where the cli fixture looks
    shutil.copy(built_file[0], path)
    database = open_database(f"sqlite:///{path}")
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def built(built_file: tuple[Path, Built]) -> Built:
    return built_file[1]


def pages(path: Path) -> list[str]:
    """The text of each page, whitespace made single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def by_code(path: Path) -> dict[str, dict[str, str]]:
    return {r["study_code"]: r for r in rows(path)}


def no_names(texts: list[str]) -> None:
    for text in texts:
        for name in NAMES.values():
            assert name not in text


# --- the session report ---------------------------------------------------------------


def test_session_report_has_a_group_page_then_one_page_per_participant(store, built,
                                                                       tmp_path):
    out = write_session_report(store, built.first, tmp_path / "s.pdf")
    text = pages(out)
    assert len(text) == 1 + 3
    group, p1, p2, p3 = text
    assert all(code in group for code in ("HIAIM-001", "HIAIM-002", "HIAIM-003"))
    assert "HIAIM-001" in p1 and "HIAIM-002" in p2 and "HIAIM-003" in p3
    # 001 reached both work targets, 002 only the intermediate one; 003 recorded nothing.
    assert "Intervals achieved: 2 of 2" in p1
    assert "Intervals achieved: 1 of 2" in p2
    assert "No heart rate was recorded for this participant." in p3
    # What the programme recorded for the session: RPE, the adverse event.
    assert "RPE (Borg 6–20) at the end: 13" in p1
    assert "phase 3: 14" in p1
    assert "Grade 2, possibly related: dizziness (action: rested 5 min)" in p1
    assert "programme Herlev, week 1 session 1" in p1
    assert "HRmax 180 bpm (measured)" in p1
    no_names(text)


def test_session_csv_holds_the_same_figures(store, built, tmp_path):
    paths = write_session_csv(store, built.first, tmp_path / "s")
    assert sorted(p.name for p in paths) == sorted(
        f"s_{t}.csv" for t in ("participants", "intervals", "phases", "trace", "events",
                               "adverse_events"))
    people = by_code(tmp_path / "s_participants.csv")
    assert (people["HIAIM-001"]["intervals_achieved"],
            people["HIAIM-001"]["intervals_prescribed"]) == ("2", "2")
    assert people["HIAIM-002"]["intervals_achieved"] == "1"
    assert people["HIAIM-001"]["rpe_session"] == "13"
    assert people["HIAIM-001"]["rpe_after_phases"] == "3:14"
    assert people["HIAIM-001"]["adverse_events"] == "1"
    assert people["HIAIM-003"]["samples"] == "0"
    assert (people["HIAIM-001"]["programme"], people["HIAIM-001"]["week"],
            people["HIAIM-001"]["number"]) == ("Herlev", "1", "1")
    # Work phases of 60 s, both 60 s long in the four-minute protocol: 120 s prescribed.
    assert float(people["HIAIM-001"]["work_seconds_planned"]) == 120.0
    # Recovery: one 30 s phase at 60 % HRmax, inside its 40 %–ceiling band throughout.
    assert float(people["HIAIM-001"]["recovery_seconds"]) == pytest.approx(30.0)
    assert float(people["HIAIM-001"]["recovery_seconds_in_band"]) == pytest.approx(30.0)
    intervals = rows(tmp_path / "s_intervals.csv")
    assert len(intervals) == 3 * 2
    assert [r["achieved"] for r in intervals if r["study_code"] == "HIAIM-003"] == ["", ""]
    [event] = rows(tmp_path / "s_adverse_events.csv")
    assert (event["study_code"], event["grade"], event["related"], event["description"]) == (
        "HIAIM-001", "2", "possible", "dizziness")
    trace = [r for r in rows(tmp_path / "s_trace.csv") if r["study_code"] == "HIAIM-001"]
    assert 0 < len(trace) <= 2000
    assert max(float(r["pct_hrmax"]) for r in trace) == pytest.approx(100 * 162 / 180)
    for path in paths:
        no_names([path.read_text(encoding="utf-8")])


def test_a_long_trace_is_decimated_and_keeps_its_peaks():
    t = np.arange(3600.0)
    y = 60 + 10 * np.sin(t / 100)
    y[1234] = 99.0  # one spike
    y[2000:2100] = np.nan  # lost signal
    dt, dy = decimate(t, y)
    assert len(dt) <= 2000
    assert np.nanmax(dy) == 99.0 and np.nanmin(dy) == pytest.approx(np.nanmin(y))
    assert np.all(np.diff(dt) > 0)
    assert np.isnan(dy[(dt > 2010) & (dt < 2090)]).all()


# --- the programme report -------------------------------------------------------------


def test_programme_report_has_the_group_pages_then_each_participant(store, tmp_path):
    warnings: list[str] = []
    out = write_programme_report(store, "herlev", tmp_path / "p.pdf", warn=warnings.append)
    text = pages(out)
    # The numbers, the weeks, the calendar, the table; then HIAIM-001, -002, -003.
    assert len(text) == 4 + 3
    numbers, weeks, calendar, table, p1, p2, p3 = text
    assert "Enrolled: 3" in numbers
    assert "Withdrawn (permanent discontinuation): 1 — in week 3" in numbers
    # 16 of 18 + 4 of 18 + 2 of 2 (003's other sessions are not recorded yet).
    assert "Sessions attended: 22 of 38" in numbers
    assert "Attendance per participant: median 89 % (range 22 %–100 %)" in numbers
    assert "With an interruption (≥ 3 consecutive sessions missed): 1" in numbers
    assert "Missed: illness 5, transport 1; after a withdrawal 10" in numbers
    assert "By grade: G1 0, G2 1, G3 0, G4 0, G5 0" in numbers
    assert "Sessions with a dose modification: 1 (1 participants)" in numbers
    assert "HIAIM-003 session 2 (week 1 #2): attended, but no recorded session is linked" \
        in numbers
    assert "compliance and RPE over the weeks" in weeks
    assert all(code in calendar for code in ("HIAIM-001", "HIAIM-002", "HIAIM-003"))
    assert "16 of 18" in table and "4 of 18" in table
    assert "HIAIM-001" in p1 and "Attended 16 of 18 planned sessions (89 %)" in p1
    assert "Missed: 2 (illness 1, transport 1)" in p1
    assert "Session 2: intensity reduced (health)" in p1
    assert "Session 1: grade 2, possibly related: dizziness" in p1
    assert "Interruptions: sessions 5–8" in p2
    assert "withdrawn 2026-03-18 (week 3): disease progression" in p2
    assert "recorded session" in p3 and "holds no heart rate for them" in p3
    assert "16 planned sessions have no attendance recorded yet" in p3
    no_names(text)
    # The missing sessions in one line for stderr, too.
    [line] = warnings
    assert line.startswith("2 sessions of programme Herlev have no data to report: ")
    assert "\n" not in line


def test_one_participants_programme_report_is_their_page_only(store, tmp_path):
    out = write_programme_report(store, NAME, tmp_path / "p1.pdf", participant="hiaim-001")
    [text] = pages(out)
    assert "HIAIM-001: programme report" in text
    assert "Attended 16 of 18 planned sessions (89 %)" in text
    assert "HIAIM-002" not in text


def test_programme_csv_holds_the_same_figures(store, tmp_path):
    paths = write_programme_csv(store, NAME, tmp_path / "herlev.csv")
    assert sorted(p.name for p in paths) == sorted(
        f"herlev_{t}.csv" for t in ("group", "participants", "calendar", "weekly",
                                    "adverse_events", "missing"))
    group = {r["measure"]: r["value"] for r in rows(tmp_path / "herlev_group.csv")}
    assert (group["enrolled"], group["withdrawn"], group["sessions_attended"],
            group["sessions_planned"], group["adverse_events_grade_2"],
            group["sessions_missing_data"]) == ("3", "1", "22", "38", "1", "2")
    people = by_code(tmp_path / "herlev_participants.csv")
    one, two = people["HIAIM-001"], people["HIAIM-002"]
    assert (one["attended_sessions"], one["planned_sessions"], one["attendance"]) == (
        "16", "18", "0.8889")
    assert (one["missed_illness"], one["missed_transport"], one["mean_rpe"]) == (
        "1", "1", "14.0000")
    assert (two["interruptions"], two["withdrawn"], two["discontinuation_week"],
            two["missed_after_withdrawal"]) == ("1", "1", "3", "10")
    calendar = rows(tmp_path / "herlev_calendar.csv")
    assert len(calendar) == 3 * 18
    cells = [r["cell"] for r in calendar if r["study_code"] == "HIAIM-002"]
    assert cells == ["attended"] * 4 + ["missed"] * 4 + ["after_withdrawal"] * 10
    missing = rows(tmp_path / "herlev_missing.csv")
    assert [(m["study_code"], m["session"], m["problem"]) for m in missing] == [
        ("HIAIM-003", "1", "no_heart_rate"), ("HIAIM-003", "2", "no_session_linked")]
    weekly = [r for r in rows(tmp_path / "herlev_weekly.csv") if r["study_code"] == ""]
    assert [(w["week"], w["attended_sessions"], w["planned_sessions"]) for w in weekly][:2] \
        == [("1", "8", "8"), ("2", "3", "6")]


def test_the_programme_report_reads_in_danish(store, tmp_path):
    i18n.set_language("da")
    try:
        out = write_programme_report(store, NAME, tmp_path / "da.pdf")
    finally:
        i18n.set_language("en")
    numbers = pages(out)[0]
    assert "Indskrevet: 3" in numbers
    assert "22 af 38" in numbers


def test_the_programme_report_is_the_same_on_postgresql(db, tmp_path):
    """Built and read through the storage layer on both backends."""
    build(db)
    out = write_programme_report(db, NAME, tmp_path / "p.pdf")
    text = pages(out)
    assert len(text) == 4 + 3
    assert "Sessions attended: 22 of 38" in text[0]
    assert "Attended 16 of 18 planned sessions (89 %)" in text[4]


def test_a_report_never_loads_pyplot_or_qt(store, built, tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    code = (
        "import sys; from pathlib import Path\n"
        "from hiaim_monitor.storage import open_database\n"
        "from hiaim_monitor.reports import write_session_report, write_programme_report\n"
        f"db = open_database({url!r})\n"
        f"write_session_report(db, {built.first}, Path({str(tmp_path / 'a.pdf')!r}))\n"
        f"write_programme_report(db, {NAME!r}, Path({str(tmp_path / 'b.pdf')!r}))\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'matplotlib.pyplot'))]\n"
        "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "a.pdf").exists() and (tmp_path / "b.pdf").exists()


# --- refusals -----------------------------------------------------------------------


def _files(folder: Path) -> set[Path]:
    """What is in ``folder`` besides the database (and SQLite's -wal and -shm files)."""
    return {p for p in folder.rglob("*") if not p.name.startswith("registry.sqlite3")}


def _refused(cli, tmp_path: Path, *argv: str, says: str) -> None:
    before = _files(tmp_path)
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hiaim-monitor: error: ")
    assert says in err
    assert _files(tmp_path) == before  # nothing written, no .part left behind


@pytest.mark.parametrize(("argv", "says"), [
    (("report", "session", "999", "--out", "{tmp}/s.pdf"), "There is no session 999"),
    (("report", "programme", "Nowhere", "--out", "{tmp}/p.pdf"),
     "There is no programme 'Nowhere'"),
    (("report", "programme", NAME, "--participant", "HIAIM-404", "--out", "{tmp}/p.pdf"),
     "There is no participant with study code 'HIAIM-404'"),
    (("report", "programme", NAME, "--participant", "HIAIM-009", "--out", "{tmp}/p.pdf"),
     "HIAIM-009 is not enrolled in programme Herlev"),
    (("report", "programme", NAME, "--out", "{tmp}/no/such/p.pdf"),
     "The folder {tmp}/no/such does not exist"),
    (("report", "session", "1", "--out", "{tmp}/s.png"), "does not end in .pdf"),
    (("report", "session", "1", "--format", "csv", "--out", "{tmp}/s.pdf"),
     "has the suffix .pdf"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(store, cli, tmp_path, argv, says):
    add_participant(store, "HIAIM-009", "Not Enrolled")
    _refused(cli, tmp_path, *(a.format(tmp=tmp_path) for a in argv),
             says=says.format(tmp=tmp_path))


def test_the_command_writes_the_reports_and_warns_of_missing_data_in_one_line(store, built,
                                                                             cli, tmp_path):
    code, out, err = cli("report", "session", str(built.first), "--out",
                         str(tmp_path / "s.pdf"))
    assert (code, err) == (0, "")
    assert out == f"Wrote {tmp_path / 's.pdf'}.\n"
    assert len(pages(tmp_path / "s.pdf")) == 4
    code, _out, err = cli("report", "programme", NAME, "--format", "csv", "--out",
                         str(tmp_path / "p"))
    assert code == 0
    assert err.count("\n") == 1
    assert err.startswith("hiaim-monitor: warning: 2 sessions of programme Herlev have no "
                          "data to report: HIAIM-003 session 1")
    assert (tmp_path / "p_calendar.csv").exists()


def test_a_report_error_is_one_sentence(store, tmp_path):
    with pytest.raises(ReportError, match=r"^There is no session 42 in .*; `sessions list`"):
        write_session_report(store, 42, tmp_path / "x.pdf")


def test_a_programme_with_nobody_enrolled_still_gets_its_group_pages(store, tmp_path):
    from datetime import date

    from hiaim_monitor.storage import programmes as pg

    pg.create_programme(store, "Next spring", start_date=date(2027, 3, 1))
    text = pages(write_programme_report(store, "Next spring", tmp_path / "empty.pdf"))
    assert len(text) == 4
    assert "Enrolled: 0" in text[0]
    assert "No participants are enrolled yet." in text[2]
