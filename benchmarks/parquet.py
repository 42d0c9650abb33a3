"""Parquet export throughput and file sizes for one session of N participants × M minutes.

    .venv/bin/python benchmarks/parquet.py [--participants N] [--minutes M] [--runs R]
                                           [--programme-sessions K]

The session is written into a temporary SQLite file (opened by ``open_database``, the app's
settings) through the production ``SessionWriter``, as a class's rows: 1 sample/s and
2 beats/s (120 bpm) per participant, then finished. Each run times
``export_sessions(db, [id], "parquet", folder)`` into a fresh folder: reading the store,
building the four tables and writing them (zstd), until every file is in place. rows/s
counts every row of the four tables (samples, beats, events, phase results). The CSV
export (``csv``: samples only, one file per participant) of the same session is timed the
same way for comparison. ``--programme-sessions K`` also records K more such sessions, each
linked to everyone's planned session in a programme, and times ``export --programme``.
Prints the machine, median (min–max) over the runs, and the size of each file.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hiaim_monitor import config
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.exports import export_programme, export_sessions
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import (
    BeatRecord,
    SampleRecord,
    SessionWriter,
    finish_session,
    open_database,
    start_session,
)
from hiaim_monitor.storage import programmes as pg

START_UTC = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BEATS_PER_SAMPLE = 2  # 120 bpm
PROTOCOL = load_protocol("hi-aim")
FLUSH_TIMEOUT_S = 600.0


def roster(n: int) -> list[Participant]:
    return [Participant(f"BENCH-{i:03d}", f"P{i}", f"STRAP-{i:03d}", measured_hrmax(175))
            for i in range(1, n + 1)]


def rows(sp_ids: list[int], seconds: int, start_utc: datetime = START_UTC
         ) -> tuple[list[SampleRecord], list[BeatRecord]]:
    samples, beats = [], []
    for second in range(seconds):
        for sp in sp_ids:
            bpm = 120 + (second * 7 + sp * 13) % 41 - 20  # 100–140 bpm, varying
            t_s = second + sp * 0.013
            samples.append(SampleRecord(sp, t_s, start_utc + timedelta(seconds=t_s), bpm,
                                        100.0 * bpm / 175, int(Level.INTERMEDIATE), 0,
                                        SensorContact.DETECTED))
            rr_ms = 60_000.0 / bpm
            beats += [BeatRecord(sp, t_s - (BEATS_PER_SAMPLE - 1 - k) * rr_ms / 1000, rr_ms, 0)
                      for k in range(BEATS_PER_SAMPLE)]
    return samples, beats


def record(db, people: list[Participant], minutes: int, started_utc: datetime) -> int:
    """One finished session of ``people``, its rows written by the production writer."""
    stored = start_session(db, PROTOCOL, people, started_utc=started_utc, host="bench")
    samples, beats = rows(sorted(stored.session_participant_ids.values()), minutes * 60,
                          started_utc)
    writer = SessionWriter(db, stored, capacity_rows=max(
        config.WRITER_CAPACITY_ROWS, len(samples) + len(beats)))
    try:
        writer.submit_samples(samples)
        writer.submit_beats(beats)
        if not writer.flush(FLUSH_TIMEOUT_S):
            raise RuntimeError("the rows were not written in time")
    finally:
        writer.close()
    finish_session(db, stored.session_id, ended_utc=started_utc + timedelta(minutes=minutes))
    return stored.session_id


def programme_export(db, people: list[Participant], args: argparse.Namespace,
                     tmp: Path) -> None:
    """``--programme-sessions K``: K more sessions of the class, each the planned session
    of everyone in programme "Bench" (3 a week), timed as ``export --programme Bench``
    (the four session tables and the five programme tables)."""
    k = args.programme_sessions
    pg.create_programme(db, "Bench", start_date=START_UTC.date(), weeks=-(-k // 3))
    for p in people:
        pg.enrol(db, "Bench", p.study_code, enrolled_on=START_UTC.date())
    pg.plan_sessions(db, "Bench")
    for n, (week, number, day) in enumerate(pg.calendar(START_UTC.date(), -(-k // 3),
                                                        (0, 2, 4))[:k]):
        started = datetime.combine(day, START_UTC.timetz())
        sid = record(db, people, args.minutes, started)
        for p in people:
            pg.record_attendance(db, "Bench", p.study_code, week, number, "attended",
                                 session_id=sid)
        print(f"  programme session {n + 1}/{k} recorded", file=sys.stderr)
    times, paths = [], []
    for run in range(args.runs):
        t0 = time.perf_counter()
        paths = export_programme(db, "Bench", "parquet", tmp / f"programme-{run}")
        times.append(time.perf_counter() - t0)
    n = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    med = statistics.median(times)
    print(f"programme parquet ({k} sessions): {n} rows in {med:.2f} s "
          f"({min(times):.2f}–{max(times):.2f}): {n / med:,.0f} rows/s "
          f"({n / max(times):,.0f}–{n / min(times):,.0f}); "
          f"{sum(p.stat().st_size for p in paths) / 1e6:.2f} MB in {len(paths)} files")


def timed(db, session_id: int, fmt: str, folder: Path) -> tuple[float, list[Path]]:
    t0 = time.perf_counter()
    paths = export_sessions(db, [session_id], fmt, folder)
    return time.perf_counter() - t0, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--programme-sessions", type=int, default=0, metavar="K",
                        help="also time the export of a programme of K such sessions")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, pyarrow {pa.__version__}, {sys.platform}, load "
          f"{load:.1f}; {args.participants} participants × {args.minutes} min, "
          f"{args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            people = roster(args.participants)
            sid = record(db, people, args.minutes, START_UTC)
            samples = args.participants * args.minutes * 60
            for fmt in ("parquet", "csv"):
                times, paths = [], []
                for run in range(args.runs):
                    elapsed, paths = timed(db, sid, fmt, Path(tmp) / f"{fmt}-{run}")
                    times.append(elapsed)
                n = (sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
                     if fmt == "parquet" else samples)
                med = statistics.median(times)
                print(f"{fmt}: {n} rows in {med:.2f} s ({min(times):.2f}–{max(times):.2f}): "
                      f"{n / med:,.0f} rows/s ({n / max(times):,.0f}–{n / min(times):,.0f})")
                total = sum(p.stat().st_size for p in paths)
                print(f"  {len(paths)} files, {total / 1e6:.2f} MB in all")
                if fmt == "parquet":
                    for p in paths:
                        print(f"  {p.name}: {pq.ParquetFile(p).metadata.num_rows} rows, "
                              f"{p.stat().st_size / 1e6:.2f} MB")
            if args.programme_sessions:
                programme_export(db, people, args, Path(tmp))
        finally:
            db.close()


if __name__ == "__main__":
    main()
