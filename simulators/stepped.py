"""A simulated class stepped to a session time without threads: for screenshots, tests and
benchmarks that need a session at a given point, fast and the same every time."""

from __future__ import annotations

import queue
from collections.abc import Callable
from datetime import datetime

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import (
    BatteryReading,
    SourceEvent,
    StrapState,
    StrapStatus,
    sample_from_notification,
)
from simulators.faults import FaultConfig
from simulators.roster import make_virtual_class
from simulators.source import make_strap
from simulators.strap import VirtualStrap

STEP_S = 0.25  # clock step; each notification is stamped within this of its send time


class SteppedClass:
    """``n`` simulated participants doing ``protocol`` from session time 0; each strap's
    notifications go through the live decode path into a ``LiveSession``-ready queue."""

    def __init__(self, n: int, protocol: TrainingProtocol, *, seed: int = 1,
                 faults: FaultConfig | None = None, start_utc: datetime | None = None,
                 staggered: bool = False) -> None:
        self.clock = SimulatedClock() if start_utc is None else SimulatedClock(start_utc=start_utc)
        self.protocol = protocol
        self.virtual = make_virtual_class(n, seed)
        self.straps: list[VirtualStrap] = [
            # Staggered straps, switched on at different moments, do not send in step.
            make_strap(v, i, protocol=protocol, session_start_s=0.0,
                       start_t_s=i / n if staggered else 0.0, faults=faults, seed=seed)
            for i, v in enumerate(self.virtual, start=1)]
        self.participants = [Participant(v.participant_id, v.display_name, strap.strap_id,
                                         measured_hrmax(v.hrmax_bpm))
                             for v, strap in zip(self.virtual, self.straps, strict=True)]
        self.events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
        for strap in self.straps:
            self.events.put(StrapStatus(strap.strap_id, 0.0, StrapState.STREAMING))

    def step_to(self, t_s: float) -> int:
        """Move the clock to ``t_s`` and queue every notification due; returns how many."""
        clock = self.clock
        clock.advance(max(0.0, t_s - clock.monotonic()))
        t = clock.monotonic()
        sent = 0
        for strap in self.straps:
            for note in strap.notifications_until(t):
                self.events.put(sample_from_notification(strap.strap_id, note.data, clock))
                if note.battery_pct is not None:
                    self.events.put(BatteryReading(strap.strap_id, t, note.battery_pct))
                sent += 1
        return sent

    def run_to(self, t_s: float, *, on_second: Callable[[], object] | None = None) -> None:
        """Step the clock to ``t_s`` in STEP_S steps; ``on_second`` (a callable, e.g. a
        session's ``tick``) is called after each simulated second."""
        t0 = self.clock.monotonic()
        steps = int((t_s - t0) / STEP_S + 1e-9)
        for k in range(1, steps + 1):
            self.step_to(t0 + k * STEP_S)
            if on_second is not None and k % round(1 / STEP_S) == 0:
                on_second()
