"""The files an export leaves: a set per session for several sessions at once, nothing at all
when one is missing or a write fails, private to the user whatever the umask, and CSVs with
LF line ends that csv readers take as they are."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiaim_monitor.admin import run_admin_command
from hiaim_monitor.exports import ExportError, export_sessions
from tests.storage.recorded import Recorded, admin_parser, record_session


@pytest.fixture
def two(db) -> tuple[Recorded, Recorded]:
    return record_session(db), record_session(db)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common default umask, under which open() and mkdir() make 0644 and 0755."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _export(backend, *argv: str) -> int:
    return run_admin_command(admin_parser().parse_args(["export", *argv, "--db", backend.url]))


def test_export_command_writes_a_set_of_files_per_session(backend, db, two, tmp_path, capsys):
    first, second = (r.stored.session_id for r in two)
    out = tmp_path / "out"

    assert _export(backend, str(first), str(second), "--format", "csv", "--out", str(out)) == 0

    printed = capsys.readouterr().out.splitlines()
    assert sorted(Path(p).name for p in printed) == sorted(
        f"session-{sid}_HIAIM-00{i}_samples.csv" for sid in (first, second) for i in (1, 2, 3))
    assert sorted(printed) == sorted(str(p) for p in out.iterdir())
    for sid in (first, second):
        with (out / f"session-{sid}_HIAIM-002_samples.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert {r["session_id"] for r in rows} == {str(sid)} and len(rows) == 240

    assert _export(backend, str(first), str(second), "--format", "summary", "--out",
                   str(out / "summary")) == 0
    assert sorted(p.name for p in (out / "summary").iterdir()) == sorted(
        f"session-{sid}_{table}.csv" for sid in (first, second)
        for table in ("intervals", "participants"))


def test_a_missing_session_is_one_line_and_nothing_is_written(backend, db, two, tmp_path,
                                                              capsys):
    first, second = (r.stored.session_id for r in two)
    out = tmp_path / "out"

    assert _export(backend, str(first), "999", str(second), "--format", "csv", "--out",
                   str(out)) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("hiaim-monitor: error: There is no session 999 in ")
    assert "nothing was exported" in err
    assert not out.exists()

    assert _export(backend, "998", str(first), "999", "--format", "rr", "--out",
                   str(out)) == 2
    assert "There are no sessions 998, 999 in " in capsys.readouterr().err
    assert not out.exists()


def test_a_write_that_fails_half_way_leaves_no_file_of_the_set(db, two, tmp_path):
    first, second = (r.stored.session_id for r in two)
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / f"session-{first}_HIAIM-001_samples.csv"
    earlier.write_text("an earlier export\n", encoding="utf-8")
    # The second session's second file cannot be written: its name is taken by a folder.
    blocker = out / f"session-{second}_HIAIM-002_samples.csv.part"
    blocker.mkdir()

    with pytest.raises(ExportError, match=r"^Cannot write .*session-\d+_HIAIM-002_samples\.csv"
                                          r" \(is a directory\)\.$"):
        export_sessions(db, [first, second], "csv", out)

    assert sorted(p.name for p in out.iterdir()) == sorted([earlier.name, blocker.name])
    assert earlier.read_text(encoding="utf-8") == "an earlier export\n"  # not replaced


def test_a_folder_in_the_way_of_a_file_is_refused_before_any_file_is_put_in_place(
        db, two, tmp_path):
    first, second = (r.stored.session_id for r in two)
    out = tmp_path / "out"
    in_the_way = out / f"session-{second}_HIAIM-003_samples.csv"
    in_the_way.mkdir(parents=True)

    with pytest.raises(ExportError, match=r"there is a folder of that name"):
        export_sessions(db, [first, second], "csv", out)

    assert [p.name for p in out.iterdir()] == [in_the_way.name]


def test_export_files_and_the_folders_made_for_them_are_private(db, two, tmp_path,
                                                                loose_umask):
    sid = two[0].stored.session_id
    out = tmp_path / "made" / "here"
    replaced = out / f"session-{sid}_HIAIM-001.tcx"
    for fmt in ("csv", "rr", "tcx", "summary", "events"):
        paths = export_sessions(db, [sid], fmt, out)
        assert paths and all(_mode(p) == 0o600 for p in paths), fmt
    assert _mode(tmp_path / "made") == _mode(out) == 0o700
    assert not list(out.glob("*.part"))

    # A file left readable by others (an older version, a cp) is replaced by a private one.
    replaced.chmod(0o644)
    export_sessions(db, [sid], "tcx", out)
    assert _mode(replaced) == 0o600
    # A folder that was already there is the user's choice: left as it is.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    export_sessions(db, [sid], "events", shared)
    assert _mode(shared) == 0o755
    assert _mode(shared / f"session-{sid}_events.csv") == 0o600


def test_csv_files_end_lines_with_lf_only(db, two, tmp_path):
    sid = two[0].stored.session_id
    files = [p for fmt in ("csv", "rr", "summary", "events")
             for p in export_sessions(db, [sid], fmt, tmp_path / fmt)]
    assert len(files) == 3 + 6 + 2 + 1
    for path in files:
        raw = path.read_bytes()
        assert b"\r" not in raw, path
        assert raw.endswith(b"\n") and raw.count(b"\n") >= 1
    samples = tmp_path / "csv" / f"session-{sid}_HIAIM-001_samples.csv"
    lines = samples.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == 241  # the header and 240 samples
