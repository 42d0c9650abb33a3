"""The session report shows a block of short bouts as one interval and one line with its
repeats; its pauses are not counted as recovery; the programme's compliance and dose count
the block once."""

from __future__ import annotations

import json
from datetime import date

import pytest

from hiaim_monitor.exports import export_programme
from hiaim_monitor.programme import metrics
from hiaim_monitor.reports import write_session_csv, write_session_report
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage import programme_records as rec
from hiaim_monitor.storage import programmes as pg
from tests.reports.test_reports import pages, rows
from tests.storage.block_session import record_block_session


@pytest.fixture
def store(tmp_path):
    with open_database(f"sqlite:///{tmp_path / 'store.sqlite3'}") as db:
        yield db


def test_the_session_report_gives_the_block_one_line_with_its_repeats(store, tmp_path):
    session = record_block_session(store)
    text = pages(write_session_report(store, session.stored.session_id, tmp_path / "s.pdf"))
    group, first, under, lost = text
    assert "1 / 1" in group.split("HIAIM-001")[1]  # intervals achieved: the block, once
    assert "Intervals achieved: 1 of 1" in first
    assert "Sprints 4 × 20/20 s: peak 92 %, 0:15 at or above 85 %, achieved" in first
    assert "bout peaks: 82, 88, 84, 92 %" in first
    assert "Sprints 4 × 20/20 s: peak 84 %, 0:00 at or above 85 %, not achieved" in under
    assert "Intervals achieved: 0 of 1" in lost
    assert "judged as a whole" in group  # how to read it


def test_the_session_csv_has_one_interval_row_per_block_and_no_recovery_in_its_pauses(
        store, tmp_path):
    session = record_block_session(store)
    write_session_csv(store, session.stored.session_id, tmp_path / "s")
    intervals = rows(tmp_path / "s_intervals.csv")
    assert [(r["study_code"], r["phase_name"], r["block_index"]) for r in intervals] == [
        (code, "Sprints 4 × 20/20 s", "0") for code in ("HIAIM-001", "HIAIM-002", "HIAIM-003")]
    assert json.loads(intervals[0]["bout_peaks_pct"]) == [82, 88, 84, 92]
    people = {r["study_code"]: r for r in rows(tmp_path / "s_participants.csv")}
    first = people["HIAIM-001"]
    assert (first["intervals_achieved"], first["intervals_prescribed"]) == ("1", "1")
    assert float(first["work_seconds_planned"]) == 160  # the block, pauses included
    assert float(first["recovery_seconds"]) == 0  # its pauses belong to the block


def test_programme_compliance_and_the_redcap_export_count_a_block_once(store, tmp_path):
    session = record_block_session(store)
    pg.create_programme(store, "Blocks", start_date=date(2026, 3, 2), weeks=1,
                        sessions_per_week=1)
    pg.enrol(store, "Blocks", "HIAIM-001", enrolled_on=date(2026, 3, 2))
    pg.plan_sessions(store, "Blocks")
    pg.record_attendance(store, "Blocks", "HIAIM-001", 1, 1, "attended",
                         session_id=session.stored.session_id)
    p = rec.participant_programme(store, "Blocks", "HIAIM-001")
    c = metrics.compliance(p.sessions)
    assert (c.work_prescribed, c.work_achieved) == (1, 1)
    assert c.work_planned_s == 160 and c.work_time_in_target_s == 15
    assert metrics.planned_dose_min(p) == pytest.approx(160 / 60)
    assert metrics.relative_dose_intensity(p) == pytest.approx(15 / 160)
    export_programme(store, "Blocks", "redcap", tmp_path)
    (redcap,) = [path for path in tmp_path.glob("*_redcap.csv")]
    (first,) = [r for r in rows(redcap) if r["redcap_repeat_instance"] == "1"]
    assert (first["ses_int_planned"], first["ses_int_achieved"]) == ("1", "1")
    assert (first["ses_work_tit_s"], first["ses_peak_pct"]) == ("15.0", "92.0")
    assert (first["ses_dose_min"], first["ses_dose_planned_min"]) == ("0.25", "2.67")
