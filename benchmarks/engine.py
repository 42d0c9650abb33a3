"""Zone engine speed and memory, for 8, 40 and 400 participants at 4 samples/s.

    .venv/bin/python benchmarks/engine.py [--minutes M]

Prints per class size: median and p99 tick time (ingest of what arrived in 100 ms plus a
snapshot, as the consumer runs it at 10 Hz), samples ingested per second (one-second batches,
no snapshot), and ring-buffer memory per participant-hour. Heart rates are synthetic: each
participant follows a slow interval-like curve with a little noise, with RR intervals that
match.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc

import numpy as np

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.engine import ZoneEngine
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import HeartRateSample

RATE_HZ = 4.0  # samples per participant per second
TICK_S = 0.1


def make_samples(n: int, seconds: float, seed: int = 1) -> list[HeartRateSample]:
    """Time-ordered samples for ``n`` participants over ``seconds``."""
    rng = np.random.default_rng(seed)
    clock = SimulatedClock()
    wall = clock.now_utc()
    t = np.arange(0, seconds, 1 / RATE_HZ)
    phase = rng.uniform(0, 2 * np.pi, n)
    out = []
    for k, tk in enumerate(t):
        bpm = 140 + 30 * np.sin(2 * np.pi * tk / 420 + phase) + rng.normal(0, 1.5, n)
        for i in range(n):
            b = float(bpm[i])
            rr = (60000.0 / b,) if k % 4 else (60000.0 / b, 60000.0 / b)
            out.append(HeartRateSample(f"S{i}", float(tk + i * 1e-4), wall, round(b), rr,
                                       SensorContact.DETECTED))
    return out


def make_engine(n: int) -> tuple[ZoneEngine, SimulatedClock]:
    people = [Participant(f"P{i}", f"N{i}", f"S{i}", measured_hrmax(190)) for i in range(n)]
    clock = SimulatedClock()
    return ZoneEngine(load_protocol("hi-aim"), people, clock, start_mono_s=0.0), clock


def tick_times(n: int, seconds: float) -> np.ndarray:
    samples = make_samples(n, seconds)
    engine, clock = make_engine(n)
    times = []
    i = 0
    gc.collect()
    for tick_end in np.arange(TICK_S, seconds + TICK_S / 2, TICK_S):
        j = i
        while j < len(samples) and samples[j].t_mono_s < tick_end:
            j += 1
        clock.advance(tick_end - clock.monotonic())
        t0 = time.perf_counter()
        engine.ingest(samples[i:j])
        engine.snapshot()
        times.append(time.perf_counter() - t0)
        i = j
    return np.array(times)


def ingest_rate(n: int, seconds: float) -> float:
    samples = make_samples(n, seconds, seed=2)
    engine, clock = make_engine(n)
    per_batch = int(n * RATE_HZ)
    gc.collect()
    t0 = time.perf_counter()
    for k in range(0, len(samples), per_batch):
        clock.advance(1.0)
        engine.ingest(samples[k:k + per_batch])
    return len(samples) / (time.perf_counter() - t0)


def memory_per_participant_hour(n: int) -> tuple[float, float]:
    """(ring bytes per participant-hour of capacity, bytes traced while constructing)."""
    tracemalloc.start()
    engine, _ = make_engine(n)
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hours = engine.cfg.capacity_samples / RATE_HZ / 3600
    ring = engine.samples.nbytes + engine.beats.nbytes
    return ring / n / hours, traced / n / hours


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=2.0,
                        help="simulated minutes per measurement (default 2)")
    args = parser.parse_args()
    seconds = args.minutes * 60
    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}; {args.minutes:g} simulated "
          f"min per figure, {RATE_HZ:g} samples/s per participant, ticks of {TICK_S * 1000:.0f} ms")
    print(f"{'participants':>12} {'tick median':>12} {'tick p99':>10} {'samples/s':>11} "
          f"{'MB/participant-hour':>20}")
    for n in (8, 40, 400):
        ticks = tick_times(n, seconds)
        rate = ingest_rate(n, seconds)
        ring, traced = memory_per_participant_hour(n)
        print(f"{n:12d} {np.median(ticks) * 1e3:9.3f} ms {np.percentile(ticks, 99) * 1e3:7.3f} ms"
              f" {rate:11,.0f} {ring / 1e6:10.2f} (traced {traced / 1e6:.2f})")


if __name__ == "__main__":
    main()
