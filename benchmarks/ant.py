"""ANT+ hub with a class of 40: how long until every strap streams, what the sensor side
costs, and how exactly RR is rebuilt from the pages.

    .venv/bin/python benchmarks/ant.py [--straps 40] [--seconds 60] [--drop 0.05]

The production hub (``drivers.ant.AntStrapHub``, every strap watched, discovery off) runs
on real time (a ``SimulatedClock`` at speed 1) through openant's real ``Node``/``Channel``/
``Ant`` code against one emulated ANT USB stick (``simulators.ant_usb``) carrying
``--straps`` emulated ANT+ straps (``simulators.ant_class``: every fifth a legacy page-0
strap, every eighth with a 20-bit device number), each broadcasting at the profile's
4.06 Hz. ``--drop`` is the fraction of pages the stick misses (radio loss), drawn per page.

Prints the machine, then:

- start-up: seconds from ``start()`` (openant's 1 s reset included) until every strap is
  STREAMING, and until every strap has delivered an RR interval;
- CPU over ``--seconds`` of wall time once all stream: the process's CPU time as a
  percentage of one core, and per thread (from /proc/self/task on Linux): openant's reader,
  its two dispatchers, the sensor loop, and the emulated stick's air thread (not part of a
  real deployment, shown apart);
- RR against the straps' true beats: intervals exact to the tick of 1/1024 s, beats missed
  (their pages lost), intervals invented (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

from drivers.ant import AntStrapHub
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.samples import HeartRateSample, SourceEvent, StrapState, StrapStatus
from simulators.ant_class import EmulatedAntClass, compare_rr
from simulators.roster import make_virtual_class

_TICK_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _thread_cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) per live thread, by thread name; {} off Linux."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    task_dir = Path("/proc/self/task")
    if not task_dir.is_dir():
        return {}
    for task in task_dir.iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / _TICK_HZ
        name = names.get(int(task.name), f"tid {task.name}")
        out[_group(name)] += cpu
    return dict(out)


def _group(name: str) -> str:
    if name.startswith("openant-node"):
        return "openant Node._main (pages to the hub)"
    if name == "openant.base":
        return "openant Ant worker (USB reads)"
    if name == "openant.easy":
        return "openant Ant._main (responses)"
    if name == "ant-air":
        return "emulated stick's air (not in production)"
    if name == "MainThread":
        return "sensor loop (asyncio, main thread here)"
    return "other"


async def run(n: int, seconds: float, drop: float) -> None:
    clock = SimulatedClock(speed=1.0)
    people = make_virtual_class(n, 1)
    emulated = EmulatedAntClass(people, clock, seed=1, drop_fraction=drop)
    events: list[SourceEvent] = []
    hub = AntStrapHub(clock, usb_backend=emulated.backend)
    ids = [sid for sid, _ in emulated.strap_ids]
    for sid in ids:
        await hub.watch(sid, sid)
    await hub.set_discovery(False)
    emulated.start()
    t0 = time.perf_counter()
    await hub.start(events.append)
    streaming_s = rr_s = None
    while rr_s is None:
        await asyncio.sleep(0.02)
        now = time.perf_counter() - t0
        states = {e.strap_id: e.state for e in list(events) if isinstance(e, StrapStatus)}
        if streaming_s is None and all(states.get(s) is StrapState.STREAMING for s in ids):
            streaming_s = now
        with_rr = {e.strap_id for e in list(events) if type(e) is HeartRateSample and e.rr_ms}
        if with_rr >= set(ids):
            rr_s = now
        if now > 60:
            raise SystemExit("not every strap streamed within 60 s")
    cpu0, wall0, threads0 = time.process_time(), time.perf_counter(), _thread_cpu_s()
    await asyncio.sleep(seconds)
    cpu1, wall1, threads1 = time.process_time(), time.perf_counter(), _thread_cpu_s()
    counts = hub.beat_counts()
    await hub.stop()
    emulated.stop()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}, Python {platform.python_version()}")
    print(f"{n} emulated ANT+ straps on 1 emulated stick, page drop {drop:.0%}, "
          f"{seconds:g} s measured")
    print(f"start-up: all STREAMING {streaming_s:.2f} s, all with RR {rr_s:.2f} s "
          "(openant's reset takes 1 s of it)")
    wall = wall1 - wall0
    print(f"CPU, whole process: {100 * (cpu1 - cpu0) / wall:.1f} % of one core")
    for name in sorted(threads1):
        used = threads1[name] - threads0.get(name, 0.0)
        print(f"  {name:<42} {100 * used / wall:5.1f} %")
    rr: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    samples = Counter[str]()
    for e in events:
        if type(e) is HeartRateSample:
            rr[e.strap_id].append(e.rr_ms)
            samples[e.strap_id] += 1
    exact = invented = 0
    for strap, sid in zip(emulated.straps, ids, strict=True):
        check = compare_rr(rr[sid], strap.true_beats_1024)
        exact += check.exact
        invented += check.invented
    rebuilt = sum(b for b, _ in counts.values())
    missed = sum(m for _, m in counts.values())
    print(f"RR: {exact} intervals exact to 1/1024 s, {invented} invented; the rebuilders "
          f"gave {rebuilt} and counted {missed} beats missed (each strap's first new beat only "
          "anchors; the rest were lost with their pages): "
          f"{100 * missed / max(1, rebuilt + missed):.1f} %; {sum(samples.values())} "
          f"samples; hub dropped {hub.dropped} messages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--straps", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--drop", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(run(args.straps, args.seconds, args.drop))


if __name__ == "__main__":
    main()
