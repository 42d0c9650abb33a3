"""A simulated trial of full size, on SQLite and PostgreSQL: how long it takes to generate,
how big the database gets, and (the hooks below) how fast the programme's reports and
Parquet export are over it.

    .venv/bin/python benchmarks/programme.py [--participants 54] [--weeks 6] [--minutes 60]
        [--backends sqlite,pg] [--keep PATH] [--reuse PATH] [--seed K]

Generation is ``simulators.programme.simulate_programme``, the same as ``hiaim-monitor
simulate-programme``: every class session (54 participants → 5 classes of 10–11 a day,
3 days a week) goes through the full engine path (stepped simulated straps → notification
decode → ``RecordedSession`` over the engine → the production ``SessionWriter``), with only
the scripted trial events (one interruption, one withdrawal, a dose modification, an early
termination, two adverse events; no random misses, no site cancellation), so the trial has
its full size: 54 × 18 × 60 min ≈ 3.4 M samples at 1 Hz and ≈ 7 M beats.

Backends: SQLite, a file opened by ``open_database`` (the app's settings); PostgreSQL,
``HIAIM_BENCH_PG_URL`` when set (a database of your own; it must be empty), else a
throwaway local server with PostgreSQL's default durability (``benchmarks/storage.py``'s
``DurablePostgres``, started like tests/pg.py's).

Printed per backend: generation wall time, class sessions, samples, beats, events, phase
results, and the database size: SQLite, the file after ``PRAGMA wal_checkpoint(TRUNCATE)``;
PostgreSQL, the sum of ``pg_total_relation_size`` (table, indexes, TOAST) of every table in
the schema. Then the timings over the store (``time_store``): the programme's Parquet
export (``export_programme``, as ``export --programme NAME --format parquet``; rows/s over
every file), and one participant's and the whole programme's PDF report
(``write_programme_report``, as ``report programme NAME [--participant CODE]``).

``--keep PATH`` keeps the SQLite database at PATH; ``--reuse PATH`` skips generation and
times the store of a database kept so.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa

from hiaim_monitor.exports import export_programme
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.reports import write_programme_report
from hiaim_monitor.storage import Database, open_database
from hiaim_monitor.storage import programmes as progs
from simulators.programme import ProgrammeSpec, simulate_programme

NAME = "Benchmark trial"
START = date(2026, 1, 5)  # a Monday
PG_URL_ENV = "HIAIM_BENCH_PG_URL"
TABLES = ("samples", "rr_intervals", "events", "phase_adherence")


# -- the database ----------------------------------------------------------------------------

@contextlib.contextmanager
def sqlite_db(keep: Path | None) -> Iterator[tuple[Database, Path]]:
    folder = Path(tempfile.mkdtemp(prefix="hiaim-bench-prog-"))
    path = keep or folder / "trial.sqlite3"
    if path.exists():
        sys.exit(f"{path} exists already; give --keep a new file")
    db = open_database(f"sqlite:///{path}")
    try:
        yield db, path
    finally:
        db.close()
        if keep is None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            folder.rmdir()


@contextlib.contextmanager
def pg_db() -> Iterator[Database]:
    url = os.environ.get(PG_URL_ENV)
    server = None
    if not url:
        from benchmarks.storage import DurablePostgres

        server = DurablePostgres()
        server.init()
        server.start()
        url = server.url(server.create_database())
    db = open_database(url)
    try:
        yield db
    finally:
        db.close()
        if server is not None:
            server.remove()


def database_bytes(db: Database, sqlite_path: Path | None) -> int:
    """The database's size on disk (see the module docstring)."""
    with db.engine.begin() as conn:
        if sqlite_path is not None:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            return int(conn.execute(sa.text(
                "SELECT coalesce(sum(pg_total_relation_size(quote_ident(tablename))), 0) "
                "FROM pg_tables WHERE schemaname = current_schema()")).scalar_one())
    assert sqlite_path is not None
    return sum(Path(f"{sqlite_path}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{sqlite_path}{s}").exists())


def row_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in TABLES}


# -- generation ------------------------------------------------------------------------------

def generate(db: Database, participants: int, weeks: int, minutes: float | None,
             seed: int) -> float:
    """Build the trial in ``db``; returns the wall seconds it took."""
    spec = ProgrammeSpec(NAME, participants, weeks, load_protocol("hi-aim"), START, seed=seed,
                         minutes=minutes, scripted_only=True)
    t0 = time.perf_counter()
    done = simulate_programme(db, spec, progress=lambda line: print(
        f"  {line}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - t0
    print(f"  generated: {done.sessions_recorded} class sessions, {done.attended} of "
          f"{done.planned} planned sessions attended, in {seconds:.0f} s")
    return seconds


# -- timings over the store (the hooks) ------------------------------------------------------

def session_ids(db: Database, programme: str = NAME) -> list[int]:
    """The recorded sessions the programme's attended planned sessions are linked to."""
    return sorted({p.session_id for p in progs.list_planned_sessions(db, programme)
                   if p.session_id is not None})


def time_parquet_export(db: Database, folder: Path, programme: str = NAME) -> tuple[float, int]:
    """Seconds to export ``programme`` as Parquet into ``folder`` (``export --programme
    NAME --format parquet``: its linked sessions' four tables plus the planned sessions and
    records), and the rows written over every file."""
    t0 = time.perf_counter()
    export_programme(db, programme, "parquet", folder)
    seconds = time.perf_counter() - t0
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in folder.glob("*.parquet"))
    return seconds, rows


def time_programme_report(db: Database, out: Path, programme: str = NAME,
                          participant: str | None = None) -> float:
    """Seconds to write the programme's PDF report (one participant's when given) with
    ``hiaim_monitor.reports.write_programme_report``."""
    t0 = time.perf_counter()
    write_programme_report(db, programme, out, participant=participant)
    return time.perf_counter() - t0


def time_store(db: Database) -> None:
    """Every timing over the store, printed; each figure one line."""
    with tempfile.TemporaryDirectory(prefix="hiaim-bench-out-") as folder:
        out = Path(folder)
        seconds, rows = time_parquet_export(db, out / "parquet")
        size = sum(f.stat().st_size for f in (out / "parquet").glob("*.parquet"))
        print(f"  Parquet export of the programme ({len(session_ids(db))} sessions): {rows:,} "
              f"rows in "
              f"{seconds:.1f} s = {rows / seconds / 1e6:.2f} M rows/s; {size / 1e6:.0f} MB")
        code = progs.list_enrolments(db, NAME)[0].study_code
        one = time_programme_report(db, out / "one.pdf", participant=code)
        whole = time_programme_report(db, out / "all.pdf")
        print(f"  programme report, participant {code}: {one:.2f} s; whole programme: "
              f"{whole:.1f} s")


def report(name: str, db: Database, sqlite_path: Path | None, seconds: float | None) -> None:
    counts = row_counts(db)
    size = database_bytes(db, sqlite_path)
    took = f"generated in {seconds:.0f} s; " if seconds is not None else ""
    print(f"{name}: {took}{counts['samples']:,} samples, {counts['rr_intervals']:,} beats, "
          f"{counts['events']:,} events, {counts['phase_adherence']:,} phase results; "
          f"database {size / 1e6:.0f} MB ({size / max(1, counts['samples']):.0f} bytes per "
          "sample)", flush=True)
    time_store(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=54)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=None,
                        help="cap each session (default: the whole 60-min protocol)")
    parser.add_argument("--backends", default="sqlite,pg")
    parser.add_argument("--keep", type=Path, help="keep the SQLite database here")
    parser.add_argument("--reuse", type=Path, help="time the store of a kept SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLAlchemy {sa.__version__}")
    if args.reuse is not None:
        db = open_database(f"sqlite:///{args.reuse}")
        try:
            report(f"SQLite {args.reuse}", db, args.reuse, None)
        finally:
            db.close()
        return
    size = (args.participants, args.weeks, args.minutes, args.seed)
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with sqlite_db(args.keep) as (db, path):
                report("SQLite", db, path, generate(db, *size))
        elif backend == "pg":
            with pg_db() as db:
                report("PostgreSQL", db, None, generate(db, *size))
        else:
            sys.exit(f"unknown backend {backend!r}: sqlite or pg")


if __name__ == "__main__":
    main()
