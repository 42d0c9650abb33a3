"""ANT+ heart-rate pages and the RR intervals rebuilt from them.

Pages are laid out by hand with ``struct`` from the ANT+ Heart Rate device profile (Rev 2.x):

    byte 0 bit 7 toggle, bits 0-6 page; bytes 1-3 page specific; bytes 4-5 beat event time
    uint16 LE in 1/1024 s; byte 6 beat count; byte 7 computed heart rate.

Beat trains are generated here with their true RR intervals, so every RR the rebuilder emits
can be checked against the beat it belongs to, to the tick.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiaim_monitor import i18n
from hiaim_monitor.ant_hrm import (
    BEAT_TIME_UNITS_PER_S,
    MAX_BRIDGE_S,
    PAGE_BYTES,
    PAGE_PERIOD_S,
    AntPageError,
    BeatRebuilder,
    HeartRatePage,
    decode_page,
)


def page_bytes(
    page: int, specific: bytes = b"\xff\xff\xff", *, toggle: bool = False,
    time: int = 0, count: int = 0, bpm: int = 0,
) -> bytes:
    assert len(specific) == 3
    return struct.pack("<B3sHBB", page | (0x80 if toggle else 0), specific, time, count, bpm)


def ms(ticks: int) -> float:
    return ticks * 1000 / 1024


# --------------------------------------------------------------------------------------------
# 1. decoding against the profile's byte layouts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("toggle", [False, True])
def test_page_0_carries_only_the_common_fields(toggle):
    p = decode_page(page_bytes(0, toggle=toggle, time=0x1234, count=0xAB, bpm=72))
    assert p == HeartRatePage(page=0, toggle=toggle, beat_time_1024=0x1234, beat_count=0xAB,
                              bpm=72)


@pytest.mark.parametrize("toggle", [False, True])
def test_page_4_gives_the_previous_beat_time(toggle):
    # byte 1 manufacturer specific (0x5A, ignored), bytes 2-3 previous event time 0x0F00.
    data = bytes([0x04 | (0x80 if toggle else 0), 0x5A, 0x00, 0x0F, 0x34, 0x12, 0x07, 0x91])
    p = decode_page(data)
    assert (p.page, p.toggle) == (4, toggle)
    assert p.previous_beat_time_1024 == 0x0F00
    assert (p.beat_time_1024, p.beat_count, p.bpm) == (0x1234, 7, 0x91)


def test_page_1_operating_time_is_in_units_of_2_s():
    p = decode_page(bytes([0x81, 0x10, 0x27, 0x01, 0, 0, 0, 60]))  # 0x012710 = 75536 units
    assert p.page == 1
    assert p.operating_time_s == 75536 * 2


def test_page_2_gives_manufacturer_and_the_serial_upper_half():
    p = decode_page(bytes([0x02, 0x01, 0xCD, 0xAB, 0, 0, 0, 60]))  # Garmin is id 1
    assert (p.manufacturer_id, p.serial_upper16) == (1, 0xABCD)
    assert (p.serial_upper16 << 16) | 12345 == 0xABCD3039


def test_page_3_gives_hardware_software_and_model():
    p = decode_page(bytes([0x83, 0x05, 0x11, 0x2A, 0, 0, 0, 60]))
    assert (p.hardware_version, p.software_version, p.model_number) == (5, 0x11, 0x2A)
    assert p.previous_beat_time_1024 is None


def test_page_7_battery_level_voltage_and_status():
    # 87 %, 2 + 0x80/256 = 2.5 V, status 3 (ok) in bits 4-6.
    p = decode_page(bytes([0x07, 87, 0x80, 0x32, 0, 0, 0, 60]))
    assert p.battery_pct == 87
    assert p.battery_voltage_v == 2.5
    assert p.battery_status == 3


def test_page_7_unused_level_and_invalid_voltage_are_none():
    p = decode_page(bytes([0x87, 0xFF, 0x12, 0x1F, 0, 0, 0, 60]))  # coarse 0xF = invalid
    assert p.battery_pct is None
    assert p.battery_voltage_v is None
    assert p.battery_status == 1


@pytest.mark.parametrize("number", [5, 6, 0x70])
def test_other_pages_decode_to_the_common_fields(number):
    p = decode_page(page_bytes(number, b"\x01\x02\x03", time=500, count=3, bpm=61))
    assert (p.page, p.beat_time_1024, p.beat_count, p.bpm) == (number, 500, 3, 61)
    assert p.previous_beat_time_1024 is None and p.battery_pct is None


def test_decoder_accepts_bytearray_and_memoryview():
    data = page_bytes(4, b"\x00\x10\x00", time=0x2000, count=1, bpm=70)
    assert decode_page(bytearray(data)) == decode_page(memoryview(data)) == decode_page(data)


@pytest.mark.parametrize("length", [0, 7, 9])
def test_a_page_of_the_wrong_length_is_refused_in_one_sentence(length):
    with pytest.raises(AntPageError, match=rf"has 8 bytes, this one has {length}; it was"):
        decode_page(bytes(length))
    assert PAGE_BYTES == 8


def test_the_length_error_is_danish_in_danish():
    i18n.set_language("da")
    try:
        with pytest.raises(AntPageError, match="denne har 3"):
            decode_page(b"\x00\x00\x00")
    finally:
        i18n.set_language("en")


# --------------------------------------------------------------------------------------------
# 2. a beat train broadcast as pages
# --------------------------------------------------------------------------------------------


@dataclass
class Train:
    """True beats: beat i at ``times[i]`` ticks (unwrapped); its RR is times[i] - times[i-1]."""

    times: list[int]
    count0: int = 0  # the strap's count for beat 0
    time0: int = 0  # the strap's event time for beat 0 (wrapped)

    @classmethod
    def from_rr(cls, rr_ticks: list[int], *, first: int = 300, **kw) -> Train:
        times = [first]
        for rr in rr_ticks:
            times.append(times[-1] + rr)
        return cls(times, **kw)

    def rr(self, i: int) -> int:
        return self.times[i] - self.times[i - 1]

    def pages(self, *, legacy: bool = False) -> list[tuple[float, int, bytes]]:
        """(arrival s, index of the page's beat, bytes) every broadcast period."""
        out, i, n = [], 0, 0
        end = self.times[-1] + 2 * BEAT_TIME_UNITS_PER_S
        while (t := n * PAGE_PERIOD_S) * BEAT_TIME_UNITS_PER_S < end:
            while i + 1 < len(self.times) and self.times[i + 1] <= t * BEAT_TIME_UNITS_PER_S:
                i += 1
            if self.times[i] <= t * BEAT_TIME_UNITS_PER_S:
                out.append((t, i, self.page(i, n, legacy=legacy)))
            n += 1
        return out

    def wrapped(self, i: int) -> int:
        return (self.time0 + self.times[i] - self.times[0]) % 65536

    def page(self, i: int, n: int, *, legacy: bool) -> bytes:
        count = (self.count0 + i) % 256
        if legacy:
            return page_bytes(0, time=self.wrapped(i), count=count, bpm=70)
        block = n // 4
        number = (1, 2, 3)[block // 4 % 3] if block % 4 == 3 else 4
        specific = (b"\x00" + struct.pack("<H", self.wrapped(i - 1)) if number == 4 and i
                    else b"\x10\x00\x00")
        return page_bytes(number, specific, toggle=bool(block % 2), time=self.wrapped(i),
                          count=count, bpm=70)


def feed(rebuilder: BeatRebuilder, pages, *, with_t: bool = True):
    """Push pages; return [(page's beat index, RRs emitted)]."""
    return [(i, rebuilder.push(decode_page(data), t if with_t else None))
            for t, i, data in pages]


def assert_exact(train: Train, results) -> int:
    """Every emitted RR is the true RR of the newest beats on its page; returns how many."""
    emitted = 0
    for i, rr in results:
        want = tuple(ms(train.rr(j)) for j in range(i - len(rr) + 1, i + 1))
        assert rr == want, f"beat {i}: {rr} is not {want}"
        emitted += len(rr)
    return emitted


def test_every_page_delivered_rebuilds_every_beat_but_the_first_two_exactly():
    train = Train.from_rr([820, 790, 1024, 700, 655, 900, 1100, 870] * 4)
    r = BeatRebuilder()
    results = feed(r, train.pages())
    assert assert_exact(train, results) == r.beats == len(train.times) - 2
    # The first page only anchors; the first beat seen arrive is counted but not measured.
    assert r.missed_beats == 1
    assert r.gaps == 0


def test_known_answer_two_pages():
    r = BeatRebuilder()
    assert r.push(decode_page(page_bytes(0, time=100, count=5)), 0.0) == ()
    assert r.push(decode_page(page_bytes(0, time=900, count=6)), 1.0) == ()  # anchors
    assert r.push(decode_page(page_bytes(0, time=900, count=6)), 1.25) == ()  # duplicate
    assert r.push(decode_page(page_bytes(0, time=1720, count=7)), 1.8) == (ms(820),)
    assert ms(820) == 800.78125
    assert (r.beats, r.missed_beats) == (1, 1)


def test_event_time_and_count_roll_over():
    # Starts 3 beats before the count wraps and 1.5 s before the event time wraps, and runs
    # for 300 beats: both wrap (the time four times), and nothing is lost.
    train = Train.from_rr([800] * 300, count0=253, time0=65536 - 1536)
    r = BeatRebuilder()
    results = feed(r, train.pages())
    assert assert_exact(train, results) == r.beats == 299
    assert r.missed_beats == 1 and r.gaps == 0


def test_duplicate_pages_emit_nothing_twice():
    train = Train.from_rr([800, 810, 820, 830])
    r = BeatRebuilder()
    results = []
    for t, i, data in train.pages():
        results.append((i, r.push(decode_page(data), t)))
        results.append((i, r.push(decode_page(data), t + 0.01)))
    assert assert_exact(train, results) == 3


def drop(pages, lost: set[int]):
    return [p for n, p in enumerate(pages) if n not in lost]


def test_missed_pages_without_page_4_emit_nothing_for_the_beats_in_the_gap():
    train = Train.from_rr([800] * 20)
    pages = train.pages(legacy=True)
    r = BeatRebuilder()
    results = feed(r, drop(pages, set(range(20, 32))))  # about 3 s of pages lost
    emitted = assert_exact(train, results)
    assert emitted == r.beats < len(train.times) - 2
    assert r.beats + r.missed_beats == len(train.times) - 1
    gap = [rr for i, rr in results if rr == ()]
    assert gap  # nothing invented for the beats that came while no page did


def test_missed_pages_with_page_4_give_the_last_beat_exactly():
    train = Train.from_rr([700, 750, 800, 850, 900, 950, 1000, 1050] * 3)
    pages = train.pages()
    # Lose the pages that carry beats 8, 9 and 10: the page with beat 11 says its previous.
    lost = {n for n, (_, i, _) in enumerate(pages) if 8 <= i <= 10}
    r = BeatRebuilder()
    results = feed(r, drop(pages, lost))
    assert assert_exact(train, results) == r.beats
    after_gap = next(rr for i, rr in results if i == 11)
    assert after_gap == (ms(train.rr(11)),)
    assert r.beats + r.missed_beats == len(train.times) - 1


def test_two_new_beats_on_page_4_give_both_exactly():
    r = BeatRebuilder()
    flip = [page_bytes(4, b"\x00\x00\x00", toggle=tog, time=0, count=0) for tog in (0, 1)]
    for n, data in enumerate(flip):
        r.push(decode_page(data), n * 0.25)
    r.push(decode_page(page_bytes(4, b"\x00\x00\x00", toggle=True, time=800, count=1)), 1.0)
    # beats at 1600 and 2500 both new; previous = 1600.
    two = page_bytes(4, b"\x00" + struct.pack("<H", 1600), toggle=True, time=2500, count=3)
    assert r.push(decode_page(two), 2.6) == (ms(800), ms(900))


def test_a_legacy_strap_whose_byte_0_reads_4_is_not_taken_for_page_4():
    # Legacy straps never flip the toggle; their bytes 0-3 need not be a page at all. A
    # rebuilder that read bytes 2-3 as a previous beat time would invent this RR.
    r = BeatRebuilder()
    garbage = b"\x00\x10\x02"
    for n, (time, count) in enumerate([(0, 0), (800, 1), (800, 1), (3300, 4)]):
        rr = r.push(decode_page(page_bytes(4, garbage, time=time, count=count)), n * 1.0)
        assert rr == ()
    assert not r.paged
    assert r.missed_beats == 4


def test_page_4_is_trusted_when_its_previous_beat_disagrees_with_the_last_page():
    r = BeatRebuilder()
    pages = [(0, 0, 0, 0.0), (1, 0, 0, 0.25), (1, 800, 1, 1.0)]
    for tog, time, count, t in pages:
        r.push(decode_page(page_bytes(4, b"\x00\x00\x00", toggle=bool(tog), time=time,
                                      count=count)), t)
    # Previous says 900, the last page said 800: page 4's own 1750 - 900 wins.
    odd = page_bytes(4, b"\x00" + struct.pack("<H", 900), toggle=True, time=1750, count=2)
    assert r.push(decode_page(odd), 1.8) == (ms(850),)
    assert r.disagreements == 1


def test_a_strap_switched_off_and_on_gives_no_rr_across_the_restart():
    before = Train.from_rr([800] * 10)
    after = Train.from_rr([800] * 10, count0=200, time0=40000)
    r = BeatRebuilder()
    first = feed(r, before.pages())
    offset = before.pages()[-1][0] + 2.0
    second = [(i, r.push(decode_page(data), t + offset)) for t, i, data in after.pages()]
    assert assert_exact(before, first) == 9
    assert assert_exact(after, second) == 9  # afresh: anchor page, then the first beat
    assert r.gaps == 1


def test_a_restart_where_only_the_time_jumps_is_caught_without_arrival_times():
    r = BeatRebuilder()
    for data in (page_bytes(0, time=0, count=0), page_bytes(0, time=800, count=1)):
        r.push(decode_page(data))
    # Count +1 but the time says 30 s: not a heartbeat.
    assert r.push(decode_page(page_bytes(0, time=30720, count=2))) == ()
    assert r.gaps == 1
    assert r.push(decode_page(page_bytes(0, time=30720, count=2))) == ()
    assert r.push(decode_page(page_bytes(0, time=31520, count=3))) == ()  # anchors again
    assert r.push(decode_page(page_bytes(0, time=32320, count=4))) == (ms(800),)


def test_an_out_of_range_gap_longer_than_the_event_time_wraps_gives_nothing():
    # 65 s (66560 ticks) later the wrapped time moved just 1 s and the count by 1: plausible
    # on its face. The arrival time shows the gap.
    r = BeatRebuilder()
    for t, time, count in [(0.0, 0, 0), (0.8, 800, 1), (1.6, 1600, 2)]:
        r.push(decode_page(page_bytes(0, time=time, count=count)), t)
    late = page_bytes(0, time=(1600 + 66560 + 1024) % 65536, count=3)
    assert r.push(decode_page(late), 1.6 + 65 + 1) == ()
    assert r.gaps == 1
    assert MAX_BRIDGE_S < 65


def test_a_strap_broadcasting_without_beats_for_over_64_s_gives_nothing_after():
    # Pages keep arriving but no beat for 70 s, then one: its wrapped time is 6 s on, or
    # could be anything; the time we watched the old beat shows it is not one RR.
    r = BeatRebuilder()
    r.push(decode_page(page_bytes(0, time=0, count=0)), 0.0)
    r.push(decode_page(page_bytes(0, time=800, count=1)), 0.8)
    for n in range(1, 280):
        r.push(decode_page(page_bytes(0, time=800, count=1)), 0.8 + n * 0.25)
    beat = (800 + 64 * 1024 + 1000) % 65536  # wrapped: 1000 ticks after the old beat
    assert r.push(decode_page(page_bytes(0, time=beat, count=2)), 0.8 + 280 * 0.25) == ()
    assert r.beats == 0


def test_reset_starts_afresh():
    r = BeatRebuilder()
    for t, time, count in [(0.0, 0, 0), (0.8, 800, 1)]:
        r.push(decode_page(page_bytes(0, time=time, count=count)), t)
    r.reset()
    assert r.push(decode_page(page_bytes(0, time=1600, count=2)), 1.6) == ()
    assert r.push(decode_page(page_bytes(0, time=2400, count=3)), 2.4) == ()
    assert r.push(decode_page(page_bytes(0, time=3200, count=4)), 3.2) == (ms(800),)


# --------------------------------------------------------------------------------------------
# 3. properties: any beat train, any pages lost
# --------------------------------------------------------------------------------------------

RR_TICKS = st.integers(min_value=205, max_value=3072)  # 200.2 ms .. 3000 ms


@settings(max_examples=60, deadline=None)
@given(
    rr=st.lists(RR_TICKS, min_size=2, max_size=400),
    count0=st.integers(0, 255),
    time0=st.integers(0, 65535),
    legacy=st.booleans(),
    with_t=st.booleans(),
    lost=st.sets(st.integers(0, 2000), max_size=600),
    burst=st.tuples(st.integers(0, 2000), st.integers(0, 400)),  # up to 100 s out of range
)
def test_every_rr_emitted_is_a_true_rr_and_none_is_invented(
    rr, count0, time0, legacy, with_t, lost, burst
):
    train = Train.from_rr(rr, count0=count0, time0=time0)
    start, length = burst
    pages = drop(train.pages(legacy=legacy), lost | set(range(start, start + length)))
    if not pages:
        return
    r = BeatRebuilder()
    results = feed(r, pages, with_t=with_t)
    assert assert_exact(train, results) == r.beats
    if r.gaps == 0:
        first, last = results[0][0], results[-1][0]
        assert r.beats + r.missed_beats == last - first


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=8, max_size=8),
                          st.floats(0, 1e4, allow_nan=False)), max_size=60))
def test_arbitrary_pages_never_give_a_negative_or_giant_rr(pages):
    r = BeatRebuilder()
    for data, t in sorted(pages, key=lambda p: p[1]):
        for value in r.push(decode_page(data), t):
            assert 200 <= value <= 3000
