"""Listening to one Polar strap's advertised heart rate: part of the BLE hub, used by its
connections (``drivers._ble_connections``) for straps that have no connection.

A Polar strap advertises every ~100 ms–1 s with its current heart rate in the manufacturer
data (``hiaim_monitor.polar_broadcast``). ``ListenedStrap.hear`` runs in the scanner's
callback for each of them: it decodes and decides, with a few float compares, whether a
sample is due, so the hub sends about one sample a second per strap, not one per
advertisement. It also notices a strap that keeps one value for
``UNCHANGING_BROADCAST_AFTER_S`` (an unworn strap left on a table): no samples then, until
the value changes.
"""

from __future__ import annotations

from typing import Final

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.polar_broadcast import PolarBroadcastError, decode_polar_broadcast
from hiaim_monitor.samples import HeartRateSample, PacketDropped

__all__ = ["ListenedStrap", "is_polar_name"]

_POLAR_PREFIX: Final = "polar "  # "Polar H10 8C4D2F1A", "Polar Sense B3A1C2D4", ...


def is_polar_name(name: str) -> bool:
    """True for the name a Polar device advertises ("Polar <model> <device id>"), as Polar's
    SDK recognises its devices."""
    return name.lower().startswith(_POLAR_PREFIX)


class ListenedStrap:
    """What the hub keeps of one strap it listens to; ``hear`` once per advertisement."""

    __slots__ = ("_counter", "_last_sent_s", "_same_since_s", "bpm", "strap_id", "unchanging")

    def __init__(self, strap_id: str) -> None:
        self.strap_id = strap_id
        self.bpm: int | None = None  # the value last heard
        self.unchanging = False  # one value for UNCHANGING_BROADCAST_AFTER_S: not worn
        self._counter = -1
        self._last_sent_s: float | None = None
        self._same_since_s = 0.0

    def hear(self, payload: bytes, t_mono_s: float,
             clock: Clock) -> HeartRateSample | PacketDropped | None:
        """The event due for one advertisement's Polar data heard at ``t_mono_s``: a sample,
        a dropped packet (data that does not decode), or None (nothing new, too soon, no
        heart rate in it, or the strap is not worn)."""
        try:
            heard = decode_polar_broadcast(payload)
        except PolarBroadcastError as exc:
            return PacketDropped(self.strap_id, t_mono_s, str(exc), payload)
        if heard is None:
            return None
        changed = heard.bpm != self.bpm
        if changed:
            self._same_since_s = t_mono_s
        new = changed or heard.counter != self._counter
        self.bpm, self._counter = heard.bpm, heard.counter
        self.unchanging = t_mono_s - self._same_since_s >= config.UNCHANGING_BROADCAST_AFTER_S
        if self.unchanging:
            return None
        last = self._last_sent_s
        if last is not None:
            since_s = t_mono_s - last
            if since_s < config.BROADCAST_MIN_SPACING_S or (
                    not new and since_s < config.BROADCAST_SAMPLE_EVERY_S):
                return None
        self._last_sent_s = t_mono_s
        # The contact bit, where the strap sets it; 0 bpm is what a strap without skin
        # contact sends. Optical sensors (OH1, Verity) may not set the bit at all.
        if heard.contact:
            contact = SensorContact.DETECTED
        elif heard.bpm == 0:
            contact = SensorContact.NOT_DETECTED
        else:
            contact = SensorContact.NOT_SUPPORTED
        return HeartRateSample(
            strap_id=self.strap_id,
            t_mono_s=t_mono_s,
            wall_utc=clock.now_utc(),
            bpm=heard.bpm,
            rr_ms=(),
            contact=contact,
            broadcast=True,
        )
