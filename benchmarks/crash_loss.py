"""How much a SIGKILL loses: the span of heart-rate samples that had reached the app but not
the database when it was killed.

A child process records a class through the real composition (``RecordedSession``: live
session, engine, recorder, session writer, SQLite) and ticks it like the terminal does;
a feeder thread plays two straps at 1 Hz, stamping each notification on arrival as a driver
does and printing that arrival time. The parent kills the child with SIGKILL at a random
moment, opens the database and compares what arrived with what was stored.

State ``hold``: strap B jumps by 55 bpm and then sends only 0 bpm (implausible), the state in
which the engine used to hold samples back while the jump awaited confirmation.

    .venv/bin/python benchmarks/crash_loss.py --runs 5 --state normal
    .venv/bin/python benchmarks/crash_loss.py --runs 5 --state hold
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from hiaim_monitor import config
from hiaim_monitor.clock import RealClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import SourceEvent, sample_from_notification
from hiaim_monitor.storage import open_database

STRAPS = ("A", "B")
JUMP_AT_S = 5.0  # strap B, state hold: 120 bpm until here, then 175, then 0 bpm
WARMUP_S = 8.0  # the kill comes after this much session time (and after the jump)


def child(db_url: str, state: str) -> None:
    """Record until killed; print "t_mono strap" for every sample as it arrives."""
    clock = RealClock()
    db = open_database(db_url)
    people = [Participant(f"P-{s}", s, s, measured_hrmax(185)) for s in STRAPS]
    events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
    recorded = RecordedSession.start(db, load_protocol("hi-aim"), people, clock, events)
    start_s = recorded.session.engine.start_mono_s
    print(f"start {start_s!r}", flush=True)

    def bpm_of(strap: str, t_s: float) -> int:
        if strap == "B" and state == "hold" and t_s >= JUMP_AT_S:
            return 175 if t_s < JUMP_AT_S + 1.0 else 0
        return 120 + int(t_s) % 3

    def feed() -> None:
        next_s = start_s + 0.5
        while True:
            time.sleep(max(0.0, next_s - time.monotonic()))
            for strap in STRAPS:
                t_s = clock.monotonic() - start_s
                ev = sample_from_notification(
                    strap, encode_heart_rate_measurement(bpm_of(strap, t_s)), clock)
                events.put(ev)
                print(f"{ev.t_mono_s!r} {strap}", flush=True)
            next_s += 1.0

    threading.Thread(target=feed, daemon=True).start()
    while True:  # the terminal's loop
        recorded.tick()
        time.sleep(config.TICK_INTERVAL_S)


@dataclass(frozen=True)
class Run:
    lost_span_s: float  # kill time minus the arrival of the oldest sample not stored
    lost_samples: int
    newest_stored_age_s: float  # kill time minus the newest stored arrival (any strap)


def one_run(state: str, rng: random.Random, workdir: Path, index: int) -> Run:
    path = workdir / f"crash-{state}-{index}.sqlite3"
    url = f"sqlite:///{path}"
    open_database(url).close()  # migrate before the clock starts
    proc = subprocess.Popen([sys.executable, __file__, "--child", url, "--state", state],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert proc.stdout is not None
    arrivals: list[tuple[float, str]] = []
    start_line = proc.stdout.readline().split()
    if not start_line or start_line[0] != "start":
        proc.kill()
        raise SystemExit(f"the child did not start: {start_line}")
    start_s = float(start_line[1])
    reader = threading.Thread(target=lambda: arrivals.extend(
        (float(t), strap) for t, strap in (line.split() for line in proc.stdout)), daemon=True)
    reader.start()
    kill_at = start_s + WARMUP_S + rng.uniform(0.0, 3.0)
    time.sleep(max(0.0, kill_at - time.monotonic()))
    killed_s = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    reader.join(5)
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            stored = conn.execute(sa.text(
                "select s.t_s, p.study_code from samples s "
                "join session_participants sp on sp.id = s.session_participant_id "
                "join participants p on p.id = sp.participant_id")).all()
    finally:
        db.close()
    kept: dict[str, list[float]] = {strap: [] for strap in STRAPS}
    for t_s, code in stored:
        kept[code.removeprefix("P-")].append(t_s)
    arrived = [(t, strap) for t, strap in arrivals if t < killed_s]
    # The engine keeps session time in float32: match within a millisecond (samples of one
    # strap are a second apart).
    lost = [t for t, strap in arrived
            if not any(abs(t - start_s - t_s) < 1e-3 for t_s in kept[strap])]
    newest = max((t_s for t_s, _ in stored), default=0.0) + start_s
    return Run(killed_s - min(lost) if lost else 0.0, len(lost), killed_s - newest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--state", choices=("normal", "hold"), default="normal")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.state)
        return 0
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(args.state, rng, Path(tmp), i) for i in range(args.runs)]
    for i, run in enumerate(runs, 1):
        print(f"run {i}: lost {run.lost_samples} samples, span {run.lost_span_s:.2f} s; "
              f"newest stored sample {run.newest_stored_age_s:.2f} s before the kill")
    spans = [r.lost_span_s for r in runs]
    print(f"state {args.state}, {args.runs} runs: lost span max {max(spans):.2f} s, "
          f"median {statistics.median(spans):.2f} s (writer flush every "
          f"{config.WRITER_FLUSH_INTERVAL_S:g} s, tick {config.TICK_INTERVAL_S:g} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
