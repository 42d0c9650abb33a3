"""BLE driver latency against emulated straps: how long until a class streams, and how long a
strap that comes back waits for its next sample.

    .venv/bin/python benchmarks/ble.py [--runs N] [--outage-s S] [--stack bumble|bluez|both]

The production driver (``drivers.ble.BleStrapHub``, every strap watched, discovery off) runs
unchanged on real time (``RealClock``) against emulated straps, through either stack:

- bumble: straps and adapters emulated over bumble (``simulators.ble_emulation``), reached
  through bleak's public ``backend=`` parameters;
- bluez: bleak's own BlueZ backend (no backend classes, as in production) against the BlueZ
  double (``simulators.bluez_double``) on a private dbus-daemon
  (``simulators.private_dbus``): every call and notification crosses D-Bus as on Linux.

Both advertise every 100 ms and each strap notifies about once a second, as real straps do;
there is no radio loss, so the figures are the driver's and the stack's latency, not a
crowded 2.4 GHz band's.

Prints the machine, then two tables (median and range over the runs):

- start-up: seconds from ``start()`` until every strap is STREAMING, and until every strap
  has delivered its first HeartRateSample, for 8 straps on 2 adapters and 16 on 3 (at most
  7 per adapter); default BleTiming (backoff plays no part when nothing fails).
- return: seconds from a strap's return to STREAMING again and to its next HeartRateSample,
  after ``drop_connection()`` (the link drops, the strap keeps advertising), after
  ``power_off()`` for 3–4 s, and after ``power_off()`` for about ``--outage-s`` (default 60 s,
  staggered by 5 s per trial) with default BleTiming and with the backoff shortened to
  0.2–1 s. Each trial uses its own strap, linked for longer than ``stable_after_s``, and
  returns at a random point (up to 1 s) of the strap's notification cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import platform
import random
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from drivers.ble import BleStrapHub, BleTiming
from hiaim_monitor.clock import RealClock
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import HeartRateSample, SourceEvent, StrapState, StrapStatus
from simulators.ble_emulation import EmulatedBleWorld
from simulators.bleak_bumble import BumbleClient, BumbleScanner
from simulators.bluez_double import BluezDouble
from simulators.fleet import make_strap
from simulators.private_dbus import PrivateSystemBus
from simulators.roster import make_virtual_class

PROTOCOL = load_protocol("hi-aim")
DEFAULT = BleTiming()
# Only the retry waits change: the real-world ceiling (30 s) would decide the figure.
SHORT_BACKOFF = replace(DEFAULT, backoff_initial_s=0.2, backoff_max_s=1.0)
SHORT_OFF_S = 3.0  # inside the driver's first listening window (find_timeout_s = 10 s)
STAGGER_S = 5.0  # between the returns of the long-outage trials
WAIT_LIMIT_S = 60.0  # a trial that takes longer than this is reported as failed


@dataclass
class Log:
    """Every event the source delivered, with the real time it reached the sink."""

    t0: float = field(default_factory=time.perf_counter)
    events: list[tuple[float, SourceEvent]] = field(default_factory=list)

    def sink(self, event: SourceEvent) -> None:
        self.events.append((time.perf_counter(), event))

    def first(self, strap_id: str, after: float,
              match: Callable[[SourceEvent], bool]) -> float | None:
        for t, ev in self.events:
            if t >= after and ev.strap_id == strap_id and match(ev):
                return t
        return None

    def streaming_at(self, strap_id: str, after: float) -> float | None:
        return self.first(strap_id, after, _is_streaming)

    def sample_at(self, strap_id: str, after: float) -> float | None:
        return self.first(strap_id, after, lambda ev: isinstance(ev, HeartRateSample))


def _is_streaming(ev: SourceEvent) -> bool:
    return isinstance(ev, StrapStatus) and ev.state is StrapState.STREAMING


STACK = "bumble"  # which stack the figures go through; set by main_async


@contextlib.asynccontextmanager
async def emulated_world(adapter_count: int) -> AsyncIterator[Any]:
    """The straps' world for STACK: bumble's, or the BlueZ double (on the private bus that
    main() started before the loop, so bleak's BlueZ backend finds it)."""
    if STACK == "bumble":
        async with EmulatedBleWorld(adapter_count=adapter_count) as world:
            yield world
        return
    double = BluezDouble(adapter_count=adapter_count)
    await double.start()
    try:
        yield double
    finally:
        await double.stop()


def adapter_names(world: Any) -> list[str]:
    return list(world.adapters)


async def act(result: object) -> None:
    """Await a fault of a bumble strap; the BlueZ double's take effect at once."""
    if inspect.isawaitable(result):
        await result


async def add_straps(world: Any, clock: RealClock, n: int,
                     first_index: int = 1, seed: int = 0) -> list[Any]:
    people = make_virtual_class(n, seed=first_index)
    straps = []
    for index, person in enumerate(people, start=first_index):
        virtual = make_strap(person, index, protocol=PROTOCOL, session_start_s=0.0,
                             start_t_s=clock.monotonic(), seed=seed)
        added = world.add_strap(virtual, clock=clock)
        straps.append(await added if inspect.isawaitable(added) else added)
    return straps


class _Watching:
    """A BLE hub that watches ``straps`` from its start, discovery off (the headless path)."""

    def __init__(self, hub: BleStrapHub, straps: Sequence[Any]) -> None:
        self.hub = hub
        self.straps = list(straps)
        self.assignments = hub.assignments

    async def start(self, sink: Callable[[SourceEvent], None]) -> None:
        await self.hub.set_discovery(False)
        for strap in self.straps:
            await self.hub.watch(strap.strap_id, strap.name)
        self.assignments = self.hub.assignments
        await self.hub.start(sink)

    async def stop(self) -> None:
        await self.hub.stop()


def make_source(straps: Sequence[Any], clock: RealClock, adapters: Sequence[str],
                timing: BleTiming, seed: int) -> _Watching:
    # bluez: no backend classes, bleak's own BlueZ backend as in production.
    backends: dict[str, Any] = ({"scanner_backend": BumbleScanner,
                                 "client_backend": BumbleClient} if STACK == "bumble" else {})
    return _Watching(BleStrapHub(clock, adapters=adapters, timing=timing,
                                 rng=random.Random(seed), **backends), straps)


async def wait_for(condition: Callable[[], bool], limit_s: float = WAIT_LIMIT_S) -> bool:
    deadline = time.perf_counter() + limit_s
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


# -- start-up ------------------------------------------------------------------------------

async def startup_once(n: int, adapter_count: int, seed: int) -> tuple[float, float, str]:
    """(s until all STREAMING, s until all have a first sample, adapter loads)."""
    clock = RealClock()
    async with emulated_world(adapter_count) as world:
        straps = await add_straps(world, clock, n, seed=seed)
        # Every strap is on the air before the driver starts, at a moment that falls
        # anywhere in the straps' one-second notification cycle.
        await asyncio.sleep(0.5 + random.Random(seed).random())
        source = make_source(straps, clock, adapter_names(world), DEFAULT, seed)
        log = Log()
        t0 = time.perf_counter()
        await source.start(log.sink)
        try:
            ids = [s.strap_id for s in straps]
            done = await wait_for(lambda: all(log.sample_at(i, t0) is not None
                                              and log.streaming_at(i, t0) is not None
                                              for i in ids))
            if not done:
                raise RuntimeError(f"{n} straps did not all stream within {WAIT_LIMIT_S} s")
            streaming = max(log.streaming_at(i, t0) or 0.0 for i in ids) - t0
            sampled = max(log.sample_at(i, t0) or 0.0 for i in ids) - t0
            loads = [list(source.assignments.values()).count(a) for a in adapter_names(world)]
        finally:
            await source.stop()
    return streaming, sampled, "/".join(map(str, loads))


# -- a strap's return ----------------------------------------------------------------------

@dataclass
class Trial:
    returned_at: float
    strap: Any  # an EmulatedStrap or a BluezStrap

    def result(self, log: Log) -> tuple[float, float] | None:
        strap_id = self.strap.strap_id
        streaming = log.streaming_at(strap_id, self.returned_at)
        if streaming is None:
            return None
        # The first sample over the new link: after the driver saw the old one go (a sample
        # may arrive just before STREAMING is reported, but none after the drop is old).
        went = max((t for t, ev in log.events
                    if t <= streaming and ev.strap_id == strap_id
                    and isinstance(ev, StrapStatus) and ev.state is not StrapState.STREAMING),
                   default=self.returned_at)
        sample = log.sample_at(strap_id, max(went, self.returned_at))
        if sample is None:
            return None
        return streaming - self.returned_at, sample - self.returned_at


def measured(log: Log, trials: Sequence[Trial]) -> list[tuple[float, float]]:
    out = [t.result(log) for t in trials]
    return [r for r in out if r is not None]


async def until_back(log: Log, trial: Trial) -> None:
    if not await wait_for(lambda: trial.result(log) is not None):
        raise RuntimeError(f"{trial.strap.name} did not stream again within {WAIT_LIMIT_S} s")


async def returns(runs: int, outage_s: float) -> dict[str, list[tuple[float, float]]]:
    """Return trials; the two long-outage sets run while the short trials run."""
    clock = RealClock()
    # hci0–hci2 for the default-timing source (3 × runs straps, at most 7 per adapter),
    # hci3/hci4 for the short-backoff one: each source keeps its own one-connect-per-adapter
    # lock, so they must not share adapters.
    default_adapters = [f"hci{i}" for i in range(-(-3 * runs // 7))]
    short_adapters = [f"hci{len(default_adapters) + i}" for i in range(-(-runs // 7))]
    async with emulated_world(len(default_adapters) + len(short_adapters)) as world:
        default_straps = await add_straps(world, clock, 3 * runs)
        short_straps = await add_straps(world, clock, runs, first_index=3 * runs + 1)
        await asyncio.sleep(0.5)
        log = Log()
        sources = [make_source(default_straps, clock, default_adapters, DEFAULT, 1),
                   make_source(short_straps, clock, short_adapters, SHORT_BACKOFF, 2)]
        for source in sources:
            await source.start(log.sink)
        t0 = time.perf_counter()
        try:
            everyone = default_straps + short_straps
            if not await wait_for(lambda: all(log.sample_at(s.strap_id, t0) for s in everyone)):
                raise RuntimeError("the straps did not all stream")
            # Links that lasted stable_after_s reset the backoff, as a class's links would.
            await asyncio.sleep(DEFAULT.stable_after_s + 1.0)

            drops, short_offs = default_straps[:runs], default_straps[runs:2 * runs]
            long_default = default_straps[2 * runs:]
            off_at = time.perf_counter()
            for strap in long_default + short_straps:
                await act(strap.power_off())

            # Returns fall at random points of the straps' one-second notification cycle.
            phase = random.Random(3)
            results: dict[str, list[tuple[float, float]]] = {}
            drop_trials = []
            for strap in drops:
                await asyncio.sleep(phase.random())
                trial = Trial(time.perf_counter(), strap)
                await act(strap.drop_connection())
                await until_back(log, trial)
                drop_trials.append(trial)
                await asyncio.sleep(0.5)
            results["drop_connection()"] = measured(log, drop_trials)

            off_trials = []
            for strap in short_offs:
                await act(strap.power_off())
                await asyncio.sleep(SHORT_OFF_S + phase.random())
                trial = Trial(time.perf_counter(), strap)
                await act(strap.power_on())
                await until_back(log, trial)
                off_trials.append(trial)
                await asyncio.sleep(0.5)
            short_span = f"{SHORT_OFF_S:g}–{SHORT_OFF_S + 1:g} s"
            results[f"power_off() {short_span}"] = measured(log, off_trials)

            # Long outages: strap k of each set returns STAGGER_S after strap k-1, so the
            # returns fall at different points of the retry cycle.
            long_trials: dict[str, list[Trial]] = {"default": [], "short": []}
            for k in range(runs):
                back_at = (off_at + outage_s + (k - (runs - 1) / 2) * STAGGER_S
                           + phase.random())
                await asyncio.sleep(max(0.0, back_at - time.perf_counter()))
                for key, strap in (("default", long_default[k]), ("short", short_straps[k])):
                    trial = Trial(time.perf_counter(), strap)
                    await act(strap.power_on())
                    long_trials[key].append(trial)
            for trial in long_trials["default"] + long_trials["short"]:
                await until_back(log, trial)
            lo = outage_s - (runs - 1) / 2 * STAGGER_S
            hi = outage_s + (runs - 1) / 2 * STAGGER_S + 1
            span = f"{lo:g}–{hi:g} s"
            results[f"power_off() {span}"] = measured(log, long_trials["default"])
            results[f"power_off() {span}, short backoff*"] = measured(log, long_trials["short"])
        finally:
            for source in sources:
                await source.stop()
    return results


# -- report --------------------------------------------------------------------------------

def fmt(values: Sequence[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}–{max(values):.2f})"


async def main_async(runs: int, outage_s: float, stack: str) -> None:
    global STACK
    STACK = stack
    print(f"== through {stack}: " + ("bumble-emulated straps and adapters" if stack == "bumble"
          else "bleak's BlueZ backend, the BlueZ double on a private dbus-daemon"))
    print("start-up, default BleTiming: s from start() (median (min–max) of "
          f"{runs} runs, a fresh emulated world each)")
    print(f"{'straps':>6} {'adapters':>8} {'per adapter':>11} {'all STREAMING':>22} "
          f"{'all have a sample':>22}")
    for n, k in ((8, 2), (16, 3)):
        rows = [await startup_once(n, k, seed) for seed in range(runs)]
        print(f"{n:6d} {k:8d} {rows[0][2]:>11} {fmt([r[0] for r in rows]):>22} "
              f"{fmt([r[1] for r in rows]):>22}")
    print()
    print(f"return: s from the strap's return (median (min–max) of {runs} trials, one strap "
          "each)")
    print(f"{'event':38} {'STREAMING again':>22} {'next sample':>22}")
    for name, pairs in (await returns(runs, outage_s)).items():
        print(f"{name:38} {fmt([p[0] for p in pairs]):>22} {fmt([p[1] for p in pairs]):>22}")
    t = DEFAULT
    print()
    print(f"default BleTiming: find_timeout_s {t.find_timeout_s:g}, backoff "
          f"{t.backoff_initial_s:g}–{t.backoff_max_s:g} s (jitter {t.backoff_jitter:g}), "
          f"stable_after_s {t.stable_after_s:g}")
    s = SHORT_BACKOFF
    print(f"* SHORTENED BACKOFF: backoff_initial_s {s.backoff_initial_s:g}, backoff_max_s "
          f"{s.backoff_max_s:g}; everything else default. Without it a strap that returns "
          "during a retry wait sits out the rest of that wait (up to 30 s once the "
          "ceiling is reached).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5,
                        help="runs per start-up figure and trials per return figure (5)")
    parser.add_argument("--outage-s", type=float, default=60.0,
                        help="middle of the long power-off outages, s (60)")
    parser.add_argument("--stack", choices=("bumble", "bluez", "both"), default="both",
                        help="which stack the driver runs on (both, one after the other)")
    args = parser.parse_args()
    if not 1 <= args.runs <= 10:
        parser.error("--runs must be 1–10 (the return trials need 4 straps per run)")
    # bumble warns about notifications that race a stop; they say nothing about latency.
    logging.basicConfig(level=logging.ERROR)
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"{platform.system()}; real time (RealClock)")
    stacks = ("bumble", "bluez") if args.stack == "both" else (args.stack,)
    for stack in stacks:
        if stack == "bluez":
            # Before the loop's first bleak call: bleak connects to the system bus once.
            with PrivateSystemBus():
                asyncio.run(main_async(args.runs, args.outage_s, stack))
        else:
            asyncio.run(main_async(args.runs, args.outage_s, stack))
        print()


if __name__ == "__main__":
    main()
