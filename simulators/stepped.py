"""A simulated class stepped to a session time without threads: for screenshots, tests and
benchmarks that need a session at a given point, fast and the same every time.

Not a source of its own: the straps are the ones ``SimulatedStrapHub`` runs (same ids,
seeds, faults and hearts), every one watched, and they are paced by the hub's own
``StrapFleet``, pumped on a stepped clock instead of by a task on an event loop.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from datetime import datetime

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import SourceEvent
from simulators.faults import FaultConfig
from simulators.fleet import StrapFleet, make_strap
from simulators.hub import SimulatedStrapHub
from simulators.physiology import VirtualParticipant
from simulators.roster import make_virtual_class

STEP_S = 0.25  # clock step; each notification is stamped within this of its send time


class SteppedClass:
    """``n`` simulated participants doing ``protocol`` from session time 0; each strap's
    notifications go through the live decode path into a ``LiveSession``-ready queue.

    ``virtual`` is the class itself when given (``n`` is then its size), e.g. the ones of
    a programme who came today; ``strap_numbers`` (1-based, one each) keeps each on their
    own strap whoever else came (default 1…n)."""

    def __init__(self, n: int, protocol: TrainingProtocol, *, seed: int = 1,
                 faults: FaultConfig | None = None, start_utc: datetime | None = None,
                 staggered: bool = False, virtual: Sequence[VirtualParticipant] | None = None,
                 strap_numbers: Sequence[int] | None = None) -> None:
        self.clock = SimulatedClock() if start_utc is None else SimulatedClock(start_utc=start_utc)
        self.protocol = protocol
        self.virtual = make_virtual_class(n, seed) if virtual is None else list(virtual)
        n = len(self.virtual)
        stagger_s = 1 / n if staggered else 0.0
        if strap_numbers is None:
            hub = SimulatedStrapHub(self.virtual, self.clock, protocol=protocol,
                                    session_start_s=0.0, faults=faults, seed=seed)
            # Staggered straps, switched on at different moments, do not send in step.
            self.straps = hub.build_straps(0.0, stagger_s=stagger_s)
        else:  # the hub's recipe (fleet.make_strap), each strap numbered as asked
            self.straps = [make_strap(v, number, start_t_s=i * stagger_s, protocol=protocol,
                                      session_start_s=0.0, faults=faults, seed=seed)
                           for i, (v, number) in enumerate(zip(self.virtual, strap_numbers,
                                                               strict=True))]
        self.participants = [Participant(v.study_code, v.display_name, strap.strap_id,
                                         measured_hrmax(v.hrmax_bpm))
                             for v, strap in zip(self.virtual, self.straps, strict=True)]
        self.events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
        self._fleet = StrapFleet(self.straps, self.clock, self.events.put)
        for i in range(len(self.straps)):
            self._fleet.connect(i)

    def step_to(self, t_s: float) -> int:
        """Move the clock to ``t_s`` and queue every notification due; returns how many."""
        clock = self.clock
        clock.advance(max(0.0, t_s - clock.monotonic()))
        return self._fleet.pump()

    def run_to(self, t_s: float, *, on_second: Callable[[], object] | None = None) -> None:
        """Step the clock to ``t_s`` in STEP_S steps; ``on_second`` (a callable, e.g. a
        session's ``tick``) is called after each simulated second."""
        t0 = self.clock.monotonic()
        steps = int((t_s - t0) / STEP_S + 1e-9)
        for k in range(1, steps + 1):
            self.step_to(t0 + k * STEP_S)
            if on_second is not None and k % round(1 / STEP_S) == 0:
                on_second()
