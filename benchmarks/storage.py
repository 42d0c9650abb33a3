"""Session writer throughput, CPU at the live load, and database size, on SQLite and
PostgreSQL.

    .venv/bin/python benchmarks/storage.py [--runs N] [--participants P] [--live-s S]

Every figure goes through the production ``SessionWriter`` (its own thread, default flush
interval and batch size) on a database opened by ``open_database`` (SQLite: a temporary file
with the app's settings, WAL and synchronous=NORMAL; PostgreSQL: a throwaway local server
started with tests/pg.py's ``PostgresServer`` but with PostgreSQL's default durability,
fsync and synchronous_commit on, as a real server runs). Rows look like a class's: 1 sample/s
and 2 beats/s (120 bpm) per participant.

Prints the machine, then per backend (median (min–max) over the runs or windows):

- throughput: one simulated hour of ``--participants`` (default 10) participants, submitted
  at once (samples and beats, 3 rows per participant-second), timed from the first submit
  until ``flush()`` returns with everything committed; rows/s. A fresh database each run;
  the writer's buffer is enlarged only if a run holds more rows than its default capacity.
- size per participant-hour, from the same runs: SQLite file + WAL after
  ``PRAGMA wal_checkpoint(TRUNCATE)``; PostgreSQL ``pg_total_relation_size`` of samples +
  rr_intervals (tables, indexes, TOAST). Both minus the empty database before the run.
- live CPU: 40 participants fed in real time (the consumer's 10 Hz tick submits what fell
  due), ``--live-s`` seconds (default 30) cut into 3 windows; the writer thread's CPU time
  (its POSIX thread CPU clock, i.e. ``time.thread_time()`` of that thread) as % of one core,
  and for PostgreSQL also the server processes' CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hiaim_monitor import config
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import (
    BeatRecord,
    Database,
    SampleRecord,
    SessionWriter,
    open_database,
    start_session,
)
from tests.pg import PostgresServer, unavailable_reason

START_UTC = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BEATS_PER_SAMPLE = 2  # 120 bpm: one sample a second carries two beats
LIVE_PARTICIPANTS = 40
TICK_S = 0.1  # the consumer's tick
FLUSH_TIMEOUT_S = 600.0
PROTOCOL = load_protocol("hi-aim")


# -- data ------------------------------------------------------------------------------------

def roster(n: int) -> list[Participant]:
    return [Participant(f"BENCH-{i:03d}", f"P{i}", f"STRAP-{i:03d}", measured_hrmax(175))
            for i in range(1, n + 1)]


def rows_for(sp_id: int, second: int) -> tuple[SampleRecord, list[BeatRecord]]:
    """Participant ``sp_id``'s sample and beats for session second ``second``."""
    bpm = 120 + (second * 7 + sp_id * 13) % 41 - 20  # 100–140 bpm, varying
    t_s = second + sp_id * 0.013
    sample = SampleRecord(sp_id, t_s, START_UTC + timedelta(seconds=t_s), bpm,
                          100.0 * bpm / 175, int(Level.INTERMEDIATE), 0,
                          SensorContact.DETECTED)
    rr_ms = 60_000.0 / bpm
    beats = [BeatRecord(sp_id, t_s - (BEATS_PER_SAMPLE - 1 - k) * rr_ms / 1000, rr_ms, 0)
             for k in range(BEATS_PER_SAMPLE)]
    return sample, beats


def hour_of(sp_ids: Sequence[int], seconds: int) -> tuple[list[SampleRecord], list[BeatRecord]]:
    samples: list[SampleRecord] = []
    beats: list[BeatRecord] = []
    for second in range(seconds):
        for sp in sp_ids:
            s, b = rows_for(sp, second)
            samples.append(s)
            beats.extend(b)
    return samples, beats


# -- backends --------------------------------------------------------------------------------

class DurablePostgres(PostgresServer):
    """tests/pg.py's throwaway server, but with PostgreSQL's default durability settings."""

    def start(self) -> None:
        options = f"-p {self.port} -h {self.host} -k {self.root} -c timezone=UTC"
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
                  "-w", "-t", "30", "start")

    def server_cpu_s(self) -> float:
        """CPU seconds used so far by the postmaster and its live children."""
        pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
            if int(entry.name) == pid or ppid == pid:
                total += (utime + stime) / tick
        return total


class Backend:
    def __init__(self, name: str, server: DurablePostgres | None = None) -> None:
        self.name = name
        self.server = server
        self._tmp = Path(tempfile.mkdtemp(prefix="hiaim-bench-"))
        self._count = 0
        self.sqlite_path: Path | None = None
        self.pg_name: str | None = None

    @contextlib.contextmanager
    def fresh(self) -> Iterator[Database]:
        """A new, migrated, empty database; removed afterwards."""
        self._count += 1
        if self.server is None:
            self.sqlite_path = self._tmp / f"bench-{self._count}.sqlite3"
            url = f"sqlite:///{self.sqlite_path}"
        else:
            self.pg_name = self.server.create_database()
            url = self.server.url(self.pg_name)
        db = open_database(url)
        try:
            yield db
        finally:
            db.close()
            if self.server is not None and self.pg_name is not None:
                self.server.drop_database(self.pg_name)
            elif self.sqlite_path is not None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)

    def data_bytes(self, db: Database) -> int:
        """What the session data takes on disk now (see the module docstring)."""
        with db.engine.begin() as conn:
            if self.server is None:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                return int(conn.execute(sa.text(
                    "SELECT pg_total_relation_size('samples') "
                    "+ pg_total_relation_size('rr_intervals')")).scalar_one())
        assert self.sqlite_path is not None
        return sum(Path(f"{self.sqlite_path}{s}").stat().st_size
                   for s in ("", "-wal") if Path(f"{self.sqlite_path}{s}").exists())

    def remove(self) -> None:
        for path in self._tmp.glob("*"):
            path.unlink(missing_ok=True)
        self._tmp.rmdir()


# -- measurements ----------------------------------------------------------------------------

def throughput_once(backend: Backend, participants: int, seconds: int) -> tuple[float, float]:
    """(rows/s, bytes per participant-hour)."""
    with backend.fresh() as db:
        stored = start_session(db, PROTOCOL, roster(participants), started_utc=START_UTC,
                               host="bench")
        sp_ids = sorted(stored.session_participant_ids.values())
        samples, beats = hour_of(sp_ids, seconds)
        rows = len(samples) + len(beats)
        empty = backend.data_bytes(db)
        writer = SessionWriter(db, stored, capacity_rows=max(config.WRITER_CAPACITY_ROWS, rows))
        try:
            t0 = time.perf_counter()
            writer.submit_samples(samples)
            writer.submit_beats(beats)
            if not writer.flush(FLUSH_TIMEOUT_S):
                raise RuntimeError(f"{backend.name}: not flushed within {FLUSH_TIMEOUT_S} s")
            elapsed = time.perf_counter() - t0
        finally:
            left = writer.close()
        if left or writer.written_rows != rows or writer.dropped_rows or writer.rejected_rows:
            raise RuntimeError(f"{backend.name}: {writer.written_rows} of {rows} rows written")
        size = backend.data_bytes(db) - empty
    return rows / elapsed, size / (participants * seconds / 3600)


def thread_cpu_s(thread: threading.Thread) -> float:
    """CPU seconds ``thread`` has used: its own POSIX CPU clock (what time.thread_time()
    returns inside it)."""
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def live_cpu(backend: Backend, live_s: float, windows: int
             ) -> tuple[list[float], list[float], int]:
    """(writer thread % of a core per window, server % per window, rows written)."""
    with backend.fresh() as db:
        stored = start_session(db, PROTOCOL, roster(LIVE_PARTICIPANTS), started_utc=START_UTC,
                               host="bench")
        sp_ids = sorted(stored.session_participant_ids.values())
        writer = SessionWriter(db, stored)
        thread = writer._thread  # the benchmark reads this thread's CPU clock
        window_s = live_s / windows
        writer_pct: list[float] = []
        server_pct: list[float] = []
        try:
            t0 = time.monotonic()
            due = 0  # next (second, participant) slot, numbered second * n + index
            n = len(sp_ids)
            marks: list[tuple[float, float, float]] = []  # (time, writer CPU, server CPU)
            # The first flushes warm caches and the pool.
            warmup_s = 2 * config.WRITER_FLUSH_INTERVAL_S
            next_mark = t0 + warmup_s
            next_tick = t0
            while True:
                now = time.monotonic()
                if now >= next_mark - 1e-9:
                    server = backend.server.server_cpu_s() if backend.server else 0.0
                    marks.append((now, thread_cpu_s(thread), server))
                    next_mark += window_s
                    if len(marks) > windows:
                        break
                # Participant i's sample for second k falls due at k + i / n.
                elapsed = now - t0
                samples, beats = [], []
                while due / n <= elapsed:
                    second, index = divmod(due, n)
                    s, b = rows_for(sp_ids[index], second)
                    samples.append(s)
                    beats.extend(b)
                    due += 1
                writer.submit_samples(samples)
                writer.submit_beats(beats)
                next_tick += TICK_S
                time.sleep(max(0.0, min(next_tick, next_mark) - time.monotonic()))
            for (t_a, cpu_a, srv_a), (t_b, cpu_b, srv_b) in itertools.pairwise(marks):
                writer_pct.append(100 * (cpu_b - cpu_a) / (t_b - t_a))
                server_pct.append(100 * (srv_b - srv_a) / (t_b - t_a))
            if not writer.flush(FLUSH_TIMEOUT_S):
                raise RuntimeError(f"{backend.name}: live rows not flushed")
        finally:
            writer.close()
        if writer.written_rows != due * (1 + BEATS_PER_SAMPLE):
            raise RuntimeError(f"{backend.name}: {writer.written_rows} rows written, "
                               f"{due * (1 + BEATS_PER_SAMPLE)} submitted")
    return writer_pct, server_pct, writer.written_rows


# -- report ----------------------------------------------------------------------------------

def fmt(values: Sequence[float], spec: str) -> str:
    return (f"{format(statistics.median(values), spec)} "
            f"({format(min(values), spec)}–{format(max(values), spec)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="throughput runs per backend (3)")
    parser.add_argument("--participants", type=int, default=10,
                        help="participants in the simulated hour of the throughput runs (10)")
    parser.add_argument("--live-s", type=float, default=30.0,
                        help="seconds of live load per backend, in 3 windows (30)")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    if args.runs < 1 or args.participants < 1 or args.live_s <= 0:
        parser.error("--runs, --participants and --live-s must be positive")
    seconds = 3600
    windows = 3

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"SQLAlchemy {sa.__version__}, SQLite {__import__('sqlite3').sqlite_version}")
    backends = [Backend("SQLite")]
    server: DurablePostgres | None = None
    reason = "--sqlite-only" if args.sqlite_only else unavailable_reason()
    if reason is None:
        server = DurablePostgres()
        server.init()
        server.start()
        version = server.bin_dir.parts[-2]
        backends.append(Backend(f"PostgreSQL {version}", server))
    else:
        print(f"PostgreSQL skipped: {reason}")
    try:
        rows_per_run = args.participants * seconds * (1 + BEATS_PER_SAMPLE)
        print(f"throughput and size: {args.participants} participants × 1 h at 1 sample/s and "
              f"{BEATS_PER_SAMPLE} beats/s = {rows_per_run:,} rows per run, submitted at once; "
              f"median (min–max) of {args.runs} runs")
        print(f"live CPU: {LIVE_PARTICIPANTS} participants in real time "
              f"({LIVE_PARTICIPANTS * (1 + BEATS_PER_SAMPLE)} rows/s, flushed every "
              f"{config.WRITER_FLUSH_INTERVAL_S:g} s), {args.live_s:g} s in {windows} windows; "
              "% of one core")
        print(f"{'backend':16} {'rows/s':>24} {'MB/participant-hour':>22} "
              f"{'writer thread CPU %':>22} {'server CPU %':>20}")
        for backend in backends:
            results = [throughput_once(backend, args.participants, seconds)
                       for _ in range(args.runs)]
            writer_pct, server_pct, _ = live_cpu(backend, args.live_s, windows)
            server_col = fmt(server_pct, ".2f") if backend.server else "-"
            print(f"{backend.name:16} {fmt([r[0] for r in results], ',.0f'):>24} "
                  f"{fmt([r[1] / 1e6 for r in results], '.3f'):>22} "
                  f"{fmt(writer_pct, '.2f'):>22} {server_col:>20}")
    finally:
        for backend in backends:
            backend.remove()
        if server is not None:
            server.remove()


if __name__ == "__main__":
    main()
