"""Parquet export throughput and file sizes for one session of N participants × M minutes.

    .venv/bin/python benchmarks/parquet.py [--participants N] [--minutes M] [--runs R]

The session is written into a temporary SQLite file (opened by ``open_database``, the app's
settings) through the production ``SessionWriter``, as a class's rows: 1 sample/s and
2 beats/s (120 bpm) per participant, then finished. Each run times
``export_sessions(db, [id], "parquet", folder)`` into a fresh folder: reading the store,
building the four tables and writing them (zstd), until every file is in place. rows/s
counts every row of the four tables (samples, beats, events, phase results). The CSV
export (``csv``: samples only, one file per participant) of the same session is timed the
same way for comparison. Prints the machine, median (min–max) over the runs, and the size of
each file.
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
from hiaim_monitor.exports import export_sessions
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

START_UTC = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BEATS_PER_SAMPLE = 2  # 120 bpm
PROTOCOL = load_protocol("hi-aim")
FLUSH_TIMEOUT_S = 600.0


def roster(n: int) -> list[Participant]:
    return [Participant(f"BENCH-{i:03d}", f"P{i}", f"STRAP-{i:03d}", measured_hrmax(175))
            for i in range(1, n + 1)]


def rows(sp_ids: list[int], seconds: int) -> tuple[list[SampleRecord], list[BeatRecord]]:
    samples, beats = [], []
    for second in range(seconds):
        for sp in sp_ids:
            bpm = 120 + (second * 7 + sp * 13) % 41 - 20  # 100–140 bpm, varying
            t_s = second + sp * 0.013
            samples.append(SampleRecord(sp, t_s, START_UTC + timedelta(seconds=t_s), bpm,
                                        100.0 * bpm / 175, int(Level.INTERMEDIATE), 0,
                                        SensorContact.DETECTED))
            rr_ms = 60_000.0 / bpm
            beats += [BeatRecord(sp, t_s - (BEATS_PER_SAMPLE - 1 - k) * rr_ms / 1000, rr_ms, 0)
                      for k in range(BEATS_PER_SAMPLE)]
    return samples, beats


def timed(db, session_id: int, fmt: str, folder: Path) -> tuple[float, list[Path]]:
    t0 = time.perf_counter()
    paths = export_sessions(db, [session_id], fmt, folder)
    return time.perf_counter() - t0, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, pyarrow {pa.__version__}, {sys.platform}, load "
          f"{load:.1f}; {args.participants} participants × {args.minutes} min, "
          f"{args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        try:
            stored = start_session(db, PROTOCOL, roster(args.participants),
                                   started_utc=START_UTC, host="bench")
            samples, beats = rows(sorted(stored.session_participant_ids.values()),
                                  args.minutes * 60)
            writer = SessionWriter(db, stored, capacity_rows=max(
                config.WRITER_CAPACITY_ROWS, len(samples) + len(beats)))
            try:
                writer.submit_samples(samples)
                writer.submit_beats(beats)
                if not writer.flush(FLUSH_TIMEOUT_S):
                    raise RuntimeError("the rows were not written in time")
            finally:
                writer.close()
            sid = stored.session_id
            finish_session(db, sid, ended_utc=START_UTC + timedelta(minutes=args.minutes))
            for fmt in ("parquet", "csv"):
                times, paths = [], []
                for run in range(args.runs):
                    elapsed, paths = timed(db, sid, fmt, Path(tmp) / f"{fmt}-{run}")
                    times.append(elapsed)
                n = (sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
                     if fmt == "parquet" else len(samples))
                med = statistics.median(times)
                print(f"{fmt}: {n} rows in {med:.2f} s ({min(times):.2f}–{max(times):.2f}): "
                      f"{n / med:,.0f} rows/s ({n / max(times):,.0f}–{n / min(times):,.0f})")
                total = sum(p.stat().st_size for p in paths)
                print(f"  {len(paths)} files, {total / 1e6:.2f} MB in all")
                if fmt == "parquet":
                    for p in paths:
                        print(f"  {p.name}: {pq.ParquetFile(p).metadata.num_rows} rows, "
                              f"{p.stat().st_size / 1e6:.2f} MB")
        finally:
            db.close()


if __name__ == "__main__":
    main()
