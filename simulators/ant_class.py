"""A simulated class wearing emulated ANT+ straps, heard by emulated ANT sticks: what
``--simulate-ant N`` runs the production ``drivers.ant.AntStrapHub`` over.

``EmulatedAntClass`` holds the air (straps paced on the clock), its sticks and the pyusb
backend that lists them. Participant ``i`` (1-based) wears device number
``device_number_for(i)``: every eighth uses the 20-bit numbers (the transmission type's
extension nibble), every fifth is a legacy strap that sends page 0 only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from hiaim_monitor import strap_ids
from hiaim_monitor.ant_hrm import BEAT_TIME_UNITS_PER_S
from hiaim_monitor.clock import Clock
from hiaim_monitor.session_cue import SessionCue
from simulators.ant_stick import ANTUSB2, EmulatedAntAir, EmulatedAntStick
from simulators.ant_strap import EmulatedAntStrap
from simulators.ant_usb import EmulatedUsbBackend
from simulators.physiology import HeartModel, VirtualParticipant, cue_target

FIRST_STICK_SERIAL = 3_100_001


def device_number_for(index: int) -> int:
    base = 10_000 + 37 * index
    return base | 0x10000 if index % 8 == 0 else base


def strap_id_for_device(number: int) -> str:
    return strap_ids.make(strap_ids.ANT, str(number))


class EmulatedAntClass:
    """Straps for ``participants`` switched on at the clock's now, and ``stick_count``
    sticks that hear them all. ``start``/``stop`` the air's pacing thread."""

    def __init__(
        self,
        participants: Sequence[VirtualParticipant],
        clock: Clock,
        *,
        cue: SessionCue | None = None,
        seed: int = 0,
        stick_count: int = 1,
        drop_fraction: float = 0.0,
        legacy_every: int = 5,
        beat_count_start: int = 0,
        event_time_start_1024: int = 0,
    ) -> None:
        t0 = clock.monotonic()
        straps = []
        for i, p in enumerate(participants, start=1):
            target = cue_target(p, cue) if cue is not None else None
            straps.append(EmulatedAntStrap(
                HeartModel(p, start_t_s=t0, target=target), device_number_for(i),
                legacy=bool(legacy_every) and i % legacy_every == 0,
                drop_fraction=drop_fraction, beat_count_start=beat_count_start,
                event_time_start_1024=event_time_start_1024,
                battery_pct=max(10, 100 - 3 * i), seed=seed, rssi_dbm=-45 - (i * 7) % 40))
        self.air = EmulatedAntAir(clock, straps, seed=seed)
        for k in range(stick_count):
            self.air.add_stick(FIRST_STICK_SERIAL + k, product_id=ANTUSB2)
        self.backend = EmulatedUsbBackend(self.air)

    @property
    def straps(self) -> list[EmulatedAntStrap]:
        return self.air.straps

    @property
    def sticks(self) -> list[EmulatedAntStick]:
        return self.air.sticks

    @property
    def strap_ids(self) -> list[tuple[str, str]]:
        """(strap id, name) of every strap, in participant order."""
        return [(strap_id_for_device(s.device_number), s.name) for s in self.straps]

    def start(self) -> None:
        self.air.start()

    def stop(self) -> None:
        self.air.stop()

    async def astop(self) -> None:
        """``stop`` for the sensor loop's clean-ups."""
        self.air.stop()


@dataclass(frozen=True)
class RrCheck:
    exact: int  # rebuilt intervals equal to one of the strap's true intervals, in order
    invented: int  # rebuilt intervals that are none of them
    true_beats: int


def compare_rr(rr_ms: Sequence[Sequence[float]], true_beats_1024: Sequence[int]) -> RrCheck:
    """Compare the RR intervals of a strap's samples (``rr_ms``, one tuple per sample) with
    the beats it made. Each rebuilt RR, in ticks of 1/1024 s (exact: a page's times are
    whole ticks), must be the next true interval or a later one; anything else was
    invented."""
    true_rr = [b - a for a, b in pairwise(true_beats_1024)]
    exact = invented = 0
    at = 0
    for sample_rr in rr_ms:
        for one_ms in sample_rr:
            ticks = one_ms * BEAT_TIME_UNITS_PER_S / 1000
            if ticks != round(ticks):  # not a difference of two event times
                invented += 1
                continue
            try:
                at = true_rr.index(round(ticks), at) + 1
                exact += 1
            except ValueError:
                invented += 1
    return RrCheck(exact, invented, len(true_beats_1024))
