"""ANT+ heart-rate page codec: the 8-byte broadcast pages of an ANT+ heart-rate strap, and the
RR intervals rebuilt from the beat times and counts they carry.

Layout from Dynastream/Garmin, "ANT+ Device Profile — Heart Rate", Rev 2.x (data pages 0–7).
A strap broadcasts one page about 4.06 times a second (channel period 8070/32768 s):

    byte 0   bit 7    page-change toggle: flips every 4 pages on straps that send pages other
                      than 0; legacy straps send page 0 and never flip it
             bits 0-6 data page number
    byte 1-3          page specific (below)
    byte 4-5          heart beat event time of the last beat, uint16 LE, 1/1024 s (wraps at 64 s)
    byte 6            heart beat count, uint8 (wraps at 256)
    byte 7            computed heart rate, bpm (0 = invalid)

    page 0  bytes 1-3 reserved
    page 1  bytes 1-3 cumulative operating time, uint24 LE, units of 2 s
    page 2  byte 1 manufacturer id; bytes 2-3 serial number's upper 16 bits, uint16 LE
    page 3  byte 1 hardware version; byte 2 software version; byte 3 model number
    page 4  byte 1 manufacturer specific; bytes 2-3 previous heart beat event time, uint16 LE
    page 7  byte 1 battery level % (0xFF = not used); byte 2 fractional voltage, 1/256 V;
            byte 3 bits 0-3 coarse voltage, V (0xF = invalid), bits 4-6 battery status
    pages 5 and 6 (swim interval, capabilities) and any others: the common bytes 4-7 only.

The decoder is faithful to one page. Whether bytes 0-3 mean anything at all is known only
across pages: a legacy strap does not flip the toggle and its byte 0 is not a page number, so
``BeatRebuilder`` uses page 4's previous beat time only once it has seen the toggle flip.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from hiaim_monitor.i18n import tr

BEAT_TIME_UNITS_PER_S: Final = 1024  # beat event times are in 1/1024 s
PAGE_BYTES: Final = 8
BEAT_TIME_MODULUS: Final = 1 << 16  # the event time wraps every 64 s
BEAT_COUNT_MODULUS: Final = 1 << 8
PAGE_PERIOD_S: Final = 8070 / 32768  # the profile's broadcast period, about 4.06 Hz

# RR intervals outside these bounds are not a heartbeat following the last one but a strap
# that restarted or an event time that wrapped unseen: nothing is emitted for them.
MIN_RR_MS: Final = 200.0  # 300 bpm
MAX_RR_MS: Final = 3000.0  # 20 bpm
# Longest time, by arrival, the rebuilder bridges between a beat and the next: below both the
# event time's 64 s wrap and the count's 256 beats at 300 bpm (51.2 s), with room for jitter.
MAX_BRIDGE_S: Final = 45.0
# How far arrival stamps (radio, USB, thread scheduling) may stray from the strap's own clock.
ARRIVAL_JITTER_S: Final = 0.5

_TOGGLE: Final = 0x80
_PAGE_MASK: Final = 0x7F
_BATTERY_LEVEL_NOT_USED: Final = 0xFF
_COARSE_VOLTAGE_INVALID: Final = 0x0F


class AntPageError(ValueError):
    """Bytes that cannot be an ANT+ heart-rate page."""


@dataclass(frozen=True, slots=True)
class HeartRatePage:
    page: int  # data page number with the toggle bit removed (0..127)
    toggle: bool  # the page-change toggle bit (bit 7 of byte 0)
    beat_time_1024: int  # event time of the last beat, 1/1024 s, wraps at 65536
    beat_count: int  # wraps at 256
    bpm: int  # computed heart rate, 0 = invalid
    previous_beat_time_1024: int | None = None  # page 4
    operating_time_s: int | None = None  # page 1 (sent in units of 2 s)
    manufacturer_id: int | None = None  # page 2
    serial_upper16: int | None = None  # page 2 (serial = upper16 << 16 | device number)
    hardware_version: int | None = None  # page 3
    software_version: int | None = None  # page 3
    model_number: int | None = None  # page 3
    battery_pct: int | None = None  # page 7 (None when "not used" or above 100)
    battery_voltage_v: float | None = None  # page 7 (coarse + fractional/256); None if invalid
    battery_status: int | None = None  # page 7 bits 4-6: 1 new … 5 critical, 7 invalid


def decode_page(data: bytes | bytearray | memoryview) -> HeartRatePage:
    """Decode one 8-byte heart-rate broadcast page.

    Raises AntPageError when the page is not 8 bytes long. Page-specific bytes of pages the
    profile does not define for heart-rate straps are ignored.
    """
    data = bytes(data)
    if len(data) != PAGE_BYTES:
        raise AntPageError(
            tr("An ANT+ heart-rate page has {want} bytes, this one has {got}; it was dropped.")
            .format(want=PAGE_BYTES, got=len(data))
        )
    page = data[0] & _PAGE_MASK
    beat_time, beat_count, bpm = struct.unpack_from("<HBB", data, 4)
    fields: dict[str, int | float | None] = {}
    if page == 1:
        fields["operating_time_s"] = int.from_bytes(data[1:4], "little") * 2
    elif page == 2:
        fields["manufacturer_id"] = data[1]
        (fields["serial_upper16"],) = struct.unpack_from("<H", data, 2)
    elif page == 3:
        fields.update(hardware_version=data[1], software_version=data[2], model_number=data[3])
    elif page == 4:
        (fields["previous_beat_time_1024"],) = struct.unpack_from("<H", data, 2)
    elif page == 7:
        level = data[1]
        coarse = data[3] & 0x0F
        fields["battery_pct"] = level if level <= 100 else None
        fields["battery_voltage_v"] = (
            None if coarse == _COARSE_VOLTAGE_INVALID else coarse + data[2] / 256
        )
        fields["battery_status"] = (data[3] >> 4) & 0x07
    return HeartRatePage(
        page=page,
        toggle=bool(data[0] & _TOGGLE),
        beat_time_1024=beat_time,
        beat_count=beat_count,
        bpm=bpm,
        **fields,  # type: ignore[arg-type]
    )


def ticks_to_ms(ticks: int) -> float:
    """A 1/1024 s count in milliseconds, exact (ticks × 1000 / 1024), not rounded."""
    return ticks * 1000 / BEAT_TIME_UNITS_PER_S


def _plausible(ticks: int) -> bool:
    return MIN_RR_MS <= ticks_to_ms(ticks) <= MAX_RR_MS


class BeatRebuilder:
    """One strap's beats from its pages.

    An RR interval is emitted only when both of its beats are known to the tick: the earlier
    one seen arrive on an earlier page (or named by page 4's previous beat time), the later one
    on this page. So the first page after a start or reset, and the first new beat after it,
    only anchor: the first page's beat may be arbitrarily old (a strap that broadcast for over
    64 s without a beat shows an event time that has wrapped). Beats the strap counted whose RR
    cannot be known are added to ``missed_beats``; none is ever split out of a gap.

    Page 4 and missed pages: when k > 1 beats are new, page 4's (event − previous) is the
    last one's RR, and for k = 2 (previous − the last beat seen) is the first one's too.
    When k = 1 and page 4's previous beat time disagrees with the beat seen on the last page,
    page 4 is trusted (it is one transmission, the memory of the last page may predate a
    restart) and its RR emitted if plausible; ``disagreements`` counts these. Page 4 is read
    only once the toggle has flipped (``paged``): a legacy strap's byte 0 is no page number.

    ``t_s`` (optional, any monotonic clock in seconds, the page's arrival) lets the rebuilder
    notice what the wrapping fields cannot show: a beat more than MAX_BRIDGE_S after the last
    one seen, or an event time that moved less than the time the last beat was watched. Then
    it starts afresh and counts a gap in ``gaps`` (the beats in it are unknowable, so they are
    in neither ``beats`` nor ``missed_beats``). Without ``t_s`` only the RR bounds guard this.
    """

    def __init__(self) -> None:
        self.beats = 0  # beats whose RR was rebuilt
        self.missed_beats = 0  # beats counted by the strap whose RR could not be rebuilt
        self.gaps = 0  # times the pages could not be related to the last ones: started afresh
        self.disagreements = 0  # page 4's previous beat time unlike the last beat seen
        self.reset()

    def reset(self) -> None:
        """Strap switched off or lost: the next page starts afresh (the counters stay)."""
        self._count: int | None = None
        self._time = 0
        # The last beat seen arrive (not only present on the first page), so its time is known.
        self._fresh = False
        self._anchor_t_s: float | None = None  # arrival of the first page with the last beat
        self._since_t_s: float | None = None  # arrival of the page before it (beat came after)
        self._last_t_s: float | None = None  # arrival of the latest page
        self._toggle: bool | None = None
        self._paged = False  # the toggle has flipped: byte 0 is a page number

    @property
    def paged(self) -> bool:
        """True once the strap has flipped its page toggle, so page numbers mean something."""
        return self._paged

    def push(self, page: HeartRatePage, t_s: float | None = None) -> tuple[float, ...]:
        """RR intervals in ms (oldest first) of the beats that are new since the last page;
        () when none are new, or when they cannot be known."""
        if self._toggle is not None and page.toggle != self._toggle:
            self._paged = True
        self._toggle = page.toggle
        last_t_s, self._last_t_s = self._last_t_s, t_s
        if self._count is None:
            self._anchor(page, fresh=False, anchor_t_s=t_s, since_t_s=None)
            return ()
        k = (page.beat_count - self._count) % BEAT_COUNT_MODULUS
        dt = (page.beat_time_1024 - self._time) % BEAT_TIME_MODULUS
        if k == 0:
            if dt != 0:  # the time moved without a beat: a strap that restarted
                self._start_afresh(page, t_s)
            return ()
        if not self._consistent(k, dt, t_s, last_t_s):
            self._start_afresh(page, t_s)
            return ()
        out = self._rr_of_new_beats(page, k, dt) if self._fresh else []
        self.beats += len(out)
        self.missed_beats += k - len(out)
        self._anchor(page, fresh=True, anchor_t_s=t_s, since_t_s=last_t_s)
        return tuple(ticks_to_ms(ticks) for ticks in out)

    def _consistent(self, k: int, dt: int, t_s: float | None, last_t_s: float | None) -> bool:
        # k beats in dt ticks: each RR within bounds on average, and (with arrival times)
        # neither longer than the time since the last beat could have been, nor shorter than
        # the time it was watched as the newest.
        ms = ticks_to_ms(dt)
        if not k * MIN_RR_MS <= ms <= k * MAX_RR_MS:
            return False
        if t_s is None:
            return True
        if last_t_s is not None and t_s - last_t_s > MAX_BRIDGE_S:
            return False
        if self._since_t_s is not None:
            if t_s - self._since_t_s > MAX_BRIDGE_S:
                return False
            if ms / 1000 > t_s - self._since_t_s + ARRIVAL_JITTER_S:
                return False
        if self._anchor_t_s is not None and last_t_s is not None:
            return ms / 1000 >= last_t_s - self._anchor_t_s - ARRIVAL_JITTER_S
        return True

    def _rr_of_new_beats(self, page: HeartRatePage, k: int, dt: int) -> list[int]:
        previous = page.previous_beat_time_1024 if page.page == 4 and self._paged else None
        if previous is None:
            return [dt] if k == 1 else []
        last_rr = (page.beat_time_1024 - previous) % BEAT_TIME_MODULUS
        if k == 1:
            if previous != self._time:
                self.disagreements += 1
            return [last_rr] if _plausible(last_rr) else []
        if not _plausible(last_rr):
            return []
        if k == 2:  # previous is the first new beat's own time
            first_rr = (previous - self._time) % BEAT_TIME_MODULUS
            if _plausible(first_rr) and first_rr + last_rr == dt:
                return [first_rr, last_rr]
        return [last_rr]

    def _anchor(
        self, page: HeartRatePage, *, fresh: bool, anchor_t_s: float | None,
        since_t_s: float | None,
    ) -> None:
        self._count = page.beat_count
        self._time = page.beat_time_1024
        self._fresh = fresh
        self._anchor_t_s = anchor_t_s
        self._since_t_s = since_t_s

    def _start_afresh(self, page: HeartRatePage, t_s: float | None) -> None:
        self.gaps += 1
        self._anchor(page, fresh=False, anchor_t_s=t_s, since_t_s=None)
