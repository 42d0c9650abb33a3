"""A block of short bouts judged as a whole is stored as one interval, on SQLite and
PostgreSQL alike: its row keeps the block, its target, its rule and every bout's peak; the
exports, `sessions show` and a copy to another database carry them; rows stored before the
migration stay valid."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from hiaim_monitor.admin import run_admin_command
from hiaim_monitor.exports import data, export_session
from hiaim_monitor.storage import open_database, upgrade
from hiaim_monitor.storage.copy import copy_session
from hiaim_monitor.storage.migrate import current_revision
from hiaim_monitor.storage.schema import PhaseAdherenceRow
from tests.storage.block_session import record_block_session
from tests.storage.helpers import Backend, read_csv
from tests.storage.recorded import admin_parser


@pytest.fixture
def block_session(db):
    return record_block_session(db)


def stored_results(db, stored):
    return {code: data.adherence(db, sp) for code, sp in stored.session_participant_ids.items()}


def test_a_block_is_stored_as_one_interval_with_its_bout_peaks(db, block_session):
    results = stored_results(db, block_session.stored)
    assert {code: len(rows) for code, rows in results.items()} == {
        "HIAIM-001": 1, "HIAIM-002": 1, "HIAIM-003": 1}
    (a,) = results["HIAIM-001"]
    assert (a.phase_index, a.phase_name, a.block_index) == (1, "Sprints 4 × 20/20 s", 0)
    assert (a.start_s, a.end_s, a.planned_s, a.ran_s) == (60, 220, 160, 160)
    assert (a.peak_pct, a.seconds_in_target, a.time_to_target_s) == (92, 15, 65)
    assert (a.target_pct, a.achieved_by, a.judged, a.achieved) == (85, "peak", True, True)
    assert a.bout_peaks_pct == [82, 88, 84, 92]
    (under,) = results["HIAIM-002"]
    assert under.peak_pct == pytest.approx(84.9) and not under.achieved
    (lost,) = results["HIAIM-003"]
    assert lost.peak_pct is None and lost.bout_peaks_pct == [None] * 4
    assert lost.seconds_no_data == 160 and not lost.achieved


def test_a_long_phase_keeps_its_block_columns_empty(db, recorded):
    with db.session() as s:
        rows = s.execute(sa.select(PhaseAdherenceRow.block_index, PhaseAdherenceRow.target_pct,
                                   PhaseAdherenceRow.achieved_by)).all()
        # SQL NULL, not a JSON null: `is null` finds them on both databases.
        nulls = s.scalar(sa.select(sa.func.count()).select_from(PhaseAdherenceRow)
                         .where(PhaseAdherenceRow.bout_peaks_pct.is_(None)))
    assert rows and set(rows) == {(None, None, None)}
    assert nulls == len(rows)


def test_the_summary_export_has_one_row_per_block_with_every_bout_peak(db, block_session,
                                                                       tmp_path):
    sid = block_session.stored.session_id
    export_session(db, sid, "summary", tmp_path)
    intervals = read_csv(tmp_path / f"session-{sid}_intervals.csv")
    assert [r["study_code"] for r in intervals] == ["HIAIM-001", "HIAIM-002", "HIAIM-003"]
    first = intervals[0]
    assert (first["phase_name"], first["block_index"], first["target_pct"],
            first["achieved_by"]) == ("Sprints 4 × 20/20 s", "0", "85.00", "peak")
    assert (first["seconds_in_target"], first["time_to_target_s"], first["peak_pct_hrmax"],
            first["achieved"]) == ("15.00", "65.00", "92.00", "1")
    assert (first["bouts"], first["bouts_reached"]) == ("4", "2")
    assert json.loads(first["bout_peaks_pct"]) == [82, 88, 84, 92]
    assert json.loads(intervals[2]["bout_peaks_pct"]) == [None] * 4
    people = {r["study_code"]: r for r in read_csv(tmp_path / f"session-{sid}_participants.csv")}
    assert [(p["intervals_achieved"], p["intervals_judged"], p["intervals_prescribed"])
            for p in people.values()] == [("1", "1", "1"), ("0", "1", "1"), ("0", "1", "1")]


def test_the_parquet_phases_table_holds_the_bout_peaks_as_a_list(db, block_session, tmp_path):
    sid = block_session.stored.session_id
    export_session(db, sid, "parquet", tmp_path)
    phases = pq.read_table(tmp_path / f"session-{sid}_phases.parquet").to_pylist()
    assert len(phases) == 3
    assert phases[0]["bout_peaks_pct"] == [82, 88, 84, 92]
    assert (phases[0]["bouts"], phases[0]["bouts_reached"], phases[0]["achieved"]) == (4, 2, True)
    assert phases[2]["bout_peaks_pct"] == [None] * 4


def test_sessions_show_gives_each_block_one_line_with_its_repeats(backend, block_session,
                                                                  capsys):
    sid = str(block_session.stored.session_id)
    assert run_admin_command(admin_parser().parse_args(
        ["sessions", "show", sid, "--db", backend.url])) == 0
    out = capsys.readouterr().out
    assert ("HIAIM-001: Sprints 4 × 20/20 s: peak 92 %, 0:15 at or above 85 %, achieved; "
            "bout peaks: 82, 88, 84, 92 %") in out
    # 84.9 % is read as 84: a peak shown at the target has reached it.
    assert "HIAIM-002: Sprints 4 × 20/20 s: peak 84 %, 0:00 at or above 85 %, not achieved" in out
    assert "HIAIM-003: Sprints 4 × 20/20 s: peak — %" not in out
    assert "HIAIM-003: Sprints 4 × 20/20 s: peak —, 0:00 at or above 85 %, not achieved" in out


def test_a_copied_session_keeps_its_block_results(db, block_session, tmp_path):
    with open_database(f"sqlite:///{tmp_path / 'copy.sqlite3'}") as target:
        copied = copy_session(db, target, block_session.stored.session_id)
        with target.session() as s:
            rows = s.scalars(sa.select(PhaseAdherenceRow).order_by(PhaseAdherenceRow.id)).all()
            assert [(r.block_index, r.achieved_by, r.bout_peaks_pct) for r in rows] == [
                (0, "peak", [82, 88, 84, 92]), (0, "peak", [82, 84.9, 84, 84.9]),
                (0, "peak", [None] * 4)]
    assert copied.source_id == block_session.stored.session_id


def test_rows_stored_before_0010_stay_valid_and_downgrading_drops_only_the_block_columns(
        backend: Backend):
    from alembic import command

    from hiaim_monitor.storage.migrate import alembic_config

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0009")
            conn.execute(sa.text(
                "insert into participants (id, study_code, display_name, beta_blocker, notes, "
                "created_utc, simulated, archived) values (1, 'OLD-001', 'Ann', false, '', "
                "'2026-03-02 09:00:00', false, false)"))
            conn.execute(sa.text(
                "insert into sessions (id, protocol_key, protocol, operator, site, host, "
                "started_utc, status, notes, simulated) values (1, 'x', '{}', '', '', '', "
                "'2026-03-02 09:00:00', 'finished', '', false)"))
            conn.execute(sa.text(
                "insert into session_participants (id, session_id, participant_id, hrmax_bpm, "
                "hrmax_method, notes) values (1, 1, 1, 170, 'measured', '')"))
            conn.execute(sa.text(
                "insert into phase_adherence (session_participant_id, phase_index, phase_name, "
                "kind, start_s, end_s, target_level, seconds_in_target, seconds_above_target, "
                "seconds_below_target, seconds_no_data, fraction_in_target_after_ramp, "
                "achieved, judged) values (1, 1, 'High 1/4', 'high', 60, 240, 2, 150, 0, 30, "
                "0, 0.9, true, true)"))
        upgrade(backend.url)
        with open_database(backend.url) as db:
            (row,) = data.adherence(db, 1)
            assert (row.phase_name, row.achieved, row.block_index, row.bout_peaks_pct,
                    row.achieved_by, row.target_pct) == ("High 1/4", True, None, None, None,
                                                         None)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0009")
        with engine.connect() as conn:
            assert current_revision(conn) == "0009"
            columns = {c["name"] for c in sa.inspect(conn).get_columns("phase_adherence")}
            kept = conn.execute(sa.text("select phase_name from phase_adherence")).all()
    finally:
        engine.dispose()
    assert not columns & {"block_index", "target_pct", "achieved_by", "bout_peaks_pct"}
    assert {"judged", "planned_s", "ran_s"} <= columns
    assert kept == [("High 1/4",)]
