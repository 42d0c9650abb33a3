"""Polar broadcast listening: how many straps one Bluetooth adapter serves, and how soon.

    .venv/bin/python benchmarks/broadcast.py [--straps 20] [--seconds 30]

One emulated adapter (bumble, in memory; at most ``config.MAX_STRAPS_PER_ADAPTER`` = 7
links) and ``--straps`` emulated Polar H10s that put their heart rate in their
advertisements as they beat. The production BLE hub (``drivers.ble.BleStrapHub``, every
strap watched, discovery off, default timing, real time) connects 7 and listens to the rest.

Prints the machine, then: seconds from ``start()`` until every strap has delivered a sample
and until the 7 links stream; over ``--seconds`` once all stream, the samples per second of
the connected straps and of the listened ones (min–max), whether any listened sample carried
RR (it must not), and the process CPU as a percentage of one core. The emulated straps and
their radio run on the same asyncio loop as the hub, so the CPU figure includes them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from collections import Counter

from drivers.ble import BleStrapHub
from hiaim_monitor import config
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.samples import HeartRateSample, SourceEvent
from simulators.ble_emulation import EmulatedBleWorld
from simulators.bleak_bumble import BumbleClient, BumbleScanner
from simulators.roster import make_virtual_class


async def run(n: int, seconds: float) -> None:
    clock = SimulatedClock(speed=1.0)
    async with EmulatedBleWorld(adapter_count=1) as world:
        straps = await world.add_class(make_virtual_class(n, 3), clock=clock, seed=3,
                                       polar=True)
        ids = [s.strap_id for s in straps]
        hub = BleStrapHub(clock, adapters=world.adapters, scanner_backend=BumbleScanner,
                          client_backend=BumbleClient)
        events: list[SourceEvent] = []
        for sid in ids:
            await hub.watch(sid, sid)
        await hub.set_discovery(False)
        t0 = time.perf_counter()
        await hub.start(events.append)
        all_s = links_s = None
        while all_s is None or links_s is None:
            await asyncio.sleep(0.05)
            now = time.perf_counter() - t0
            samples = [e for e in list(events) if type(e) is HeartRateSample]
            if all_s is None and {e.strap_id for e in samples} >= set(ids):
                all_s = now
            linked = {e.strap_id for e in samples if not e.broadcast}
            if links_s is None and len(linked) >= min(n, config.MAX_STRAPS_PER_ADAPTER):
                links_s = now
            if now > 120:
                raise SystemExit("not every strap streamed within 120 s")
        mark = len(events)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        window = [e for e in events[mark:] if type(e) is HeartRateSample]
        listened = set(hub.listened)
        await hub.stop()
    wall = wall1 - wall0
    by_link = Counter(e.strap_id for e in window if not e.broadcast)
    by_air = Counter(e.strap_id for e in window if e.broadcast)
    rr_heard = sum(bool(e.rr_ms) for e in window if e.broadcast)

    def rate(counts: Counter[str]) -> str:
        if not counts:
            return "none"
        return f"{min(counts.values()) / wall:.2f}–{max(counts.values()) / wall:.2f}"

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}, Python {platform.python_version()}")
    print(f"{n} emulated Polar H10s on 1 emulated adapter ({config.MAX_STRAPS_PER_ADAPTER} "
          f"links), {seconds:g} s measured")
    print(f"start-up: every strap has a sample after {all_s:.2f} s, the links stream after "
          f"{links_s:.2f} s")
    print(f"connected: {len(by_link)} straps, {rate(by_link)} samples/s each, with RR")
    print(f"listened:  {len(by_air)} straps ({len(listened)} listened at the end), "
          f"{rate(by_air)} samples/s each, {rr_heard} with RR")
    print(f"CPU, whole process (hub and emulated straps): {100 * (cpu1 - cpu0) / wall:.1f} % "
          "of one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--straps", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(run(args.straps, args.seconds))


if __name__ == "__main__":
    main()
