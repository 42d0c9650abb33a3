"""Heart Rate Measurement (0x2A37), Body Sensor Location (0x2A38) and Battery Level (0x2A19).

Test bytes are built by hand with ``struct`` (never with the encoder under test) so that the
decoder is checked against the specification's layout, not against itself:

    flags  bit0 uint16 HR, bits1-2 contact (0/1 not supported, 2 not detected, 3 detected),
           bit3 energy expended uint16 kJ, bit4 RR intervals uint16 in 1/1024 s; little-endian.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiaim_monitor.hrm import (
    MAX_NOTIFICATION_BYTES,
    BodySensorLocation,
    HeartRateMeasurement,
    HeartRateMeasurementError,
    SensorContact,
    decode_battery_level,
    decode_body_sensor_location,
    decode_heart_rate_measurement,
    encode_heart_rate_measurement,
    max_rr_values,
    rr_ms_to_raw,
)

NS = SensorContact.NOT_SUPPORTED
ND = SensorContact.NOT_DETECTED
DT = SensorContact.DETECTED

CONTACT_BY_BITS = {0: NS, 1: NS, 2: ND, 3: DT}
CONTACT_BITS = {NS: 0b00, ND: 0b10, DT: 0b11}


def build(
    bpm: int,
    *,
    wide: bool = False,
    contact_bits: int = 0,
    energy: int | None = None,
    rr: tuple[int, ...] | None = None,
    extra: bytes = b"",
) -> bytes:
    """Lay out a 0x2A37 value by hand; ``rr=None`` leaves the RR flag clear."""
    flags = (0x01 if wide else 0) | (contact_bits << 1)
    body = struct.pack("<H", bpm) if wide else struct.pack("<B", bpm)
    if energy is not None:
        flags |= 0x08
        body += struct.pack("<H", energy)
    if rr is not None:
        flags |= 0x10
        body += struct.pack(f"<{len(rr)}H", *rr)
    return struct.pack("<B", flags) + body + extra


# --------------------------------------------------------------------------------------------
# 1. every flag combination
# --------------------------------------------------------------------------------------------

FLAG_CASES = [
    pytest.param(
        wide,
        bits,
        energy,
        rr,
        id=f"{'u16' if wide else 'u8'}-contact{bits}-"
        f"{'energy' if energy is not None else 'noenergy'}-{'rr' if rr is not None else 'norr'}",
    )
    for wide in (False, True)
    for bits in (0, 1, 2, 3)
    for energy in (None, 0x1234)
    for rr in (None, (1024, 819, 0xFFFF))
]


@pytest.mark.parametrize(("wide", "bits", "energy", "rr"), FLAG_CASES)
def test_every_flag_combination_decodes_to_the_fields_the_flags_announce(wide, bits, energy, rr):
    # 0x012C = 300 needs both bytes; 0xB4 = 180 fits one. A decoder that read the wrong width
    # or the wrong offset would get a different bpm, energy or RR.
    bpm = 0x012C if wide else 0xB4
    data = build(bpm, wide=wide, contact_bits=bits, energy=energy, rr=rr)

    m = decode_heart_rate_measurement(data)

    assert m.bpm == bpm
    assert m.sensor_contact is CONTACT_BY_BITS[bits]
    assert m.energy_expended_kj == energy
    assert m.rr_raw == (rr if rr is not None else ())
    assert m.trailing_bytes == 0
    assert not m.malformed


@pytest.mark.parametrize(("bits", "expected"), sorted(CONTACT_BY_BITS.items()))
def test_contact_bits_1_and_2_map_to_the_four_spec_states(bits, expected):
    assert decode_heart_rate_measurement(build(70, contact_bits=bits)).sensor_contact is expected


def test_uint16_format_is_chosen_by_the_flag_not_by_the_value():
    # flags 0x01: a uint16 72 is two bytes 0x48 0x00; the RR value after it must not shift.
    m = decode_heart_rate_measurement(bytes([0x11, 0x48, 0x00, 0x00, 0x04]))
    assert m.bpm == 72
    assert m.rr_raw == (1024,)


def test_reserved_flag_bits_5_to_7_are_ignored():
    plain = build(72, contact_bits=3, energy=5, rr=(800,))
    with_reserved = bytes([plain[0] | 0xE0]) + plain[1:]
    assert decode_heart_rate_measurement(with_reserved) == decode_heart_rate_measurement(plain)


def test_decoder_accepts_bytearray_and_memoryview():
    data = build(72, contact_bits=3, rr=(1024,))
    expected = decode_heart_rate_measurement(data)
    assert decode_heart_rate_measurement(bytearray(data)) == expected
    assert decode_heart_rate_measurement(memoryview(data)) == expected


def test_sensor_contact_counts_unless_contact_is_reported_missing():
    assert NS.counts
    assert DT.counts
    assert not ND.counts


# --------------------------------------------------------------------------------------------
# 2. spec-style examples and exact RR conversion
# --------------------------------------------------------------------------------------------


def test_flags_0x16_with_bpm_and_two_rr_values():
    # 0x16 = RR present, contact supported and detected, uint8 HR, no energy.
    data = bytes([0x16, 0x48]) + struct.pack("<HH", 1024, 819)
    m = decode_heart_rate_measurement(data)
    assert m == HeartRateMeasurement(
        bpm=72, sensor_contact=DT, energy_expended_kj=None, rr_raw=(1024, 819)
    )


def test_rr_intervals_ms_are_exact_raw_times_1000_over_1024_not_rounded():
    m = decode_heart_rate_measurement(build(72, rr=(1024, 819, 1, 0, 0xFFFF)))
    assert m.rr_intervals_ms == (1000.0, 799.8046875, 0.9765625, 0.0, 63999.0234375)


def test_rr_values_are_kept_oldest_first_in_wire_order():
    m = decode_heart_rate_measurement(build(72, rr=(900, 800, 700)))
    assert m.rr_raw == (900, 800, 700)


def test_energy_expended_and_rr_are_little_endian():
    data = bytes([0x19, 0x2C, 0x01, 0x34, 0x12, 0x00, 0x04])
    m = decode_heart_rate_measurement(data)
    assert (m.bpm, m.energy_expended_kj, m.rr_raw) == (300, 0x1234, (1024,))


@pytest.mark.parametrize(
    ("ms", "raw"),
    [(1000.0, 1024), (799.8046875, 819), (0.0, 0), (500.0, 512), (-5.0, 0), (1e9, 0xFFFF)],
)
def test_rr_ms_to_raw_gives_the_nearest_count_clamped_to_uint16(ms, raw):
    assert rr_ms_to_raw(ms) == raw


@given(st.integers(0, 0xFFFF))
def test_rr_ms_to_raw_inverts_rr_intervals_ms(raw):
    (ms,) = HeartRateMeasurement(72, DT, None, (raw,)).rr_intervals_ms
    assert rr_ms_to_raw(ms) == raw


# --------------------------------------------------------------------------------------------
# 3. faithful decode
# --------------------------------------------------------------------------------------------


def test_bpm_zero_comes_back_as_zero():
    assert decode_heart_rate_measurement(bytes([0x06, 0x00])).bpm == 0


def test_uint16_bpm_32896_comes_back_as_sent():
    m = decode_heart_rate_measurement(bytes([0x01, 0x80, 0x80]))
    assert m.bpm == 32896
    assert not m.malformed


def test_implausible_rr_values_are_not_filtered_by_the_decoder():
    assert decode_heart_rate_measurement(build(72, rr=(0, 1, 0xFFFF))).rr_raw == (0, 1, 0xFFFF)


# --------------------------------------------------------------------------------------------
# 4. truncated data raises HeartRateMeasurementError naming the offset
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "offset", "what"),
    [
        pytest.param(b"", 0, "flags", id="empty"),
        pytest.param(bytes([0x00]), 1, "uint8 heart rate", id="uint8-hr-missing"),
        pytest.param(bytes([0x01]), 1, "uint16 heart rate", id="uint16-hr-missing"),
        pytest.param(bytes([0x01, 0x48]), 1, "uint16 heart rate", id="uint16-hr-one-byte"),
        pytest.param(bytes([0x08, 0x48]), 2, "energy expended", id="energy-missing"),
        pytest.param(bytes([0x08, 0x48, 0x10]), 2, "energy expended", id="energy-one-byte"),
        pytest.param(bytes([0x19, 0x2C, 0x01, 0x10]), 3, "energy expended", id="u16-energy-short"),
    ],
)
def test_truncated_measurement_raises_naming_offset_and_expected_field(data, offset, what):
    with pytest.raises(HeartRateMeasurementError) as info:
        decode_heart_rate_measurement(data)
    message = str(info.value)
    assert f"offset {offset}" in message
    assert what in message
    assert f"got {len(data)} bytes" in message


def test_heart_rate_measurement_error_is_a_value_error():
    assert issubclass(HeartRateMeasurementError, ValueError)
    with pytest.raises(ValueError, match="offset 0"):
        decode_heart_rate_measurement(b"")


# --------------------------------------------------------------------------------------------
# 5. trailing odd byte
# --------------------------------------------------------------------------------------------


def test_trailing_odd_byte_is_flagged_not_turned_into_rr():
    data = build(72, contact_bits=3, rr=(812, 918), extra=b"\x96")
    m = decode_heart_rate_measurement(data)
    assert m.rr_raw == (812, 918)
    assert m.trailing_bytes == 1
    assert m.malformed
    assert m.bpm == 72
    assert m.sensor_contact is DT


def test_single_odd_byte_after_heart_rate_gives_no_rr_at_all():
    m = decode_heart_rate_measurement(bytes([0x10, 0x48, 0x2C]))
    assert m.rr_raw == ()
    assert m.rr_intervals_ms == ()
    assert m.trailing_bytes == 1
    assert m.malformed


def test_trailing_odd_byte_after_energy_keeps_the_energy():
    m = decode_heart_rate_measurement(build(72, energy=99, rr=(1000,), extra=b"\x01"))
    assert (m.energy_expended_kj, m.rr_raw, m.trailing_bytes) == (99, (1000,), 1)


def test_rr_flag_with_zero_rr_bytes_is_an_empty_tuple_not_an_error():
    m = decode_heart_rate_measurement(build(72, contact_bits=3, rr=()))
    assert m.rr_raw == ()
    assert m.trailing_bytes == 0
    assert not m.malformed


def test_bytes_after_the_fields_without_rr_flag_are_trailing_not_rr():
    m = decode_heart_rate_measurement(build(72, contact_bits=3, extra=b"\x00\x04"))
    assert m.rr_raw == ()
    assert m.trailing_bytes == 2
    assert m.malformed


def test_well_formed_measurement_has_no_trailing_bytes():
    m = decode_heart_rate_measurement(build(72, rr=(1000, 1001)))
    assert m.trailing_bytes == 0
    assert not m.malformed


# --------------------------------------------------------------------------------------------
# 6. encoder
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bpm", "energy", "force_uint16", "expected"),
    [
        (72, False, False, 9),
        (72, True, False, 8),
        (300, False, False, 8),
        (300, True, False, 7),
        (72, False, True, 8),
        (72, True, True, 7),
        (0xFF, False, False, 9),
        (0x100, False, False, 8),
    ],
)
def test_max_rr_values_follows_the_spec_limits_for_a_23_byte_mtu(
    bpm, energy, force_uint16, expected
):
    assert max_rr_values(bpm, energy=energy, force_uint16=force_uint16) == expected


@pytest.mark.parametrize(
    ("bpm", "energy", "force_uint16"),
    [(b, e, f) for b in (72, 300) for e in (None, 10) for f in (False, True)],
)
def test_encoder_packs_exactly_max_rr_values_and_never_more_than_20_bytes(
    bpm, energy, force_uint16
):
    rr = list(range(1000, 1012))
    data = encode_heart_rate_measurement(
        bpm, energy_expended_kj=energy, rr_raw=rr, force_uint16=force_uint16
    )
    packed = decode_heart_rate_measurement(data).rr_raw
    assert len(data) <= MAX_NOTIFICATION_BYTES
    assert len(packed) == max_rr_values(bpm, energy=energy is not None, force_uint16=force_uint16)
    assert packed == tuple(rr[: len(packed)])


def test_encoding_12_rr_values_yields_the_first_9():
    rr = [800 + i for i in range(12)]
    data = encode_heart_rate_measurement(72, rr_raw=rr)
    assert len(data) == 20
    assert decode_heart_rate_measurement(data).rr_raw == tuple(rr[:9])
    assert rr == [800 + i for i in range(12)]  # the caller's list is left alone


def test_encoding_with_energy_packs_8_rr_and_with_uint16_hr_and_energy_packs_7():
    rr = list(range(500, 512))
    with_energy = decode_heart_rate_measurement(
        encode_heart_rate_measurement(72, energy_expended_kj=1, rr_raw=rr)
    )
    wide_with_energy = decode_heart_rate_measurement(
        encode_heart_rate_measurement(300, energy_expended_kj=1, rr_raw=rr)
    )
    assert with_energy.rr_raw == tuple(rr[:8])
    assert wide_with_energy.rr_raw == tuple(rr[:7])


@pytest.mark.parametrize(("contact", "bits"), list(CONTACT_BITS.items()))
def test_contact_states_encode_to_bits_1_and_2(contact, bits):
    data = encode_heart_rate_measurement(72, sensor_contact=contact)
    assert (data[0] >> 1) & 0b11 == bits


def test_encoder_lays_out_bytes_as_the_spec_says():
    data = encode_heart_rate_measurement(72, rr_raw=(1024, 819))
    assert data == bytes([0x16, 0x48, 0x00, 0x04, 0x33, 0x03])


def test_encoder_uses_uint16_only_when_needed_or_forced():
    assert encode_heart_rate_measurement(255) == bytes([0x06, 0xFF])
    assert encode_heart_rate_measurement(256) == bytes([0x07, 0x00, 0x01])
    assert encode_heart_rate_measurement(72, force_uint16=True) == bytes([0x07, 0x48, 0x00])


def test_encoder_sets_energy_flag_only_with_energy_and_rr_flag_only_with_rr():
    assert encode_heart_rate_measurement(72, sensor_contact=NS) == bytes([0x00, 0x48])
    assert encode_heart_rate_measurement(72, sensor_contact=NS, energy_expended_kj=0x0102) == (
        bytes([0x08, 0x48, 0x02, 0x01])
    )
    assert encode_heart_rate_measurement(72, sensor_contact=NS, rr_raw=[]) == bytes([0x00, 0x48])


@pytest.mark.parametrize("bpm", [-1, 0x10000])
def test_encoder_rejects_bpm_outside_uint16(bpm):
    with pytest.raises(ValueError, match="uint16"):
        encode_heart_rate_measurement(bpm)


@pytest.mark.parametrize("raw", [-1, 0x10000])
def test_encoder_rejects_rr_outside_uint16(raw):
    with pytest.raises(ValueError, match="RR value"):
        encode_heart_rate_measurement(72, rr_raw=[1000, raw])


# --------------------------------------------------------------------------------------------
# 7. properties
# --------------------------------------------------------------------------------------------


@given(
    bpm=st.integers(0, 0xFFFF),
    contact=st.sampled_from(list(SensorContact)),
    energy=st.none() | st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(0, 0xFFFF), max_size=9),
    force_uint16=st.booleans(),
)
def test_decode_of_encode_round_trips_every_field(bpm, contact, energy, rr, force_uint16):
    data = encode_heart_rate_measurement(
        bpm,
        sensor_contact=contact,
        energy_expended_kj=energy,
        rr_raw=rr,
        force_uint16=force_uint16,
    )
    m = decode_heart_rate_measurement(data)
    fits = max_rr_values(bpm, energy=energy is not None, force_uint16=force_uint16)

    assert len(data) <= MAX_NOTIFICATION_BYTES
    assert m.bpm == bpm
    assert m.sensor_contact is contact
    assert m.energy_expended_kj == energy
    assert m.rr_raw == tuple(rr[:fits])
    assert not m.malformed


@given(
    bpm=st.integers(0, 0xFFFF),
    energy=st.none() | st.integers(0, 0xFFFF),
    rr=st.lists(st.integers(0, 0xFFFF), max_size=40),
)
def test_encoder_never_produces_more_than_20_bytes(bpm, energy, rr):
    data = encode_heart_rate_measurement(bpm, energy_expended_kj=energy, rr_raw=rr)
    assert len(data) <= MAX_NOTIFICATION_BYTES


@given(st.binary(max_size=40))
def test_decode_raises_nothing_but_heart_rate_measurement_error_on_arbitrary_bytes(data):
    try:
        m = decode_heart_rate_measurement(data)
    except HeartRateMeasurementError:
        return
    # Whatever decodes accounts for every byte, and a trailing byte is never an RR value.
    header = 1 + (2 if data[0] & 0x01 else 1) + (2 if data[0] & 0x08 else 0)
    assert header + 2 * len(m.rr_raw) + m.trailing_bytes == len(data)
    assert m.trailing_bytes <= 1 or not data[0] & 0x10


# --------------------------------------------------------------------------------------------
# 8. captures from real straps, as quoted in public questions and issues
#
# Only the byte values are taken from these sources; the expected fields are worked out here
# from the specification (RR raw = low byte + 256 * high byte).
# --------------------------------------------------------------------------------------------

CAPTURES = [
    # Unbranded Bluetooth/ANT+ chest strap read with gatttool, Stack Overflow question 60599696
    # "Garmin BLE heart rate monitor: cannot get HRM data via Bluetooth, what am I missing?"
    # (https://stackoverflow.com/questions/60599696), "Notification handle = 0x000e value: ...".
    pytest.param("16 34 e4 04", 52, DT, (0x04E4,), 0, id="so60599696-a"),
    pytest.param("16 34 a5 04", 52, DT, (0x04A5,), 0, id="so60599696-b"),
    pytest.param("16 33 ea 04", 51, DT, (0x04EA,), 0, id="so60599696-c"),
    pytest.param("16 33 de 04", 51, DT, (0x04DE,), 0, id="so60599696-d"),
    # Polar H10 on Android, Stack Overflow question 67024800 "BLE Heart Rate Senser Value
    # Interpretation" (https://stackoverflow.com/questions/67024800): value [16, 59, 83, 4]
    # in decimal. Flags 0x10: RR present, contact status not supported.
    pytest.param("10 3b 53 04", 59, NS, (1107,), 0, id="so67024800-polar-h10"),
    # Polar H10 read with gatttool, Stack Overflow question 50477232 "Reading Heart Rate
    # Measurement (x2A37) values" (mirrored at devhide.com/reading-heart-rate-measurement-
    # x2a37-values-50477232): one RR, then a notification with two RR values.
    pytest.param("10 48 2c 03", 72, NS, (812,), 0, id="so50477232-polar-h10-one-rr"),
    pytest.param("10 49 5e 03 96 03", 73, NS, (862, 918), 0, id="so50477232-polar-h10-two-rr"),
    # Polar H7 on iOS, Stack Overflow question "How to get data out of bluetooth characteristic
    # in Swift" (mirrored at exchangetuts.com/how-to-get-data-out-of-bluetooth-characteristic-
    # in-swift-1640512564407996): <16447d03> printed by the asker, and the decimal arrays
    # [22, 77, 22, 3], [22, 78, 27, 3, 18, 3], [22, 79, 2, 3], [22, 78, 15, 3] in the answer.
    pytest.param("16 44 7d 03", 68, DT, (893,), 0, id="so-swift-polar-h7-nsdata"),
    pytest.param("16 4d 16 03", 77, DT, (790,), 0, id="so-swift-polar-h7-a"),
    pytest.param("16 4e 1b 03 12 03", 78, DT, (795, 786), 0, id="so-swift-polar-h7-b"),
    pytest.param("16 4f 02 03", 79, DT, (770,), 0, id="so-swift-polar-h7-c"),
    pytest.param("16 4e 0f 03", 78, DT, (783,), 0, id="so-swift-polar-h7-d"),
    # Strap not named, Stack Overflow question 33917836 about 4- and 8-byte 0x2A37 values
    # (mirrored at codewithsundeep.com/discussion/solution/33917836): 1, 3 and 2 RR values.
    pytest.param("16 77 04 02", 119, DT, (516,), 0, id="so33917836-one-rr"),
    pytest.param("16 78 ff 01 ff 01 0c 01", 120, DT, (511, 511, 268), 0, id="so33917836-3rr"),
    pytest.param("16 77 08 02 08 02", 119, DT, (520, 520), 0, id="so33917836-two-rr"),
    # Garmin HRM-Dual, Garmin Connect IQ forum thread "HRM Dual - extra data in heart rate
    # characteristic data" (forums.garmin.com/developer/connect-iq/f/discussion/319496).
    # The poster's tool printed rrList [1044, 52] ms, i.e. raw 1069 and 53. The second RR is
    # implausible, but judging that is the engine's job: the decoder returns what was sent.
    pytest.param("10 38 2d 04 35 00", 56, NS, (1069, 53), 0, id="garmin-hrm-dual"),
    # Heart-rate device (not named) read over Web Bluetooth, WebBluetoothCG/web-bluetooth
    # issue #493 "Read RR Value from HR Device"
    # (https://github.com/WebBluetoothCG/web-bluetooth/issues/493). The values are quoted
    # with five bytes each, so one byte trails the single RR value.
    pytest.param("10 3e b1 03 de", 62, NS, (945,), 1, id="web-bluetooth-493-a"),
    pytest.param("10 39 23 04 35", 57, NS, (1059,), 1, id="web-bluetooth-493-b"),
    pytest.param("10 3d cf 03 ef", 61, NS, (975,), 1, id="web-bluetooth-493-c"),
]


@pytest.mark.parametrize(("hex_bytes", "bpm", "contact", "rr_raw", "trailing"), CAPTURES)
def test_public_captures_from_real_straps_decode_to_the_hand_worked_fields(
    hex_bytes, bpm, contact, rr_raw, trailing
):
    m = decode_heart_rate_measurement(bytes.fromhex(hex_bytes))
    assert m.bpm == bpm
    assert m.sensor_contact is contact
    assert m.energy_expended_kj is None
    assert m.rr_raw == rr_raw
    assert m.rr_intervals_ms == tuple(raw * 1000 / 1024 for raw in rr_raw)
    assert m.trailing_bytes == trailing
    assert m.malformed is (trailing > 0)


def test_capture_rr_in_ms_matches_what_the_garmin_forum_poster_printed():
    m = decode_heart_rate_measurement(bytes.fromhex("1038 2d04 3500"))
    assert [round(ms) for ms in m.rr_intervals_ms] == [1044, 52]


# --------------------------------------------------------------------------------------------
# 9. Battery Level and Body Sensor Location
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, 50, 99, 100])
def test_battery_level_0_to_100_decodes_as_percent(level):
    assert decode_battery_level(bytes([level])) == level


def test_battery_level_accepts_bytearray():
    assert decode_battery_level(bytearray([87])) == 87


@pytest.mark.parametrize("level", [101, 200, 255])
def test_battery_level_above_100_raises_naming_the_value_and_range(level):
    with pytest.raises(HeartRateMeasurementError) as info:
        decode_battery_level(bytes([level]))
    assert str(level) in str(info.value)
    assert "0–100" in str(info.value)


def test_empty_battery_level_raises_saying_it_is_empty():
    with pytest.raises(HeartRateMeasurementError, match="Battery Level is empty"):
        decode_battery_level(b"")


@pytest.mark.parametrize(
    ("value", "location"),
    [
        (0, BodySensorLocation.OTHER),
        (1, BodySensorLocation.CHEST),
        (2, BodySensorLocation.WRIST),
        (3, BodySensorLocation.FINGER),
        (4, BodySensorLocation.HAND),
        (5, BodySensorLocation.EAR_LOBE),
        (6, BodySensorLocation.FOOT),
    ],
)
def test_body_sensor_location_values_0_to_6_map_to_the_spec_locations(value, location):
    assert decode_body_sensor_location(bytes([value])) is location


@pytest.mark.parametrize("value", [7, 200, 255])
def test_reserved_body_sensor_location_is_unknown(value):
    assert decode_body_sensor_location(bytes([value])) is BodySensorLocation.UNKNOWN


def test_empty_body_sensor_location_raises_saying_it_is_empty():
    with pytest.raises(HeartRateMeasurementError, match="Body Sensor Location is empty"):
        decode_body_sensor_location(b"")
