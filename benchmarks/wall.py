"""Wall screen cost, for 8, 16 and 40 participants, rendered offscreen at 1920×1080.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/wall.py [--seconds S] [--sizes ...]

Each figure comes from S seconds (default 60) of a running session in real time: a simulated
class (simulators/, every notification through the real decode path) is stepped to 9 min 20 s
into the HI AIM protocol, so every trace holds its full three minutes and the measured minute
crosses the end of the warm-up into the first interval. Then the Qt event loop runs as the
app does: a 10 Hz tick timer delivers what the straps sent, calls ``session.tick()`` and hands
the snapshot to the window; the window draws from its own timer.

Per class size, three runs of the same loop:
  session  no window: what the tick alone costs (the floor the other two add to)
  wall     ui.wall.WallScreen, its own 30 Hz frame timer, repainting only what changed
  naive    the reference: one pyqtgraph PlotWidget per participant (axes, peak downsampling,
           clip to view, as pyqtgraph's scrollingPlots example) and a text label each;
           every frame calls setData on all of them and repaints the window (30 Hz)

Printed per run: CPU share of one core taken by the window's frames (thread CPU time inside
the frame slot, which paints synchronously) and by the whole process; frame time (median and
p99 over frames that drew something; idle frames are counted apart); and the delay from the
engine's ingest of a sample (the end of the tick that took it in) to the end of the first
frame that shows it (median, p99, max).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QWidget

from hiaim_monitor import config
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.session import LiveSession
from simulators.stepped import SteppedClass
from ui.wall import WallScreen

SIZE = (1920, 1080)
START_S = 560.0  # session seconds when the measurement starts


class Class:
    """A simulated class on a stepped clock, prefilled to START_S; ``step_to`` delivers what
    the straps sent."""

    def __init__(self, n: int, seed: int = 7) -> None:
        protocol = load_protocol("hi-aim")
        self.sim = SteppedClass(n, protocol, seed=seed, staggered=True)
        self.clock, self.events = self.sim.clock, self.sim.events
        self.session = LiveSession(protocol, self.sim.participants, self.clock, self.events,
                                   start_mono_s=0.0)
        self.sim.run_to(START_S, on_second=self.session.tick)

    def step_to(self, t_s: float) -> int:
        return self.sim.step_to(t_s)


class NaiveWall(QWidget):
    """The reference: a PlotWidget and a label per participant, all updated every frame."""

    def __init__(self, n: int) -> None:
        super().__init__()
        grid = QGridLayout(self)
        cols = 8 if n > 16 else 4
        self.curves = []
        self.labels = []
        for i in range(n):
            cell = QWidget()
            box = QGridLayout(cell)
            label = QLabel("—")
            label.setStyleSheet("font-size: 28px; font-weight: bold;")
            plot = pg.PlotWidget()
            plot.setYRange(45, 105)
            curve = plot.plot(pen=pg.mkPen("k", width=2))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            box.addWidget(label, 0, 0)
            box.addWidget(plot, 1, 0)
            grid.addWidget(cell, i // cols, i % cols)
            self.curves.append(curve)
            self.labels.append(label)
        self._pending: SessionSnapshot | None = None
        self.shown: SessionSnapshot | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(round(1000 / config.WALL_FRAME_HZ))
        self.timer.timeout.connect(self.frame)

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        self._pending = snap

    def frame(self) -> int:
        snap = self._pending
        if snap is None:
            return 0
        self._pending = None
        for curve, label, p in zip(self.curves, self.labels, snap.participants, strict=True):
            curve.setData(p.trace_t_s, p.trace_pct)
            label.setText(f"{p.display_name} {p.bpm if p.bpm is not None else '—'}")
        # Plots repaint from their scenes' queued updates: let them run, inside the frame.
        QApplication.processEvents()
        self.shown = snap
        return len(self.curves)


@dataclass
class Run:
    name: str
    n: int
    seconds: float
    frame_s: list[float] = field(default_factory=list)  # wall time of frames that drew
    idle_frames: int = 0
    frame_cpu_s: float = 0.0
    process_cpu_s: float = 0.0
    latency_s: list[float] = field(default_factory=list)
    samples: int = 0


def measure(kind: str, n: int, seconds: float) -> Run:
    gym = Class(n)
    run = Run(kind, n, seconds)
    app = QApplication.instance() or QApplication([])
    window: WallScreen | NaiveWall | None = None
    if kind == "wall":
        window = WallScreen()
    elif kind == "naive":
        window = NaiveWall(n)
    ingest_at: dict[int, float] = {}  # id of a snapshot with new samples -> its ingest time
    order: list[int] = []

    if window is not None:
        window.resize(*SIZE)
        window.show()
        app.processEvents()
        # Tiles are built once per session, before the class starts: not part of the minute.
        window.show_snapshot(gym.session.tick())
        window.frame()
        app.processEvents()
        original: Callable[[], int] = window.frame

        def timed_frame() -> None:
            cpu0, t0 = time.thread_time(), time.perf_counter()
            before = window.shown
            drew = original()
            t1 = time.perf_counter()
            run.frame_cpu_s += time.thread_time() - cpu0
            if drew:
                run.frame_s.append(t1 - t0)
            else:
                run.idle_frames += 1
            shown = window.shown
            if shown is before:
                return  # no new snapshot taken
            # Every snapshot up to the one this frame took is now on screen: drawn, or
            # (a sample that changes nothing visible, e.g. the same whole bpm and % on a
            # tile without a trace) already there.
            while order and shown is not None:
                key = order[0]
                run.latency_s.append(t1 - ingest_at.pop(key))
                order.pop(0)
                if key == id(shown):
                    break

        window.timer.timeout.disconnect()
        window.timer.timeout.connect(timed_frame)
        window.timer.start()

    real0 = time.perf_counter()
    keep: list[SessionSnapshot] = []  # so ids stay unique while measured

    def tick() -> None:
        now = time.perf_counter() - real0
        got = gym.step_to(START_S + now)
        snap = gym.session.tick()
        if window is None:
            return
        window.show_snapshot(snap)
        if got:
            run.samples += got
            keep.append(snap)
            ingest_at[id(snap)] = time.perf_counter()
            order.append(id(snap))

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(round(config.TICK_INTERVAL_S * 1000))
    ticker.timeout.connect(tick)
    gc.collect()
    cpu0 = time.process_time()
    ticker.start()
    QTimer.singleShot(round(seconds * 1000), app.quit)
    app.exec()
    run.process_cpu_s = time.process_time() - cpu0
    ticker.stop()
    if window is not None:
        window.timer.stop()
        window.close()
        window.deleteLater()
    app.processEvents()
    return run


def ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1e3:7.1f}" if values else "      –"


def report(run: Run, floor: Run | None) -> str:
    frames = len(run.frame_s)
    share = 100 * run.frame_cpu_s / run.seconds
    process = 100 * run.process_cpu_s / run.seconds
    extra = ""
    if floor is not None:
        extra = f" (+{process - 100 * floor.process_cpu_s / floor.seconds:5.1f})"
    if run.name == "session":
        return (f"{run.n:4d}  {run.name:8s} {'':>10} {process:8.1f}{'':8}  "
                "(tick and strap simulation only)")
    return (f"{run.n:4d}  {run.name:8s} {share:9.1f}% {process:8.1f}{extra} "
            f"{ms(run.frame_s, 50)} {ms(run.frame_s, 99)} {frames:7d} {run.idle_frames:6d} "
            f"{ms(run.latency_s, 50)} {ms(run.latency_s, 99)} "
            f"{(max(run.latency_s) * 1e3 if run.latency_s else 0):7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="real seconds of running session per run (default 60)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 40])
    parser.add_argument("--no-naive", action="store_true", help="skip the reference runs")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"Qt platform {app.platformName()}, {SIZE[0]}×{SIZE[1]}, "
          f"{args.seconds:g} s per run, ticks at {1 / config.TICK_INTERVAL_S:g} Hz, "
          f"frames at {config.WALL_FRAME_HZ} Hz")
    print(f"{'n':>4}  {'run':8s} {'frame CPU':>10} {'process CPU % (+ over session)':>28} "
          f"{'frame ms p50':>12} {'p99':>6} {'frames':>7} {'idle':>6} "
          f"{'ingest→screen ms p50':>20} {'p99':>6} {'max':>7}")
    kinds = ["session", "wall"] + ([] if args.no_naive else ["naive"])
    for n in args.sizes:
        floor = None
        for kind in kinds:
            run = measure(kind, n, args.seconds)
            if kind == "session":
                floor = run
            print(report(run, floor), flush=True)


if __name__ == "__main__":
    main()
