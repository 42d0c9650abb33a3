"""Classes for the wall tests: a simulated class stepped to a moment of its session, and a
hand-made class whose straps the test drives one beat at a time."""

from __future__ import annotations

import dataclasses
import queue

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import SensorContact, encode_heart_rate_measurement
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol, load_protocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    SourceEvent,
    sample_from_notification,
)
from hiaim_monitor.session import LiveSession
from simulators.faults import FaultConfig
from simulators.stepped import SteppedClass


def simulated_class(n: int, at_s: float, *, seed: int = 3, protocol: str = "hi-aim",
                    faults: FaultConfig | None = None) -> LiveSession:
    """``n`` virtual participants ``at_s`` seconds into ``protocol``: every notification goes
    through the real decode path, on a stepped clock."""
    proto: TrainingProtocol = load_protocol(protocol)
    sim = SteppedClass(n, proto, seed=seed, faults=faults)
    session = LiveSession(proto, sim.participants, sim.clock, sim.events, start_mono_s=0.0)
    sim.run_to(at_s, on_second=session.tick)
    return session


class HandClass:
    """``names`` on the Norwegian 4x4, HRmax 180 each, straps "S0", "S1", …; the test says
    what each strap sends, second by second."""

    HRMAX_BPM = 180

    def __init__(self, names: list[str], protocol: str = "norwegian-4x4",
                 beta_blockers: set[int] = frozenset()) -> None:
        self.clock = SimulatedClock()
        self.events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
        self.people = [Participant(f"P{i}", name, f"S{i}", measured_hrmax(self.HRMAX_BPM),
                                   beta_blocker=i in beta_blockers)
                       for i, name in enumerate(names)]
        self.session = LiveSession(load_protocol(protocol), self.people, self.clock,
                                   self.events, start_mono_s=0.0)

    def beats(self, seconds: int, bpm: dict[int, int], *,
              no_contact: frozenset[int] = frozenset(),
              broadcast: frozenset[int] = frozenset()) -> None:
        """Participant ``i`` sends ``bpm[i]`` once a second for ``seconds``; the rest are
        silent. Those in ``no_contact`` report that the strap does not touch skin; those in
        ``broadcast`` are heard by their Polar broadcast: heart rate, no RR."""
        for _ in range(seconds):
            self.clock.advance(1)
            for i, value in bpm.items():
                contact = (SensorContact.NOT_DETECTED if i in no_contact
                           else SensorContact.DETECTED)
                data = encode_heart_rate_measurement(value, sensor_contact=contact,
                                                     rr_raw=[round(61440 / value)])
                sample = sample_from_notification(f"S{i}", data, self.clock)
                if i in broadcast and isinstance(sample, HeartRateSample):
                    sample = dataclasses.replace(sample, rr_ms=(), broadcast=True)
                self.events.put(sample)
            self.session.tick()

    def battery(self, i: int, pct: int) -> None:
        self.events.put(BatteryReading(f"S{i}", self.clock.monotonic(), pct))
