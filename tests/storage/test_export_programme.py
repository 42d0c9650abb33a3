"""Exporting a programme: the sessions linked to its planned sessions, only its own
participants' rows (a guest in the same class is left out), its attendance and records, as
typed Parquet that pandas, polars and DuckDB read alike, and as a REDCap import CSV that
matches the data dictionary written beside it; bad input is one line, exit 2, no file."""

from __future__ import annotations

import csv
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hiaim_monitor.admin import run_admin_command
from hiaim_monitor.exports import export_programme, export_sessions
from hiaim_monitor.exports.parquet import _driver_struct
from hiaim_monitor.exports.redcap import DICTIONARY_COLUMNS, SESSION_FORM, SYSTEM_COLUMNS
from hiaim_monitor.storage import programme_records as rec
from hiaim_monitor.storage import programmes as pg
from tests.storage.recorded import admin_parser, record_session
from tests.storage.test_export_events import store_events

NAME = "HI AIM Herlev"
STEM = "programme-HI-AIM-Herlev"
MONDAY = date(2026, 3, 2)
SESSION_TABLES = ("samples", "beats", "events", "phases")
PROGRAMME_TABLES = ("planned", "rpe", "dose_modifications", "early_terminations",
                    "adverse_events")
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def programme(db) -> tuple[int, int]:
    """Two recorded classes of HIAIM-001..003; 001 and 002 are enrolled in the programme,
    003 is a guest. Week 1: session 1 is the first class for both; session 2 is the second
    class for 001, missed by 002 (illness); 001's session 3 was cancelled by the site.
    001 rated RPE 14 at the end and 13, 15 after the work phases, and had a grade-2 adverse
    event; 002's dose was reduced and they stopped early."""
    first = record_session(db)
    store_events(db, first)
    second = record_session(db)
    pg.create_programme(db, NAME, start_date=MONDAY, site="Herlev")
    for code in ("HIAIM-001", "HIAIM-002"):
        pg.enrol(db, NAME, code, enrolled_on=MONDAY)
    pg.plan_sessions(db, NAME)
    one, two = first.stored.session_id, second.stored.session_id
    pg.record_attendance(db, NAME, "HIAIM-001", 1, 1, "attended", session_id=one)
    pg.record_attendance(db, NAME, "HIAIM-002", 1, 1, "attended", session_id=one)
    pg.record_attendance(db, NAME, "HIAIM-001", 1, 2, "attended", session_id=two)
    pg.record_attendance(db, NAME, "HIAIM-002", 1, 2, "missed", reason="illness",
                         note="phoned in")
    pg.record_attendance(db, NAME, "HIAIM-001", 1, 3, "cancelled", note="hall closed")
    rec.record_rpe(db, NAME, "HIAIM-001", 1, 1, 14)
    rec.record_rpe(db, NAME, "HIAIM-001", 1, 1, 13, phase_index=1)
    rec.record_rpe(db, NAME, "HIAIM-001", 1, 1, 15, phase_index=3)
    rec.record_adverse_event(db, NAME, "HIAIM-001", 1, 1, "dizzy", 2, "possible",
                             "sat down")
    rec.record_dose_modification(db, NAME, "HIAIM-002", 1, 1, "intensity_reduced_health",
                                 "knee")
    rec.record_early_termination(db, NAME, "HIAIM-002", 1, 1, "knee pain")
    return one, two


def _export(backend, *argv: str) -> int:
    return run_admin_command(admin_parser().parse_args(["export", *argv, "--db", backend.url]))


def test_a_programme_in_parquet_reads_alike_in_pandas_polars_and_duckdb(
        backend, db, programme, tmp_path, capsys):
    one, two = programme
    out = tmp_path / "out"

    assert _export(backend, "--programme", "hi aim herlev", "--format", "parquet",
                   "--out", str(out)) == 0

    names = sorted(f"{STEM}_{t}.parquet" for t in (*SESSION_TABLES, *PROGRAMME_TABLES))
    assert sorted(os.listdir(out)) == names
    assert sorted(Path(p).name for p in capsys.readouterr().out.split()) == names
    samples = out / f"{STEM}_samples.parquet"
    schema = pq.read_schema(samples)
    assert str(schema.field("wall_utc").type) == "timestamp[us, tz=UTC]"
    assert "display_name" not in schema.names  # pseudonymous unless asked
    # Only the programme's own participants, each labelled with their planned session.
    frame = pd.read_parquet(samples)
    assert frame.groupby(["session_id", "study_code", "week", "number"], observed=True
                         ).size().to_dict() == {
        (one, "HIAIM-001", 1, 1): 240, (one, "HIAIM-002", 1, 1): 240,
        (two, "HIAIM-001", 1, 2): 240}
    assert str(frame["wall_utc"].dtype) == "datetime64[us, UTC]"
    assert set(frame["programme"]) == {NAME}
    polars = pl.read_parquet(samples)
    assert polars.schema["wall_utc"] == pl.Datetime("us", "UTC")
    assert polars.schema["bpm"] == pl.Int16 and polars.schema["study_code"] == pl.Categorical
    assert polars.height == len(frame)
    assert polars["bpm"].sum() == frame["bpm"].sum()
    events = duckdb.sql(f"select distinct study_code from '{out / f'{STEM}_events.parquet'}'"
                        " order by all").fetchall()
    assert events == [("HIAIM-001",), ("HIAIM-002",), (None,)]  # the guest's left out
    beats = duckdb.sql(f"select study_code, count(*) from '{out / f'{STEM}_beats.parquet'}'"
                       " group by all order by all").fetchall()
    assert [code for code, _ in beats] == ["HIAIM-001", "HIAIM-002"]

    planned = pd.read_parquet(out / f"{STEM}_planned.parquet", dtype_backend="pyarrow")
    assert len(planned) == 36  # 18 each
    week1 = planned[planned["week"] == 1].astype(object).where(planned.notna(), None)
    assert [tuple(r) for r in week1[["study_code", "number", "attendance", "missed_reason",
                                     "session_id"]].itertuples(index=False)] == [
        ("HIAIM-001", 1, "attended", None, one), ("HIAIM-001", 2, "attended", None, two),
        ("HIAIM-001", 3, "cancelled", None, None), ("HIAIM-002", 1, "attended", None, one),
        ("HIAIM-002", 2, "missed", "illness", None), ("HIAIM-002", 3, None, None, None)]
    types = {r[0]: r[1] for r in duckdb.sql(
        f"describe select * from '{out / f'{STEM}_planned.parquet'}'").fetchall()}
    assert (types["planned_on"], types["attendance_utc"], types["session_id"]) == (
        "DATE", "TIMESTAMP WITH TIME ZONE", "BIGINT")
    rpe = pl.read_parquet(out / f"{STEM}_rpe.parquet")
    assert rpe.schema["borg"] == pl.Int8
    assert rpe.select("phase_index", "borg").rows() == [(None, 14), (1, 13), (3, 15)]
    adverse = duckdb.sql(f"select study_code, grade, related, programme_session from "
                         f"'{out / f'{STEM}_adverse_events.parquet'}'").fetchall()
    assert adverse == [("HIAIM-001", 2, "possible", 1)]
    ends = pd.read_parquet(out / f"{STEM}_early_terminations.parquet")
    assert list(ends["reason"]) == ["knee pain"]
    doses = pd.read_parquet(out / f"{STEM}_dose_modifications.parquet")
    assert list(doses["modification"]) == ["intensity_reduced_health"]


@sqlite_only
def test_one_participant_gets_only_their_own_rows(backend, db, programme, tmp_path):
    one, _ = programme
    paths = export_programme(db, NAME, "parquet", tmp_path, participant="hiaim-002",
                             with_names=True)

    stem = f"{STEM}_HIAIM-002_Zoë-Ærø-2"  # as the other exports name a file
    assert sorted(p.name for p in paths) == sorted(
        f"{stem}_{t}.parquet" for t in (*SESSION_TABLES, *PROGRAMME_TABLES))
    for table in ("samples", "beats", "phases", "planned", "dose_modifications"):
        frame = pd.read_parquet(tmp_path / f"{stem}_{table}.parquet")
        assert set(frame["study_code"]) == {"HIAIM-002"}, table
        assert set(frame["display_name"]) == {"Zoë Ærø 2"}, table
    assert set(pd.read_parquet(tmp_path / f"{stem}_samples.parquet")["session_id"]) == {one}
    assert len(pd.read_parquet(tmp_path / f"{stem}_rpe.parquet")) == 0
    events = pd.read_parquet(tmp_path / f"{stem}_events.parquet")
    assert set(events["study_code"].dropna()) == {"HIAIM-002"}


@sqlite_only
def test_a_session_export_says_which_planned_session_each_participant_was(
        backend, db, programme, tmp_path):
    one, _ = programme
    export_sessions(db, [one], "parquet", tmp_path)

    frame = pd.read_parquet(tmp_path / f"session-{one}_phases.parquet",
                            dtype_backend="pyarrow")
    labels = frame.groupby("study_code", observed=True)[["week", "programme_session"]].first()
    assert labels.loc["HIAIM-001"].tolist() == [1, 1]
    assert labels.loc["HIAIM-003"].isna().all()  # a guest: no programme


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _check_against_dictionary(data: list[dict[str, str]],
                              dictionary: list[dict[str, str]]) -> None:
    """What REDCap's import checks: every column a field (or a system column), every coded
    value one of its field's choices, dates YYYY-MM-DD, numbers valid and within range."""
    fields = {f["Variable / Field Name"]: f for f in dictionary}
    for column in data[0]:
        assert column in fields or column in SYSTEM_COLUMNS, column
    for row in data:
        for name, value in row.items():
            if value == "" or name not in fields:
                continue
            f = fields[name]
            kind, check = f["Field Type"], f["Text Validation Type OR Show Slider Number"]
            if kind in ("radio", "dropdown"):
                codes = {c.split(",")[0].strip() for c in
                         f["Choices, Calculations, OR Slider Labels"].split("|")}
                assert value in codes, (name, value)
            elif kind == "yesno":
                assert value in ("0", "1"), (name, value)
            elif check == "date_ymd":
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), (name, value)
                date.fromisoformat(value)
            elif check in ("integer", "number"):
                number = int(value) if check == "integer" else float(value)
                if f["Text Validation Min"]:
                    assert number >= float(f["Text Validation Min"]), (name, value)
                if f["Text Validation Max"]:
                    assert number <= float(f["Text Validation Max"]), (name, value)


def test_the_redcap_csv_matches_its_data_dictionary(backend, db, programme, tmp_path):
    one, _ = programme
    out = tmp_path / "redcap"
    assert _export(backend, "--programme", NAME, "--format", "redcap", "--out",
                   str(out)) == 0

    with (out / f"{STEM}_redcap_dictionary.csv").open(newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == list(DICTIONARY_COLUMNS)
    dictionary = _read_csv(out / f"{STEM}_redcap_dictionary.csv")
    data = _read_csv(out / f"{STEM}_redcap.csv")
    assert dictionary[0]["Variable / Field Name"] == "record_id"
    assert list(data[0])[:3] == ["record_id", "redcap_repeat_instrument",
                                 "redcap_repeat_instance"]
    forms = [f["Form Name"] for f in dictionary]
    assert forms == sorted(forms, key=forms.index)  # each form's fields together
    _check_against_dictionary(data, dictionary)

    # One enrolment row and 18 instances per participant; the guest is not a record.
    assert [(r["record_id"], r["redcap_repeat_instrument"]) for r in data].count(
        ("HIAIM-001", SESSION_FORM)) == 18
    assert {r["record_id"] for r in data} == {"HIAIM-001", "HIAIM-002"}
    by = {(r["record_id"], r["redcap_repeat_instance"]): r for r in data}
    enrolment = by[("HIAIM-001", "")]
    assert (enrolment["enr_enrolled_on"], enrolment["enr_withdrawn"]) == ("2026-03-02", "0")
    first = by[("HIAIM-001", "1")]
    assert (first["ses_date"], first["ses_attendance"], first["ses_recorded_id"]) == (
        "2026-03-02", "1", str(one))
    assert (first["ses_rpe"], first["ses_rpe_phase_mean"], first["ses_rpe_phase_n"]) == (
        "14", "14.0", "2")
    assert (first["ses_ae_n"], first["ses_ae_max_grade"], first["ses_dose_mod"]) == (
        "1", "2", "0")
    assert (first["ses_int_planned"], first["ses_int_achieved"]) == ("2", "2")
    assert float(first["ses_peak_pct"]) > float(first["ses_mean_pct"]) > 70
    assert 0 < float(first["ses_dose_min"]) <= float(first["ses_dose_planned_min"]) == 2.0
    hurt = by[("HIAIM-002", "1")]
    assert (hurt["ses_dose_mod"], hurt["ses_dose_mod_type"], hurt["ses_early_term"],
            hurt["ses_early_term_reason"]) == ("1", "1", "1", "knee pain")
    missed = by[("HIAIM-002", "2")]
    assert (missed["ses_attendance"], missed["ses_missed_reason"], missed["ses_note"],
            missed["ses_rpe"]) == ("2", "1", "phoned in", "")
    assert by[("HIAIM-001", "3")]["ses_attendance"] == "3"
    later = by[("HIAIM-001", "18")]
    assert (later["ses_week"], later["ses_number"], later["ses_attendance"],
            later[f"{SESSION_FORM}_complete"]) == ("6", "3", "", "0")
    assert later["ses_dose_planned_min"] == ""  # no protocol planned for week 6, none ran


@sqlite_only
def test_redcap_with_names_marks_the_name_an_identifier_and_shows_a_withdrawal(
        backend, db, programme, tmp_path):
    pg.withdraw(db, NAME, "HIAIM-002", withdrawn_on=date(2026, 3, 20), reason="moved away")

    paths = export_programme(db, NAME, "redcap", tmp_path, participant="HIAIM-002",
                             with_names=True)

    assert sorted(p.name for p in paths) == [
        f"{STEM}_HIAIM-002_Zoë-Ærø-2_redcap.csv",
        f"{STEM}_HIAIM-002_Zoë-Ærø-2_redcap_dictionary.csv"]
    data_path, dictionary_path = sorted(paths)
    dictionary = _read_csv(dictionary_path)
    (name,) = [f for f in dictionary if f["Variable / Field Name"] == "enr_name"]
    assert name["Identifier?"] == "y" and name["Form Name"] == "enrolment"
    data = _read_csv(data_path)
    _check_against_dictionary(data, dictionary)
    assert {r["record_id"] for r in data} == {"HIAIM-002"}
    enrolment = data[0]
    assert (enrolment["enr_name"], enrolment["enr_withdrawn"], enrolment["enr_withdrawn_on"],
            enrolment["enr_withdrawal_reason"]) == ("Zoë Ærø 2", "1", "2026-03-20",
                                                    "moved away")
    # The planned sessions stay instances, their attendance as stored (none after it).
    assert [r["ses_attendance"] for r in data[1:4]] == ["1", "2", ""]


@sqlite_only
@pytest.mark.parametrize(("argv", "says"), [
    (["--programme", "No Such", "--format", "parquet"], "There is no programme 'No Such'"),
    (["--programme", NAME, "--participant", "HIAIM-999", "--format", "redcap"],
     "no participant with study code"),
    (["--programme", NAME, "--participant", "HIAIM-003", "--format", "parquet"],
     "HIAIM-003 is not enrolled in programme HI AIM Herlev"),
    (["1", "--programme", NAME, "--format", "parquet"], "not both"),
    (["1", "--format", "redcap"], "give --programme NAME instead of session ids"),
    (["--programme", NAME, "--format", "csv"], "exported as parquet or redcap, not 'csv'"),
    (["--participant", "HIAIM-001", "--format", "parquet"], "goes with --programme"),
    (["--format", "parquet"], "Give the session ids to export, or --programme NAME"),
    (["--programme", NAME, "--format", "parquet", "--with-hrmax"], "not for a programme"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(backend, db, programme, tmp_path,
                                                          capsys, argv, says):
    out = tmp_path / "out"

    assert _export(backend, *argv, "--out", str(out)) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert not out.exists()


@sqlite_only
def test_an_out_path_that_is_a_file_is_refused(backend, db, programme, tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("mine")

    assert _export(backend, "--programme", NAME, "--format", "redcap", "--out",
                   str(out)) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file; give a folder with --out" in err
    assert out.read_text() == "mine"
    assert not [n for n in os.listdir(tmp_path) if n.endswith((".csv", ".part"))]


def test_wall_times_arrow_cannot_parse_are_read_as_the_store_reads_them():
    """A SQLite time as SQLAlchemy writes it, one with an offset (Arrow's cast refuses it:
    the whole column is then read as UTCDateTime reads it), and a missing one."""
    rows = [(0.5, "2026-03-02 09:30:00.500000"), (1.5, "2026-03-02T10:30:01+01:00"),
            (2.5, None)]
    columns = _driver_struct(rows, (("t_s", pa.float64()),
                                    ("wall_utc", pa.timestamp("us", tz="UTC"))), "wall_utc")
    assert columns["wall_utc"].to_pylist() == [
        datetime(2026, 3, 2, 9, 30, 0, 500000, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC), None]
