"""The control window during a class: does the Qt event loop keep turning, and what does a
tick cost, for 8, 16 and 40 simulated straps streaming in real time?

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/control.py [--seconds S] [--sizes ...]

The composition is the app's own: simulated straps on the sensor thread (a
SimulatedStrapHub), the bridge, the control window with its setup page, a real SQLite store
in a temporary folder and its writer thread. Every strap is paired, Start is pressed, and
the window then runs for S real seconds (default 60) on its 10 Hz timer, as in class.

Printed per class size, for the running session: the window's tick (drain the queue,
engine, storage hand-off, redraw of the header, timeline and table; thread CPU time and
wall time, median and p99),
the CPU share of the whole process (sensor thread and writer included), and the gaps
between turns of the event loop measured by a 20 ms timer (p99 and the longest): a gap of
a few hundred milliseconds is what an operator feels as a frozen window. And the setup
page's tick (wall time, median and p99) over SETUP_S seconds before Start, with every
strap connected and its live heart rate changing.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import tempfile
import time
from datetime import UTC, datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from drivers.sensor_thread import SensorThread
from hiaim_monitor.class_setup import ClassSetup, SessionPlan
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.registry import add_participant, list_participants
from simulators.faults import FaultConfig
from simulators.hub import SimulatedStrapHub
from simulators.roster import make_virtual_class
from ui.alarm_sound import AlarmSound
from ui.bridge import SensorBridge
from ui.control_window import ControlWindow, Wiring

PAIRING_TIMEOUT_S = 20.0
SETUP_S = 15.0  # real seconds of the setup page measured before Start


def run(n: int, seconds: float, folder: str) -> dict[str, float]:
    app = QApplication.instance() or QApplication([])
    db = open_database(f"sqlite:///{folder}/bench-{n}.db")
    clock = SimulatedClock(start_utc=datetime.now(UTC), speed=1.0)
    cue, events = SessionCue(), queue.SimpleQueue()
    virtual = make_virtual_class(n, seed=11)
    for v in virtual:
        add_participant(db, v.study_code, v.display_name, hrmax_bpm=v.hrmax_bpm)
    hub = SimulatedStrapHub(virtual, clock, cue=cue, faults=FaultConfig.demo(), seed=11)
    sensors = SensorThread()
    sensors.start()
    sensors.start_source(hub, events.put)
    setup = ClassSetup(list_participants(db), load_protocol("hi-aim"),
                       today=clock.now_utc().date(), started_mono_s=clock.monotonic())
    for code, strap_id in hub.assignments.items():
        setup.assign(strap_id, code)

    def start(plan: SessionPlan) -> RecordedSession:
        return RecordedSession.start(db, plan.protocol, plan.participants, clock, events,
                                     cue=cue)

    bridge = SensorBridge(sensors.loop, hub, events, clock)
    window = ControlWindow(wiring=Wiring(setup, db, bridge, clock, start),
                           sound=AlarmSound(play=lambda: None))
    window.resize(1280, 800)
    window.show()
    ticks_cpu_s: list[float] = []
    ticks_s: list[float] = []

    def tick() -> None:
        cpu0, t0 = time.thread_time(), time.perf_counter()
        window.loop.tick()
        ticks_cpu_s.append(time.thread_time() - cpu0)
        ticks_s.append(time.perf_counter() - t0)

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(tick)
    timer.start()
    deadline = time.monotonic() + PAIRING_TIMEOUT_S
    while not (window.setup_page and window.setup_page.start_button.isEnabled()):
        app.processEvents()
        time.sleep(0.01)
        if time.monotonic() > deadline:
            raise SystemExit(f"{n} straps were not all streaming after {PAIRING_TIMEOUT_S} s")
    # The setup page with every strap streaming its live heart rate, as the operator
    # sees it in the minute before the class.
    ticks_cpu_s.clear()
    ticks_s.clear()
    setup_loop = QEventLoop()
    QTimer.singleShot(round(SETUP_S * 1000), setup_loop.quit)
    setup_loop.exec()
    setup_ticks = np.array(ticks_s) * 1000
    window.start_session()
    ticks_cpu_s.clear()
    ticks_s.clear()

    gaps_s: list[float] = []
    last = [time.perf_counter()]

    def pulse() -> None:
        now = time.perf_counter()
        gaps_s.append(now - last[0])
        last[0] = now

    pulser = QTimer()
    pulser.setInterval(20)
    pulser.timeout.connect(pulse)
    pulser.start()
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    cpu0, t0 = time.process_time(), time.perf_counter()
    loop.exec()  # the event loop as in the app, for S seconds
    process_share = (time.process_time() - cpu0) / (time.perf_counter() - t0)
    pulser.stop()
    timer.stop()
    snap = window.session_panel.snapshot
    live = sum(p.signal.value == "live" for p in snap.participants) if snap else 0
    window._quit_confirmed = True
    window.close()
    sensors.stop()
    db.close()
    tick_cpu = np.array(ticks_cpu_s) * 1000
    tick_wall = np.array(ticks_s) * 1000
    gaps = np.array(gaps_s) * 1000
    return {
        "n": n, "live": live, "ticks": len(ticks_s),
        "tick_cpu_p50": float(np.median(tick_cpu)),
        "tick_cpu_p99": float(np.percentile(tick_cpu, 99)),
        "tick_p50": float(np.median(tick_wall)),
        "tick_p99": float(np.percentile(tick_wall, 99)),
        "process_pct": 100 * process_share,
        "gap_p99": float(np.percentile(gaps, 99)), "gap_max": float(gaps.max()),
        "setup_p50": float(np.median(setup_ticks)),
        "setup_p99": float(np.percentile(setup_ticks, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 40])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, Qt platform {os.environ['QT_QPA_PLATFORM']}, "
          f"{args.seconds:g} s per run, real time, ticks at 10 Hz")
    print(f"{'n':>4} {'live':>5} {'ticks':>6} {'tick CPU ms p50':>16} {'p99':>6} "
          f"{'tick ms p50':>12} {'p99':>6} {'process CPU %':>14} {'loop gap ms p99':>16} "
          f"{'max':>6} {'setup tick ms p50':>18} {'p99':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            r = run(n, args.seconds, folder)
            print(f"{r['n']:>4} {r['live']:>5} {r['ticks']:>6} {r['tick_cpu_p50']:>16.2f} "
                  f"{r['tick_cpu_p99']:>6.2f} {r['tick_p50']:>12.2f} {r['tick_p99']:>6.2f} "
                  f"{r['process_pct']:>14.1f} {r['gap_p99']:>16.1f} {r['gap_max']:>6.1f} "
                  f"{r['setup_p50']:>18.2f} {r['setup_p99']:>6.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
