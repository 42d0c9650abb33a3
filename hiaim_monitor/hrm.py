"""Bluetooth Heart Rate Service codec: Heart Rate Measurement (0x2A37), Body Sensor
Location (0x2A38) and Battery Level (0x2A19).

Field layout from the Bluetooth SIG Heart Rate Service 1.0 specification and the GATT
Specification Supplement (Heart Rate Measurement characteristic):

    byte 0   flags  bit0   heart-rate value format: 0 = uint8, 1 = uint16
                    bit1-2 sensor contact status: 0/1 not supported, 2 supported but not
                           detected, 3 supported and detected
                    bit3   energy expended present (uint16, kilojoules)
                    bit4   RR intervals present (uint16 each, 1/1024 s, oldest first)
    then     heart rate, energy expended, RR intervals, all little-endian.

The decoder is faithful: it returns what was sent (a bpm of 0 is 0). Judging plausibility is
the engine's job.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

# 16-bit UUIDs of the services and characteristics we use, in full 128-bit form.
_BASE: Final = "0000{:04x}-0000-1000-8000-00805f9b34fb"
HEART_RATE_SERVICE_UUID: Final = _BASE.format(0x180D)
HEART_RATE_MEASUREMENT_UUID: Final = _BASE.format(0x2A37)
BODY_SENSOR_LOCATION_UUID: Final = _BASE.format(0x2A38)
HEART_RATE_CONTROL_POINT_UUID: Final = _BASE.format(0x2A39)
BATTERY_SERVICE_UUID: Final = _BASE.format(0x180F)
BATTERY_LEVEL_UUID: Final = _BASE.format(0x2A19)

RR_UNITS_PER_S: Final = 1024  # RR values are in 1/1024 s
MAX_NOTIFICATION_BYTES: Final = 20  # ATT payload at the default MTU of 23

_FLAG_HR_UINT16: Final = 0x01
_FLAG_CONTACT_MASK: Final = 0x06
_FLAG_ENERGY: Final = 0x08
_FLAG_RR: Final = 0x10


class HeartRateMeasurementError(ValueError):
    """Bytes that cannot be a Heart Rate Measurement."""


class SensorContact(Enum):
    NOT_SUPPORTED = "not_supported"
    NOT_DETECTED = "not_detected"
    DETECTED = "detected"

    @property
    def counts(self) -> bool:
        """True when samples with this status may be trusted for skin contact."""
        return self is not SensorContact.NOT_DETECTED


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    bpm: int
    sensor_contact: SensorContact
    energy_expended_kj: int | None
    rr_raw: tuple[int, ...]  # 1/1024 s units, oldest first
    trailing_bytes: int = 0  # bytes at the end that did not decode (an odd RR byte)

    @property
    def rr_intervals_ms(self) -> tuple[float, ...]:
        """RR intervals in milliseconds, exact (raw × 1000 / 1024), not rounded."""
        return tuple(raw * 1000 / RR_UNITS_PER_S for raw in self.rr_raw)

    @property
    def malformed(self) -> bool:
        return self.trailing_bytes > 0


def _contact_from_flags(flags: int) -> SensorContact:
    bits = (flags & _FLAG_CONTACT_MASK) >> 1
    if bits == 3:
        return SensorContact.DETECTED
    if bits == 2:
        return SensorContact.NOT_DETECTED
    return SensorContact.NOT_SUPPORTED


def _need(data: bytes, offset: int, size: int, what: str) -> None:
    if len(data) < offset + size:
        raise HeartRateMeasurementError(
            f"Heart Rate Measurement too short: expected {what} ({size} byte"
            f"{'s' if size > 1 else ''}) at byte offset {offset}, got {len(data)} bytes in all"
        )


def decode_heart_rate_measurement(data: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Decode one 0x2A37 notification.

    Raises HeartRateMeasurementError when the flags promise fields that are missing. A
    trailing odd byte after the RR values is reported in ``trailing_bytes``, never turned into
    an RR value.
    """
    data = bytes(data)
    _need(data, 0, 1, "the flags byte")
    flags = data[0]
    offset = 1
    if flags & _FLAG_HR_UINT16:
        _need(data, offset, 2, "a uint16 heart rate")
        (bpm,) = struct.unpack_from("<H", data, offset)
        offset += 2
    else:
        _need(data, offset, 1, "a uint8 heart rate")
        bpm = data[offset]
        offset += 1
    energy: int | None = None
    if flags & _FLAG_ENERGY:
        _need(data, offset, 2, "a uint16 energy expended")
        (energy,) = struct.unpack_from("<H", data, offset)
        offset += 2
    rr: tuple[int, ...] = ()
    if flags & _FLAG_RR:
        count = (len(data) - offset) // 2
        rr = struct.unpack_from(f"<{count}H", data, offset)
        offset += 2 * count
    return HeartRateMeasurement(
        bpm=bpm,
        sensor_contact=_contact_from_flags(flags),
        energy_expended_kj=energy,
        rr_raw=tuple(rr),
        trailing_bytes=len(data) - offset,
    )


def rr_ms_to_raw(rr_ms: float) -> int:
    """Nearest 1/1024 s count for an RR interval in ms, clamped to uint16."""
    return max(0, min(0xFFFF, round(rr_ms * RR_UNITS_PER_S / 1000)))


def max_rr_values(bpm: int, *, energy: bool, force_uint16: bool = False) -> int:
    """How many RR values fit one notification next to the other fields.

    Pass the same ``force_uint16`` as to the encoder: a uint16 heart rate takes one RR slot.
    """
    used = 1 + (2 if force_uint16 or bpm > 0xFF else 1) + (2 if energy else 0)
    return (MAX_NOTIFICATION_BYTES - used) // 2


def encode_heart_rate_measurement(
    bpm: int,
    *,
    sensor_contact: SensorContact = SensorContact.DETECTED,
    energy_expended_kj: int | None = None,
    rr_raw: Sequence[int] = (),
    force_uint16: bool = False,
) -> bytes:
    """Encode one 0x2A37 value, the inverse of the decoder.

    Packs at most as many RR values as fit a 20-byte notification; the caller carries the
    rest over to the next one (see ``max_rr_values``). RR values are 1/1024 s counts.
    """
    if not 0 <= bpm <= 0xFFFF:
        raise ValueError(f"heart rate {bpm} does not fit a uint16")
    wide = force_uint16 or bpm > 0xFF
    flags = _FLAG_HR_UINT16 if wide else 0
    flags |= {
        SensorContact.NOT_SUPPORTED: 0,
        SensorContact.NOT_DETECTED: 0x04,
        SensorContact.DETECTED: 0x06,
    }[sensor_contact]
    out = bytearray([0])
    out += struct.pack("<H", bpm) if wide else bytes([bpm])
    if energy_expended_kj is not None:
        flags |= _FLAG_ENERGY
        out += struct.pack("<H", max(0, min(0xFFFF, energy_expended_kj)))
    if rr_raw:
        flags |= _FLAG_RR
        room = (MAX_NOTIFICATION_BYTES - len(out)) // 2
        for raw in list(rr_raw)[:room]:
            if not 0 <= raw <= 0xFFFF:
                raise ValueError(f"RR value {raw} does not fit a uint16")
            out += struct.pack("<H", raw)
    out[0] = flags
    return bytes(out)


class BodySensorLocation(Enum):
    OTHER = 0
    CHEST = 1
    WRIST = 2
    FINGER = 3
    HAND = 4
    EAR_LOBE = 5
    FOOT = 6
    UNKNOWN = -1


def decode_body_sensor_location(data: bytes | bytearray) -> BodySensorLocation:
    """Decode 0x2A38 (one uint8); values the spec reserves come back as UNKNOWN."""
    if len(data) < 1:
        raise HeartRateMeasurementError("Body Sensor Location is empty: expected 1 byte")
    try:
        return BodySensorLocation(data[0])
    except ValueError:
        return BodySensorLocation.UNKNOWN


def decode_battery_level(data: bytes | bytearray) -> int:
    """Decode 0x2A19: percent 0–100 in one uint8."""
    if len(data) < 1:
        raise HeartRateMeasurementError("Battery Level is empty: expected 1 byte")
    level = data[0]
    if level > 100:
        raise HeartRateMeasurementError(f"Battery Level {level} % is outside 0–100")
    return level
