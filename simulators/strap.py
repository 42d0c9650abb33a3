"""A virtual chest strap: a heart model's beats as real Heart Rate Measurement bytes.

Synchronous and deterministic: ``notifications_until(t_s)`` says what the strap would have
sent by ``t_s``. Pacing against a clock is the fleet's job (``simulators.fleet``); the
same strap can feed an emulated BLE peripheral.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Final

from hiaim_monitor import strap_ids
from hiaim_monitor.hrm import (
    MAX_NOTIFICATION_BYTES,
    RR_UNITS_PER_S,
    SensorContact,
    encode_heart_rate_measurement,
    max_rr_values,
)
from simulators.faults import FaultConfig, FaultInjector
from simulators.physiology import HeartModel

_BPM_AVERAGE_BEATS: Final = 4  # straps report heart rate averaged over the last few beats


@dataclass(frozen=True, slots=True)
class Notification:
    t_s: float  # nominal send time on the strap's clock
    data: bytes  # 0x2A37 value as sent
    battery_pct: int | None = None  # Battery Level, when it changed since the last report


def strap_id_for(index: int) -> str:
    """The strap id of simulated strap ``index`` (1-based): ``sim:0001``."""
    return strap_ids.make(strap_ids.SIM, f"{index:04d}")


def strap_name_for(index: int) -> str:
    return f"Sim HR {index:04d}"


def ble_address_for(index: int) -> str:
    """The Bluetooth address emulated strap ``index`` has on the air (bumble or the BlueZ
    double): random static (the two top bits set), stable per index."""
    if not 0 <= index <= 0xFFFF:
        raise ValueError(f"strap index {index} does not fit an emulated address")
    return f"F0:00:00:00:{index >> 8:02X}:{index & 0xFF:02X}"


def polar_strap_name(index: int) -> str:
    """What an emulated Polar strap advertises: model and an 8-hex-digit device id, as a
    real H10 does ("Polar H10 8C4D2F1A")."""
    return f"Polar H10 {0xA0000000 + index:08X}"


class VirtualStrap:
    """One strap worn by one virtual participant, switched on at the model's start time."""

    def __init__(
        self,
        model: HeartModel,
        *,
        index: int = 1,
        faults: FaultConfig | None = None,
        seed: int = 0,
        period_s: float = 1.0,
        jitter_s: float = 0.05,
    ) -> None:
        if not 0 <= jitter_s < period_s:
            raise ValueError(f"jitter {jitter_s} s must be at least 0 and below the period")
        self.model = model
        self.index = index
        self.strap_id = strap_id_for(index)
        self.name = strap_name_for(index)
        self.period_s = period_s
        self.jitter_s = jitter_s
        start_t_s = model.t_s
        self._faults = FaultInjector(
            faults or FaultConfig(),
            keys=(self.strap_id, model.participant.study_code),
            start_t_s=start_t_s,
            seed=seed,
        )
        self._schedule_rng = random.Random(f"{seed}:schedule")
        self._nominal_s = start_t_s
        self._next_due_s = start_t_s
        self._schedule_next()
        self._backlog_raw: deque[int] = deque()
        self._recent_rr_ms: deque[float] = deque(maxlen=_BPM_AVERAGE_BEATS)
        self._bpm = 0  # what straps send before they have found a beat
        self._stalled = False
        self._beats_ms = 0.0
        self._beats_raw = 0
        self._battery_pct = self._faults.battery_pct(start_t_s)
        self._reported_pct = self._battery_pct  # the hub reports the level at connection

    @property
    def next_due_s(self) -> float:
        """When the strap next tries to notify (also during a drop-out)."""
        return self._next_due_s

    @property
    def battery_pct(self) -> int:
        return self._battery_pct

    @property
    def battery_empty(self) -> bool:
        return self._battery_pct <= 0

    @property
    def stalled(self) -> bool:
        """True while a STALL fault keeps the strap silent on its connection."""
        return self._stalled

    def new_connection(self) -> None:
        """A central connected afresh: a stalled strap notifies again."""
        self._stalled = False

    @property
    def pending_rr_count(self) -> int:
        """RR values detected but not yet sent: they did not fit the last notification."""
        return len(self._backlog_raw)

    def notifications_until(self, t_s: float) -> list[Notification]:
        """Everything the strap sends up to and including ``t_s``, oldest first."""
        out: list[Notification] = []
        while self._next_due_s <= t_s:
            sent = self._tick(self._next_due_s)
            if sent is not None:
                out.append(sent)
            self._schedule_next()
        return out

    def _schedule_next(self) -> None:
        # A nominal 1 Hz grid, each send delayed a little by the BLE connection interval.
        self._nominal_s += self.period_s
        self._next_due_s = self._nominal_s + self._schedule_rng.uniform(0.0, self.jitter_s)

    def _to_raw(self, rr_ms: list[float]) -> list[int]:
        # The strap stamps beats on its own 1/1024 s counter, so rounding never accumulates:
        # the sum of the raw values tracks the sum of the true intervals.
        out = []
        for rr in rr_ms:
            self._beats_ms += rr
            total_raw = round(self._beats_ms * RR_UNITS_PER_S / 1000.0)
            out.append(min(0xFFFF, total_raw - self._beats_raw))
            self._beats_raw = total_raw
        return out

    def _tick(self, t_s: float) -> Notification | None:
        faults = self._faults
        rr_ms = self.model.beats_until(t_s)
        self._battery_pct = level = faults.battery_pct(t_s)
        if level <= 0:
            self._backlog_raw.clear()
            return None
        if faults.stall_starts(t_s):
            self._stalled = True
        if self._stalled or faults.link_down(t_s):
            # Beats during a drop-out are gone, and so is whatever was queued on the link.
            self._to_raw(rr_ms)
            self._backlog_raw.clear()
            return None
        if faults.contact_lost(t_s):
            # No ECG, no beats: straps keep notifying their last heart rate, flagged.
            self._to_raw(rr_ms)
            data = encode_heart_rate_measurement(
                self._bpm, sensor_contact=SensorContact.NOT_DETECTED
            )
        else:
            rr_ms = faults.distort_rr(t_s, rr_ms)
            self._backlog_raw.extend(self._to_raw(rr_ms))
            self._recent_rr_ms.extend(rr_ms)
            if self._recent_rr_ms:
                mean_rr_ms = sum(self._recent_rr_ms) / len(self._recent_rr_ms)
                self._bpm = round(60_000.0 / mean_rr_ms)
            room = max_rr_values(self._bpm, energy=False)
            take = [self._backlog_raw.popleft() for _ in range(min(room, len(self._backlog_raw)))]
            data = encode_heart_rate_measurement(self._bpm, rr_raw=take)
        data = faults.corrupt(t_s, data, MAX_NOTIFICATION_BYTES)
        battery = level if level != self._reported_pct else None
        self._reported_pct = level
        return Notification(t_s, data, battery)
