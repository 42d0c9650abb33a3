"""Shared set-up of the ANT+ tests: emulated straps and sticks under openant's real code,
and the comparison of rebuilt RR intervals with the straps' true beats."""

from __future__ import annotations

from collections.abc import Sequence

from drivers.ant import AntStrapHub
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.samples import HeartRateSample, SourceEvent, StrapState, StrapStatus
from simulators.ant_class import RrCheck, compare_rr
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


def check_rr(samples: Sequence[HeartRateSample], true_beats_1024: Sequence[int]) -> RrCheck:
    return compare_rr([s.rr_ms for s in samples], true_beats_1024)
