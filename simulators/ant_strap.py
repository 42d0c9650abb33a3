"""An emulated ANT+ heart-rate strap: a heart model's beats as the 8-byte pages a real strap
broadcasts, with the simulator's own encoder (the app's decoder is what is under test, so
it is never used to make what it reads).

The page layouts follow the ANT+ Heart Rate device profile: on every page byte 0 is the page
number with the toggle bit on top (flipped every 4 messages), bytes 4–5 the last beat's
event time in 1/1024 s, byte 6 the beat count and byte 7 the computed heart rate. Page 4
carries the previous beat's event time in bytes 2–3; background pages (1 operating time,
2 manufacturer and serial, 3 versions and model, 7 battery) are sent four at a time in
place of the main page every 64 messages, in turn. A legacy strap sends page 0 only, with
no toggle. Messages go out every 8070/32768 s (about 4 Hz), the profile's channel period.

The strap stamps beats on its own 1/1024 s counter, so the true beat times it records
(``true_beats_1024``, unwrapped) are exactly what a decoder can rebuild from its pages.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Final

from simulators.physiology import HeartModel

PERIOD_S: Final = 8070 / 32768  # the heart-rate profile's channel period
DEVICE_TYPE_HEART_RATE: Final = 120
MAIN_PAGE: Final = 4
LEGACY_PAGE: Final = 0
BACKGROUND_PAGES: Final = (7, 1, 2, 3)
BACKGROUND_EVERY: Final = 64  # messages between background runs
_RUN: Final = 4  # messages a toggle state (and a background page) lasts
_BPM_AVERAGE_BEATS: Final = 4
MANUFACTURER_ID: Final = 255  # "development" in the ANT+ manufacturer list
_UNITS_PER_S: Final = 1024


@dataclass(frozen=True, slots=True)
class StrapPage:
    t_s: float  # when it went on the air, on the clock
    device_number: int  # 20 bits: the upper 4 travel in the transmission type's upper nibble
    transmission_type: int
    payload: bytes  # the 8-byte page


def encode_page(page: int, toggle: bool, beat_time_1024: int, beat_count: int, bpm: int,
                extra: bytes = b"\xff\xff\xff") -> bytes:
    """One heart-rate page: ``extra`` are bytes 1–3, which each page number fills its way."""
    if len(extra) != 3:
        raise ValueError("a page has 3 page-specific bytes")
    first = (page & 0x7F) | (0x80 if toggle else 0)
    t = beat_time_1024 & 0xFFFF
    return bytes((first, *extra, t & 0xFF, t >> 8, beat_count & 0xFF, bpm & 0xFF))


class EmulatedAntStrap:
    """One strap; ``pages_until(t_s)`` says what it broadcast by ``t_s`` (dropped pages
    excluded), deterministic for a seed. ``device_number`` may use 20 bits."""

    def __init__(
        self,
        model: HeartModel,
        device_number: int,
        *,
        legacy: bool = False,
        drop_fraction: float = 0.0,
        beat_count_start: int = 0,
        event_time_start_1024: int = 0,
        battery_pct: int = 90,
        serial: int = 0,
        seed: int = 0,
        rssi_dbm: int = -60,
        background_every: int = BACKGROUND_EVERY,
    ) -> None:
        if not 0 < device_number < 1 << 20:
            raise ValueError(f"an ANT+ device number is 1–{(1 << 20) - 1}, got {device_number}")
        if not 0.0 <= drop_fraction < 1.0:
            raise ValueError("the dropped fraction of pages must be in [0, 1)")
        self.model = model
        self.device_number = device_number
        # Bits 0–1: 0b01 independent channel; bits 4–7: the device number's bits 16–19.
        self.transmission_type = 0x01 | ((device_number >> 16) << 4)
        self.legacy = legacy
        self.drop_fraction = drop_fraction
        self.battery_pct = battery_pct
        self.serial = serial or device_number
        self.rssi_dbm = rssi_dbm
        self.background_every = max(2 * _RUN, background_every)
        self._rng = random.Random(f"{seed}:ant:{device_number}")
        self._count_start = beat_count_start
        self._time_start = event_time_start_1024
        self.on = True
        self.true_beats_1024: list[int] = []  # unwrapped event times of every beat made
        self.sent_pages = 0
        self.dropped_pages = 0
        self._power_on(model.t_s)
        # Straps on one stick do not send in step.
        self._next_s = model.t_s + self._rng.uniform(0.0, PERIOD_S)

    @property
    def name(self) -> str:
        return f"ANT+ HR {self.device_number}"

    def _power_on(self, t_s: float) -> None:
        self._boot_s = t_s
        self._beats_ms = 0.0  # true time since power-on, ms
        self._raw = self._time_start  # unwrapped event time of the last beat
        self._prev_raw = self._time_start
        self._count = self._count_start
        self._message = 0
        self._recent_rr: deque[float] = deque(maxlen=_BPM_AVERAGE_BEATS)
        self._bpm = 0
        self._background = 0

    def switch_off(self) -> None:
        """The strap goes quiet (taken off: its electrodes dry, it sleeps)."""
        self.on = False

    def switch_on(self, t_s: float) -> None:
        """The strap wakes at ``t_s`` from scratch: beat count and event time start again."""
        if self.on:
            return
        self.on = True
        self.model.beats_until(t_s)  # the heart beat on unheard
        self._power_on(t_s)
        self._next_s = t_s + self._rng.uniform(0.0, PERIOD_S)

    @property
    def next_due_s(self) -> float:
        return self._next_s

    def pages_until(self, t_s: float) -> list[StrapPage]:
        out: list[StrapPage] = []
        while self._next_s <= t_s:
            t = self._next_s
            self._next_s += PERIOD_S
            if not self.on:
                self.model.beats_until(t)
                continue
            self._beat(self.model.beats_until(t))
            payload = self._page()
            self._message += 1
            if self.drop_fraction and self._rng.random() < self.drop_fraction:
                self.dropped_pages += 1
                continue
            self.sent_pages += 1
            out.append(StrapPage(t, self.device_number, self.transmission_type, payload))
        return out

    def _beat(self, rr_ms: list[float]) -> None:
        for rr in rr_ms:
            self._beats_ms += rr
            self._prev_raw = self._raw
            self._raw = self._time_start + round(self._beats_ms * _UNITS_PER_S / 1000.0)
            self._count += 1
            self.true_beats_1024.append(self._raw)
            self._recent_rr.append(rr)
        if self._recent_rr:
            self._bpm = round(60_000.0 / (sum(self._recent_rr) / len(self._recent_rr)))

    def _page(self) -> bytes:
        if self.legacy:
            return encode_page(LEGACY_PAGE, False, self._raw, self._count, self._bpm)
        toggle = (self._message // _RUN) % 2 == 1
        every = self.background_every
        if self._message % every >= every - _RUN:
            page = BACKGROUND_PAGES[(self._message // every) % len(BACKGROUND_PAGES)]
            extra = self._background_bytes(page)
        else:
            page = MAIN_PAGE
            prev = self._prev_raw & 0xFFFF
            extra = bytes((0xFF, prev & 0xFF, prev >> 8))
        return encode_page(page, toggle, self._raw, self._count, self._bpm, extra)

    def _background_bytes(self, page: int) -> bytes:
        if page == 1:  # cumulative operating time, 2 s units, 24 bits
            units = int((self._next_s - self._boot_s) / 2) & 0xFFFFFF
            return units.to_bytes(3, "little")
        if page == 2:  # manufacturer, serial number's upper 16 bits
            upper = (self.serial >> 16) & 0xFFFF
            return bytes((MANUFACTURER_ID, upper & 0xFF, upper >> 8))
        if page == 3:  # hardware version, software version, model number
            return bytes((1, 2, 3))
        # page 7: battery level %, fractional voltage (1/256 V), coarse voltage and status
        volts = 2.6 + 0.4 * self.battery_pct / 100
        status = 1 if self.battery_pct > 80 else 2 if self.battery_pct > 40 else 4
        return bytes((self.battery_pct & 0xFF, int((volts % 1) * 256) & 0xFF,
                      (int(volts) & 0x0F) | (status << 4)))
