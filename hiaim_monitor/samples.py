"""What sources deliver: heart-rate samples and per-strap status events.

Every driver (simulated, BLE, replay) turns what a strap sends into these objects in its
notification callback and puts them on one thread-safe queue; nothing else crosses from the
sensor thread to the consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import (
    HeartRateMeasurementError,
    SensorContact,
    decode_heart_rate_measurement,
)
from hiaim_monitor.strap_notes import StrapNote


@dataclass(frozen=True, slots=True)
class HeartRateSample:
    strap_id: str
    t_mono_s: float  # arrival, on the session clock
    wall_utc: datetime  # arrival, UTC
    bpm: int
    rr_ms: tuple[float, ...]  # oldest first; beat times come from these, not from arrival
    contact: SensorContact
    energy_kj: int | None = None
    malformed_tail: bool = False  # an odd trailing byte was dropped
    broadcast: bool = False  # heard in an advertisement, no connection: no RR


class StrapState(Enum):
    DISCOVERED = "discovered"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    LOST = "lost"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StrapStatus:
    strap_id: str
    t_mono_s: float
    state: StrapState
    detail: str = ""  # one sentence for the operator in English, empty when the state says it all
    # Why, as a code: a window shows ``note.translated()``. Given a note and no detail, the
    # detail is the note's English sentence.
    note: StrapNote | None = None

    def __post_init__(self) -> None:
        if self.note is not None and not self.detail:
            object.__setattr__(self, "detail", self.note.english())


@dataclass(frozen=True, slots=True)
class BatteryReading:
    strap_id: str
    t_mono_s: float
    level_pct: int


@dataclass(frozen=True, slots=True)
class PacketDropped:
    """A notification that could not be decoded: counted, never fatal."""

    strap_id: str
    t_mono_s: float
    reason: str
    data: bytes


@dataclass(frozen=True, slots=True)
class StrapSighting:
    """A heart-rate strap heard advertising nearby (before or without a connection)."""

    strap_id: str
    t_mono_s: float
    name: str  # what it advertises, e.g. "Polar H10 8C4D2F1A"
    rssi_dbm: int | None  # signal strength; None when the stack does not say


@dataclass(frozen=True, slots=True)
class RadioNotice:
    """About a whole radio rather than one strap (no ANT USB stick plugged in, the last one
    pulled out): ``note`` says what, None once it is over. ``strap_id`` is the radio's name
    (``strap_ids.ANT``…), which names no strap, so no participant takes it."""

    strap_id: str
    t_mono_s: float
    note: StrapNote | None


SourceEvent = (HeartRateSample | StrapStatus | BatteryReading | PacketDropped | StrapSighting
               | RadioNotice)


def sample_from_notification(
    strap_id: str, data: bytes | bytearray, clock: Clock
) -> HeartRateSample | PacketDropped:
    """Timestamp and decode one 0x2A37 notification. Cheap: safe in a BLE callback."""
    t = clock.monotonic()
    try:
        m = decode_heart_rate_measurement(data)
    except HeartRateMeasurementError as exc:
        return PacketDropped(strap_id, t, str(exc), bytes(data))
    return HeartRateSample(
        strap_id=strap_id,
        t_mono_s=t,
        wall_utc=clock.now_utc(),
        bpm=m.bpm,
        rr_ms=m.rr_intervals_ms,
        contact=m.sensor_contact,
        energy_kj=m.energy_expended_kj,
        malformed_tail=m.malformed,
    )
