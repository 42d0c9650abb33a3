"""Polar's heart-rate broadcast: the manufacturer-specific data (company id 0x006B) that
Polar straps (H7/H9/H10, OH1, Verity Sense) put in every BLE advertisement. Bytes in,
values out; no Bluetooth stack here.

The layout, as Polar's own SDK reads it (polarofficial/polar-ble-sdk,
``BleAdvertisementContent.processAdvManufacturerData`` and ``BlePolarHrAdvertisement`` in
the Android and iOS sources, and their unit tests) and as others have captured it from an
H10 (custom-components/ble_monitor issue #985: ``6b00 33000038`` → 56 bpm): after the
two-byte company id comes a run of frames.

- A frame whose first byte has bit 6 set (0x40) is Polar's "GPB" data: that byte, a length
  byte n, then n bytes. It carries no heart rate and is skipped.
- The frame whose first byte has bit 6 clear is the heart-rate frame and runs to the end of
  the data: a status byte (bit 0 battery, bit 1 skin contact, bits 2–4 a counter the strap
  steps when it has a new value, bit 5 broadcast, bit 7 status), a "kHz code" byte, then
  either one heart-rate byte (3 bytes in all, older straps and the OH1) or a fast and a
  slow average (4 bytes in all; the SDK shows the slow one, and so do we).

Both SDKs agree on those two frame lengths and read nothing useful from any other, so any
other length, or a GPB frame that overruns the data, is ``PolarBroadcastError``: a
malformed broadcast, counted and dropped by the driver. Data with only GPB frames is not an
error: Polar watches and straps that do not broadcast heart rate send it, and
``decode_polar_broadcast`` returns None for it.

The broadcast carries no RR intervals: a sample heard this way has a heart rate only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

POLAR_COMPANY_ID: Final = 0x006B  # Bluetooth SIG company identifier of Polar Electro Oy
_GPB_BIT: Final = 0x40
_CONTACT_BIT: Final = 0x02
_COUNTER_MASK: Final = 0x1C
_COUNTER_SHIFT: Final = 2
_HR_FRAME_ONE_VALUE: Final = 3  # status, kHz code, heart rate
_HR_FRAME_TWO_VALUES: Final = 4  # status, kHz code, fast average, slow average
_GPB_HEADER_BYTES: Final = 2  # the frame's first byte and its length byte


class PolarBroadcastError(ValueError):
    """Manufacturer data of company 0x006B that is not a heart-rate broadcast we can read;
    the message is one sentence that says what is wrong."""


@dataclass(frozen=True, slots=True)
class PolarBroadcast:
    """One heart-rate frame as a Polar strap advertised it."""

    bpm: int  # 0 when the strap has no value (not worn)
    contact: bool  # the strap says it touches skin
    counter: int  # 0–7, stepped by the strap when it has a new value


def decode_polar_broadcast(payload: bytes | bytearray) -> PolarBroadcast | None:
    """The heart rate in Polar manufacturer data ``payload`` (what follows the company id,
    as bleak's ``AdvertisementData.manufacturer_data[0x006B]`` holds it); None when the data
    has no heart-rate frame. Raises ``PolarBroadcastError`` for data that does not decode."""
    data = bytes(payload)
    offset = 0
    while offset < len(data):
        head = data[offset]
        if head & _GPB_BIT:
            if offset + 1 >= len(data):
                raise PolarBroadcastError(
                    f"Polar broadcast cut short: a data frame at byte {offset} has no length.")
            end = offset + _GPB_HEADER_BYTES + data[offset + 1]
            if end > len(data):
                raise PolarBroadcastError(
                    f"Polar broadcast cut short: a data frame at byte {offset} claims "
                    f"{data[offset + 1]} bytes, {len(data) - offset - _GPB_HEADER_BYTES} "
                    "follow.")
            offset = end
            continue
        frame = data[offset:]
        if len(frame) == _HR_FRAME_ONE_VALUE:
            bpm = frame[2]
        elif len(frame) == _HR_FRAME_TWO_VALUES:
            bpm = frame[3]
        else:
            raise PolarBroadcastError(
                f"Polar heart-rate frame of {len(frame)} bytes: only 3 or 4 are known.")
        return PolarBroadcast(
            bpm=bpm,
            contact=bool(head & _CONTACT_BIT),
            counter=(head & _COUNTER_MASK) >> _COUNTER_SHIFT,
        )
    return None


def encode_polar_broadcast(bpm: int, *, counter: int, contact: bool = True) -> bytes:
    """The manufacturer data (after the company id) a Polar H10 would advertise for
    ``bpm``: the 4-byte heart-rate frame with the same value as fast and slow average. For
    emulated straps and tests."""
    if not 0 <= bpm <= 0xFF:
        raise ValueError(f"a Polar broadcast carries 0–255 bpm, not {bpm}")
    # Bit 5 (broadcast) set, as in captured H10 frames; bit 0 clear: the SDK's tests read a
    # set bit 0 as a battery to replace.
    status = 0x20 | (_CONTACT_BIT if contact else 0) | ((counter & 0x07) << _COUNTER_SHIFT)
    return bytes([status, 0x00, bpm, bpm])
