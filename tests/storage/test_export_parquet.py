"""The Parquet export: four typed tables that pandas and DuckDB read with the same rows and
values as the CSV exports of the same session, UTC times as times, several sessions stacked
in one set, and a missing session refused with nothing written."""

from __future__ import annotations

import csv
import math
import os
import stat
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import pytest

from hiaim_monitor.admin import run_admin_command
from hiaim_monitor.exports import ExportError, columnar, export_sessions
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.storage import open_database, start_session
from hiaim_monitor.storage.schema import SampleRow
from tests.storage.helpers import BUSY_TIMEOUT_S, START_UTC, roster
from tests.storage.recorded import SHORT, Recorded, admin_parser, record_session
from tests.storage.test_export_events import store_events

TABLES = ("samples", "beats", "events", "phases")
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _export(backend, *argv: str) -> int:
    return run_admin_command(admin_parser().parse_args(["export", *argv, "--db", backend.url]))


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _csvs(folder: Path, pattern: str) -> list[dict[str, str]]:
    """The rows of every file matching ``pattern``, in study-code order."""
    return [row for path in sorted(folder.glob(pattern)) for row in _csv(path)]


def _same(parquet_value, csv_text: str, column: str) -> None:
    """A typed value and the CSV's text of it: equal to the CSV's decimals."""
    if csv_text == "":
        assert parquet_value in (None, "") or pd.isna(parquet_value), column
        return
    if isinstance(parquet_value, pd.Timestamp):
        assert parquet_value.tz is not None and parquet_value.utcoffset().total_seconds() == 0
        assert parquet_value.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z") == csv_text, column
    elif isinstance(parquet_value, bool):
        assert int(parquet_value) == int(csv_text), column
    elif isinstance(parquet_value, float):
        decimals = len(csv_text.partition(".")[2])
        assert math.isclose(round(parquet_value, decimals), float(csv_text),
                            abs_tol=10 ** -decimals), column
    else:
        assert str(parquet_value) == csv_text, column


def _compare(frame: pd.DataFrame, rows: list[dict[str, str]], columns: dict[str, str]) -> None:
    """``columns``: parquet column → CSV column."""
    assert len(frame) == len(rows) > 0
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for got, want in zip(records, rows, strict=True):
        for p_col, c_col in columns.items():
            _same(got[p_col], want[c_col], p_col)


@pytest.fixture
def exported(db, recorded: Recorded, tmp_path: Path) -> tuple[int, Path, Path]:
    """A session with every kind of event (operator actions too), exported both ways."""
    store_events(db, recorded)
    sid = recorded.stored.session_id
    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "parquet"
    for fmt in ("csv", "rr", "events", "summary"):
        export_sessions(db, [sid], fmt, csv_dir)
    export_sessions(db, [sid], "parquet", pq_dir)
    return sid, csv_dir, pq_dir


def test_pandas_reads_the_samples_with_their_types_and_the_csv_values(exported):
    sid, csv_dir, pq_dir = exported
    frame = pd.read_parquet(pq_dir / f"session-{sid}_samples.parquet")

    assert str(frame["wall_utc"].dtype) in ("datetime64[us, UTC]", "datetime64[ns, UTC]")
    assert frame["session_id"].dtype == "int64" and frame["bpm"].dtype == "int16"
    assert frame["t_s"].dtype == "float64" and frame["pct_hrmax"].dtype == "float64"
    assert frame["flag_bits"].dtype == "int32"
    assert "display_name" not in frame.columns  # pseudonymous unless asked
    rows = _csvs(csv_dir, f"session-{sid}_*_samples.csv")
    _compare(frame, rows, {c: c for c in rows[0]})
    assert frame["energy_kj"].isna().any() and frame["energy_kj"].notna().any()
    assert frame["pct_hrmax"].isna().any()  # an implausible heart rate has none
    # pandas' own ints cannot be missing; its Arrow types keep a nullable int an int.
    typed = pd.read_parquet(pq_dir / f"session-{sid}_samples.parquet", dtype_backend="pyarrow")
    assert str(typed["zone"].dtype) == "int8[pyarrow]" and typed["zone"].isna().any()
    assert str(typed["phase_index"].dtype) == "int16[pyarrow]"


def test_beats_events_and_phase_results_match_their_csv_exports(exported):
    sid, csv_dir, pq_dir = exported

    beats = pd.read_parquet(pq_dir / f"session-{sid}_beats.parquet")
    assert beats["rr_ms"].dtype == "float64" and beats["flag_bits"].dtype == "int32"
    _compare(beats, _csvs(csv_dir, f"session-{sid}_*_rr_flags.txt"),
             {"t_s": "t_s", "rr_ms": "rr_ms", "flags": "flags"})
    assert list(beats["study_code"].unique()) == ["HIAIM-001", "HIAIM-002", "HIAIM-003"]

    events = pd.read_parquet(pq_dir / f"session-{sid}_events.parquet")
    assert str(events["wall_utc"].dtype).endswith(", UTC]")
    assert events["study_code"].isna().any()  # about the whole session: null, not ""
    rows = _csv(csv_dir / f"session-{sid}_events.csv")
    _compare(events, rows, {c: c for c in rows[0]})

    phases = pd.read_parquet(pq_dir / f"session-{sid}_phases.parquet")
    assert phases["judged"].dtype == "bool" and phases["start_s"].dtype == "float64"
    rows = _csv(csv_dir / f"session-{sid}_intervals.csv")
    _compare(phases, rows, {c: c for c in rows[0]})


def test_duckdb_queries_the_files_as_they_are(exported):
    sid, csv_dir, pq_dir = exported
    samples = str(pq_dir / f"session-{sid}_samples.parquet")
    rows = _csvs(csv_dir, f"session-{sid}_*_samples.csv")

    types = {row[0]: row[1] for row in
             duckdb.sql(f"describe select * from '{samples}'").fetchall()}
    assert {c: types[c] for c in ("session_id", "study_code", "wall_utc", "bpm", "t_s")} == {
        "session_id": "BIGINT", "study_code": "VARCHAR", "wall_utc": "TIMESTAMP WITH TIME ZONE",
        "bpm": "SMALLINT", "t_s": "DOUBLE"}
    per_person = duckdb.sql(
        f"select study_code, count(*), sum(bpm), min(wall_utc) from '{samples}' "
        "group by study_code order by study_code").fetchall()
    for code, count, bpm_sum, first in per_person:
        mine = [r for r in rows if r["study_code"] == code]
        assert count == len(mine)
        assert bpm_sum == sum(int(r["bpm"]) for r in mine)
        assert first.utcoffset().total_seconds() == 0
        assert first.isoformat(timespec="milliseconds").replace("+00:00", "Z") == \
            mine[0]["wall_utc"]
    achieved = duckdb.sql(
        f"select count(*) from '{pq_dir / f'session-{sid}_phases.parquet'}' "
        "where achieved").fetchall()[0][0]
    csv_rows = _csv(csv_dir / f"session-{sid}_intervals.csv")
    assert achieved == sum(1 for r in csv_rows if r["achieved"] == "1")


def test_options_names_and_artifacts_as_in_the_other_formats(db, recorded, tmp_path):
    sid = recorded.stored.session_id
    export_sessions(db, [sid], "parquet", tmp_path / "all")
    export_sessions(db, [sid], "parquet", tmp_path / "clean", with_names=True,
                    omit_artifacts=True)

    every = pd.read_parquet(tmp_path / "all" / f"session-{sid}_samples.parquet")
    clean = pd.read_parquet(tmp_path / "clean" / f"session-{sid}_samples.parquet")
    assert set(clean["display_name"]) == {p.display_name for p in recorded.people}
    assert len(clean) < len(every)
    beats = pd.read_parquet(tmp_path / "clean" / f"session-{sid}_beats.parquet")
    assert (beats["flag_bits"] == 0).all()
    for name in TABLES:
        path = tmp_path / "clean" / f"session-{sid}_{name}.parquet"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_several_sessions_stack_in_one_set_of_files(backend, db, tmp_path, capsys):
    first, second = (record_session(db).stored.session_id for _ in range(2))
    out = tmp_path / "out"

    assert _export(backend, str(first), str(second), "--format", "parquet", "--out",
                   str(out)) == 0

    printed = capsys.readouterr().out.splitlines()
    assert sorted(Path(p).name for p in printed) == sorted(
        f"sessions-{first}-{second}_{name}.parquet" for name in TABLES)
    assert sorted(os.listdir(out)) == sorted(Path(p).name for p in printed)
    samples = pd.read_parquet(out / f"sessions-{first}-{second}_samples.parquet")
    assert samples.groupby("session_id").size().to_dict() == {first: 720, second: 720}
    phases = duckdb.sql(
        f"select session_id, count(*) from '{out / f'sessions-{first}-{second}_phases.parquet'}'"
        " group by session_id order by session_id").fetchall()
    assert phases == [(first, 6), (second, 6)]


def test_a_missing_session_is_one_line_and_nothing_is_written(backend, db, recorded,
                                                              tmp_path, capsys):
    out = tmp_path / "out"

    assert _export(backend, str(recorded.stored.session_id), "999", "--format", "parquet",
                   "--out", str(out)) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("hiaim-monitor: error: There is no session 999 in ")
    assert not out.exists()


def test_a_folder_in_the_way_of_one_table_leaves_none_of_them(db, recorded, tmp_path):
    sid = recorded.stored.session_id
    out = tmp_path / "out"
    (out / f"session-{sid}_phases.parquet").mkdir(parents=True)

    with pytest.raises(ExportError, match="there is a folder of that name"):
        export_sessions(db, [sid], "parquet", out)

    assert os.listdir(out) == [f"session-{sid}_phases.parquet"]


def _tables(folder: Path, sid: int) -> dict[str, pa.Table]:
    return {name: pq.read_table(folder / f"session-{sid}_{name}.parquet") for name in TABLES}


def test_the_export_is_the_same_when_a_connection_of_this_process_is_in_use(
        backend, db, recorded, tmp_path, monkeypatch):
    """ADBC's SQLite is a second copy of the library in the process: while one of the
    engine's connections is in use (a class recording here) the rows go through SQLAlchemy's
    driver, and the files come out the same."""
    sid = recorded.stored.session_id
    through = []
    driver_read = columnar._driver_read
    monkeypatch.setattr(columnar, "_driver_read",
                        lambda *a: through.append(a[1]) or driver_read(*a))
    export_sessions(db, [sid], "parquet", tmp_path / "adbc")
    assert through == []
    with db.engine.connect() as busy:
        busy.exec_driver_sql("SELECT 1")
        export_sessions(db, [sid], "parquet", tmp_path / "driver")

    assert through == (["samples", "beats"] if backend.name == "sqlite" else [])
    adbc, driver = _tables(tmp_path / "adbc", sid), _tables(tmp_path / "driver", sid)
    for name in TABLES:
        assert adbc[name].schema == driver[name].schema, name
        assert adbc[name].to_pylist() == driver[name].to_pylist(), name
    assert adbc["samples"].num_rows == 720 and adbc["beats"].num_rows > 0


@sqlite_only
def test_a_column_null_in_the_first_rows_read_keeps_its_type(backend, db, recorded, tmp_path,
                                                             monkeypatch):
    """ADBC SQLite types a column by the values of its first batch: one all NULL there would
    be taken for integers, and a later % HRmax refused."""
    sid = recorded.stored.session_id
    with db.engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT min(id) FROM samples").scalar()
        conn.exec_driver_sql("UPDATE samples SET pct_hrmax = NULL, energy_kj = NULL "
                             f"WHERE id < {first + 6}")
        stored = conn.exec_driver_sql(
            "SELECT count(*), count(pct_hrmax), sum(pct_hrmax) FROM samples").one()
    monkeypatch.setattr(columnar, "SQLITE_BATCH_ROWS", 2)

    export_sessions(db, [sid], "parquet", tmp_path / "out")

    samples = pq.read_table(tmp_path / "out" / f"session-{sid}_samples.parquet")
    assert samples.schema.field("pct_hrmax").type == pa.float64()
    assert samples.schema.field("energy_kj").type == pa.int32()
    pct = samples["pct_hrmax"]
    assert (len(pct), len(pct) - pct.null_count) == stored[:2]
    assert math.isclose(pa.compute.sum(pct).as_py(), stored[2])


def test_a_relative_sqlite_url_in_an_awkward_folder_is_read_through_adbc(tmp_path,
                                                                          monkeypatch):
    """sqlite:///relative is the file the app opened (from the working folder), however its
    path is spelt: the ADBC reader opens that same file, and makes no file of its own."""
    folder = tmp_path / "data #1 ?ø"
    folder.mkdir()
    monkeypatch.chdir(folder)
    through = []
    monkeypatch.setattr(columnar, "_driver_read", lambda *a: through.append(a[1]))
    with open_database("sqlite:///store.sqlite3", busy_timeout_s=BUSY_TIMEOUT_S) as db:
        sid = record_session(db).stored.session_id
        export_sessions(db, [sid], "parquet", tmp_path / "out")

    assert through == []
    samples = pq.read_table(tmp_path / "out" / f"session-{sid}_samples.parquet")
    assert samples.num_rows == 720
    for name in os.listdir(folder):
        assert name.startswith("store.sqlite3"), name
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name


@sqlite_only
def test_a_value_the_reader_cannot_type_is_one_line_and_nothing_is_written(
        backend, db, recorded, tmp_path, monkeypatch, capsys):
    """Text where a session time belongs (a damaged or hand-edited store): one sentence
    naming the database, no traceback, no files."""
    with db.engine.begin() as conn:
        last = conn.exec_driver_sql("SELECT max(id) FROM samples").scalar()
        conn.exec_driver_sql(f"UPDATE samples SET t_s = 'soon' WHERE id = {last}")
    monkeypatch.setattr(columnar, "SQLITE_BATCH_ROWS", 2)
    out = tmp_path / "out"

    assert _export(backend, str(recorded.stored.session_id), "--format", "parquet",
                   "--out", str(out)) != 0

    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Reading the database" in err and "Type mismatch" in err, err
    assert not out.exists() or os.listdir(out) == []


def test_an_in_memory_sqlite_store_is_read_through_its_own_connection(tmp_path,
                                                                       monkeypatch):
    """A second library cannot see a database that lives in one connection's memory: its
    rows go through SQLAlchemy's driver, with the same types and UTC times."""
    through = []
    driver_read = columnar._driver_read
    monkeypatch.setattr(columnar, "_driver_read",
                        lambda *a: through.append(a[1]) or driver_read(*a))
    with open_database("sqlite://") as db:
        stored = start_session(db, SHORT, roster(1), started_utc=START_UTC, host="test-host")
        sp = next(iter(stored.session_participant_ids.values()))
        with db.session() as s:
            s.add_all(SampleRow(session_participant_id=sp, t_s=float(i),
                                wall_utc=START_UTC + timedelta(seconds=i), bpm=120,
                                pct_hrmax=None if i == 0 else 66.0, level=1, flags=0,
                                contact=SensorContact.DETECTED, energy_kj=None)
                      for i in range(3))
            s.commit()
        export_sessions(db, [stored.session_id], "parquet", tmp_path)

    assert through == ["samples", "beats"]
    samples = pq.read_table(tmp_path / f"session-{stored.session_id}_samples.parquet")
    assert samples.schema.field("wall_utc").type == pa.timestamp("us", tz="UTC")
    assert samples["wall_utc"].to_pylist()[2] == START_UTC + timedelta(seconds=2)
    assert samples["pct_hrmax"].to_pylist() == [None, 66.0, 66.0]
