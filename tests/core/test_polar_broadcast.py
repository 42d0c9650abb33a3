"""Polar's advertised heart rate (manufacturer data, company 0x006B).

The byte strings are the ones published with the layout, written out by hand, never made by
the encoder under test: Polar's SDK unit tests (polarofficial/polar-ble-sdk,
BleAdvertisementContentTest.kt and BlePolarHrAdvertisementTest.kt), the OH1 frame quoted in
the SDK's iOS sources, and an H10 capture (custom-components/ble_monitor issue #985). The
company id (``6b 00``) is not part of the payload: bleak hands it over as the dict key.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiaim_monitor.polar_broadcast import (
    PolarBroadcast,
    PolarBroadcastError,
    decode_polar_broadcast,
    encode_polar_broadcast,
)


def test_h10_capture_gives_its_slow_average_heart_rate() -> None:
    # 6b00 33 00 00 38: status 0x33 (contact, counter 4), kHz 0, fast 0, slow 0x38.
    assert decode_polar_broadcast(bytes.fromhex("33000038")) == PolarBroadcast(
        bpm=56, contact=True, counter=4)


def test_four_byte_frame_from_polar_sdk_test() -> None:
    # "SAGRFC31 format": 6b 00 2b 0b b6 ac → fast 182, slow 172; the SDK shows the slow one.
    got = decode_polar_broadcast(bytes.fromhex("2b0bb6ac"))
    assert got is not None
    assert got.bpm == 172
    assert got.counter == 2


def test_oh1_frame_after_a_data_frame_gives_its_one_value() -> None:
    # 6b 00 72 06 7f 44 37 00 00 00 33 00 3c: a 6-byte data frame, then status, kHz, 60 bpm.
    assert decode_polar_broadcast(bytes.fromhex("72067f443700000033003c")) == PolarBroadcast(
        bpm=60, contact=True, counter=4)


def test_two_data_frames_then_a_three_byte_heart_rate_frame() -> None:
    # "SAGRFC23 format": 72 08 (8 bytes) | 7a 01 (1 byte) | 33 00 00: heart rate 0.
    got = decode_polar_broadcast(bytes.fromhex("720897c9c30000000000" "7a0103" "330000"))
    assert got is not None
    assert got.bpm == 0


def test_data_frames_only_carry_no_heart_rate() -> None:
    assert decode_polar_broadcast(bytes.fromhex("720897c9c30000000000")) is None
    assert decode_polar_broadcast(b"") is None


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("33", "1 bytes"),  # a heart-rate frame cut after its status byte
        ("3300", "2 bytes"),
        ("3300003838", "5 bytes"),  # longer than either known frame
        ("72", "no length"),  # a data frame without its length byte
        ("720897c9", "claims 8 bytes, 2 follow"),  # a data frame that overruns
    ],
)
def test_malformed_broadcast_names_what_is_wrong(payload: str, words: str) -> None:
    with pytest.raises(PolarBroadcastError, match=words):
        decode_polar_broadcast(bytes.fromhex(payload))


def test_contact_bit_clear_is_read() -> None:
    got = decode_polar_broadcast(bytes([0x20, 0x00, 0x00, 0x00]))
    assert got is not None
    assert not got.contact


@given(bpm=st.integers(0, 255), counter=st.integers(0, 7), contact=st.booleans())
def test_encoded_frame_reads_back(bpm: int, counter: int, contact: bool) -> None:
    assert decode_polar_broadcast(encode_polar_broadcast(bpm, counter=counter,
                                                         contact=contact)) == PolarBroadcast(
        bpm=bpm, contact=contact, counter=counter)


@given(st.binary(max_size=40))
def test_any_bytes_decode_or_raise_the_named_error(data: bytes) -> None:
    try:
        got = decode_polar_broadcast(data)
    except PolarBroadcastError:
        return
    assert got is None or 0 <= got.bpm <= 255
