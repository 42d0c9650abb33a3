"""Shared set-up of the ANT+ tests: emulated straps and sticks under openant's real code,
and the comparison of rebuilt RR intervals with the straps' true beats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from drivers.ant import AntStrapHub
from hiaim_monitor.ant_hrm import BEAT_TIME_UNITS_PER_S
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.samples import HeartRateSample, SourceEvent, StrapState, StrapStatus
from simulators.ant_stick import EmulatedAntAir, EmulatedAntStick
from simulators.ant_strap import EmulatedAntStrap
from simulators.ant_usb import EmulatedUsbBackend
from simulators.physiology import HeartModel
from simulators.roster import make_virtual_class

CLOCK_SPEED = 2.0  # session seconds per real second: fast, with room for a loaded machine


class AntRig:
    def __init__(self, n_straps: int = 3, *, sticks: Sequence[int] = (1001,),
                 **strap_kwargs: object) -> None:
        self.clock = SimulatedClock(speed=CLOCK_SPEED)
        t0 = self.clock.monotonic()
        people = make_virtual_class(n_straps, 7)
        kwargs = {"background_every": 8, **strap_kwargs}
        self.straps = [EmulatedAntStrap(HeartModel(p, start_t_s=t0), 20_000 + i,
                                        seed=i, **kwargs)  # type: ignore[arg-type]
                       for i, p in enumerate(people, start=1)]
        self.air = EmulatedAntAir(self.clock, self.straps, seed=1)
        for serial in sticks:
            self.air.add_stick(serial)
        self.backend = EmulatedUsbBackend(self.air)
        self.events: list[SourceEvent] = []

    def stick(self, serial: int) -> EmulatedAntStick:
        return next(s for s in self.air.sticks if s.serial == serial)

    def hub(self, **kwargs: object) -> AntStrapHub:
        return AntStrapHub(self.clock, usb_backend=self.backend, poll_s=0.2,
                           **kwargs)  # type: ignore[arg-type]

    def samples(self, strap_id: str) -> list[HeartRateSample]:
        return [e for e in list(self.events)
                if type(e) is HeartRateSample and e.strap_id == strap_id]

    def states(self, strap_id: str) -> list[StrapStatus]:
        return [e for e in list(self.events)
                if isinstance(e, StrapStatus) and e.strap_id == strap_id]

    def state_of(self, strap_id: str) -> StrapState | None:
        states = self.states(strap_id)
        return states[-1].state if states else None


def strap_id(strap: EmulatedAntStrap) -> str:
    return f"ant:{strap.device_number}"


@dataclass(frozen=True)
class RrCheck:
    exact: int  # rebuilt intervals equal to one of the strap's true intervals, in order
    invented: int  # rebuilt intervals that are none of them
    true_beats: int


def check_rr(samples: Sequence[HeartRateSample], true_beats_1024: Sequence[int]) -> RrCheck:
    """Each rebuilt RR, in ticks of 1/1024 s (exact: a page's times are whole ticks), must
    be the next true interval or a later one; anything else was invented."""
    true_rr = [b - a for a, b in pairwise(true_beats_1024)]
    exact = invented = 0
    at = 0
    for sample in samples:
        for rr_ms in sample.rr_ms:
            ticks = rr_ms * BEAT_TIME_UNITS_PER_S / 1000
            assert ticks == round(ticks), f"{rr_ms} ms is no whole number of 1/1024 s"
            try:
                at = true_rr.index(round(ticks), at) + 1
                exact += 1
            except ValueError:
                invented += 1
    return RrCheck(exact, invented, len(true_beats_1024))
