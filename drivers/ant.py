"""``AntStrapHub``: ANT+ heart-rate straps heard through one or more ANT USB sticks in
continuous scan mode (``drivers.ant_stick``), behind the one ``StrapHub`` interface.
Straps are named ``ant:`` + their device number, 20 bits with the transmission type's
extension nibble.

A stick in scan mode hears every strap in range with no connection at all, so "watching"
a strap only decides whose pages become samples. Every page goes through
``hiaim_monitor.ant_hrm.decode_page``; a watched strap's pages feed its ``BeatRebuilder``,
and a ``HeartRateSample`` goes out for each page with a new beat count (its RR intervals
the rebuilt ones, never invented) and at least once a second while the count stands still.
A strap heard on two sticks is one strap: a page that repeats what another stick already
gave, or that lags behind it, is not fed to the rebuilder again. Page 7 gives the battery.
While discovery is on every strap heard is reported as a ``StrapSighting`` at most once per
``SIGHTING_EVERY_S`` (ANT+ straps keep broadcasting when watched, so watched ones too).

A watched strap reports CONNECTING, then STREAMING with its first page; silent for
``SILENT_LINK_AFTER_S`` it reports RECONNECTING (``ANT_SILENT``), and STREAMING again with
its next page. A stick pulled out (or failing) is closed; the straps only it heard report
LOST with ``ANT_STICK_LOST`` and their samples stop, so the session's signal-lost alarm
follows. The sticks are looked for again every ``POLL_S``: one that comes back (or is
plugged in later) is opened and its straps stream again, their rebuilders started afresh.

Threads: openant's threads call ``_on_page``, which only timestamps, decodes and calls the
(thread-safe) sink, under one lock shared by all sticks. Opening and closing a stick block
(openant's reset sleeps a second) and run in ``asyncio.to_thread``, so the sensor loop
never waits; a stick that fails is closed and reported, and never stops the other hubs.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from drivers.ant_stick import FoundStick, ScanningStick, default_backend, find_sticks, is_denied
from drivers.ble import DiscoveryError
from hiaim_monitor import config, strap_ids
from hiaim_monitor.ant_hrm import AntPageError, BeatRebuilder, decode_page
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    PacketDropped,
    RadioNotice,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.strap_hub import EventSink
from hiaim_monitor.strap_notes import StrapNote, StrapReason

_log = logging.getLogger(__name__)

POLL_S: Final = 2.0  # how often the sticks are looked for again
SAMPLE_AT_LEAST_EVERY_S: Final = 1.0  # a sample this often while no new beat comes
SILENT_AFTER_S: Final = config.SILENT_LINK_AFTER_S
HEART_RATE_DEVICE_TYPE: Final = 120
_PAGE: Final = 8
_FLAG_CHANNEL_ID: Final = 0x80
_FLAG_RSSI: Final = 0x40
_FLAG_TIMESTAMP: Final = 0x20
_LATE_BEATS: Final = 8  # a page this many beats behind the newest is another stick's late copy
_LATE_WITHIN_S: Final = 3.0
NO_STICK: Final = StrapNote.of(StrapReason.NO_ANT_STICK)


class NoAntStick(DiscoveryError):
    """No ANT stick can be used; the message is the operator's one sentence."""


@dataclass
class _Heard:
    """What the hub knows of one strap heard on the air."""

    strap_id: str
    name: str
    last_page_s: float = -1e9
    last_sighting_s: float = -1e9
    rssi: int | None = None
    battery_pct: int | None = None
    sticks: dict[str, float] = field(default_factory=dict)  # stick serial → last page time
    # Watched only:
    rebuilder: BeatRebuilder | None = None
    count: int | None = None  # beat count of the newest page fed to the rebuilder
    time_1024: int | None = None
    count_s: float = -1e9  # when that page came
    last_sample_s: float = -1e9
    state: StrapState | None = None


class AntStrapHub:
    """A ``StrapHub`` over ANT USB sticks.

    ``sticks`` are USB serial numbers to use (as ``hiaim-monitor --ant-stick`` takes them);
    empty means every stick plugged in. ``usb_backend`` goes to ``usb.core.find``: None
    means the bundled libusb (``drivers.ant_stick.default_backend``), tests and
    ``--simulate-ant`` pass the emulated sticks' backend.
    """

    radios = (strap_ids.ANT,)

    def __init__(self, clock: Clock, *, sticks: Sequence[str] = (), usb_backend: Any = None,
                 poll_s: float = POLL_S, wait_for_stick: bool = False) -> None:
        self.clock = clock
        # The window's way: start without a stick, say so as a RadioNotice, and go on
        # looking; the headless path fails at once instead (NoAntStick).
        self.wait_for_stick = wait_for_stick
        self._notice: StrapNote | None = None  # the RadioNotice in force
        self.wanted_sticks = tuple(sticks)
        self._backend = usb_backend
        self.poll_s = poll_s
        self._sink: EventSink | None = None
        self._lock = threading.Lock()
        self._heard: dict[str, _Heard] = {}
        self._watched: dict[str, str] = {}
        self._discovery = True
        self._open: dict[str, ScanningStick] = {}  # serial → stick scanning
        self._failed: dict[str, StrapNote] = {}  # serial → why it could not be opened
        self._lost: set[str] = set()  # serials that failed while open, not yet closed
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0  # messages and pages that could not be used

    # -- the interface ---------------------------------------------------------------------

    @property
    def watched(self) -> dict[str, str]:
        """strap_id → name of the watched straps, in the order they were watched."""
        return dict(self._watched)

    @property
    def sticks(self) -> list[str]:
        """Serial numbers of the sticks scanning now."""
        return list(self._open)

    @property
    def rssi(self) -> bool:
        """True when every open stick reports signal strength."""
        return bool(self._open) and all(s.rssi for s in self._open.values())

    def beat_counts(self) -> dict[str, tuple[int, int]]:
        """strap_id → (beats whose RR was rebuilt, beats counted but lost with their pages)
        of every watched strap, since it was watched or its stick came back."""
        with self._lock:
            return {h.strap_id: (h.rebuilder.beats, h.rebuilder.missed_beats)
                    for h in self._heard.values() if h.rebuilder is not None}

    @property
    def discovering(self) -> bool:
        return self._discovery and self._sink is not None

    async def start(self, sink: EventSink) -> None:
        """Open the sticks and start listening; returns once they scan. Raises NoAntStick
        (one sentence) when none can be used, and nothing is left running then; with
        ``wait_for_stick`` it reports a ``RadioNotice`` instead and keeps looking."""
        if self._sink is not None:
            raise RuntimeError("this ANT+ hub is already running")
        self._loop = asyncio.get_running_loop()
        self._sink = sink
        await self._open_new_sticks()
        if not self._open:
            reasons = list(self._failed.values())
            if not self.wait_for_stick:
                self._sink = None
                raise NoAntStick(reasons[0].english() if reasons else NO_STICK.english())
            self._tell(reasons[0] if reasons else NO_STICK)
        t = self.clock.monotonic()
        for strap_id in self._watched:
            self._begin_watch(strap_id, t)
        self._task = asyncio.create_task(self._keep_up(), name="ant-sticks")

    async def check_sticks(self) -> None:
        """Raise NoAntStick (one sentence) when no stick asked for is plugged in."""
        found = await asyncio.to_thread(lambda: find_sticks(self._backend_now()))
        if not [f for f in found if not self.wanted_sticks or f.serial in self.wanted_sticks]:
            raise NoAntStick(NO_STICK.english())

    async def watch(self, strap_id: str, name: str) -> None:
        """Turn this strap's pages into samples (``ant:12345``); idempotent. StrapIdError
        (one sentence) for an id of another radio."""
        radio, address = strap_ids.split(strap_id)
        if radio != strap_ids.ANT or not address.isdigit():
            raise strap_ids.StrapIdError(f"{strap_id} is not an ANT+ strap id (ant:12345).")
        if strap_id in self._watched:
            return
        self._watched[strap_id] = name
        if self._sink is not None:
            self._begin_watch(strap_id, self.clock.monotonic())

    async def unwatch(self, strap_id: str) -> None:
        if self._watched.pop(strap_id, None) is None:
            return
        with self._lock:
            heard = self._heard.get(strap_id)
            if heard is not None:
                heard.rebuilder = None
                heard.state = None
        self._emit(StrapStatus(strap_id, self.clock.monotonic(), StrapState.STOPPED))

    async def set_discovery(self, on: bool) -> None:
        self._discovery = on

    async def stop(self) -> None:
        """Close every stick (watched straps report STOPPED); returns when openant's threads
        have ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        sticks = list(self._open.values())
        self._open.clear()
        await asyncio.gather(*(asyncio.to_thread(s.close) for s in sticks))
        t = self.clock.monotonic()
        if self._sink is not None:
            for strap_id in self._watched:
                self._emit(StrapStatus(strap_id, t, StrapState.STOPPED))
        with self._lock:
            self._heard.clear()
        self._sink = None
        self._notice = None

    # -- sticks ----------------------------------------------------------------------------

    def _backend_now(self) -> Any:
        if self._backend is None:
            self._backend = default_backend()
        return self._backend

    async def _open_new_sticks(self) -> None:
        found = await asyncio.to_thread(lambda: find_sticks(self._backend_now()))
        wanted = [f for f in found if not self.wanted_sticks or f.serial in self.wanted_sticks]
        new = [f for f in wanted if f.serial not in self._open]
        results = await asyncio.gather(*(self._open_stick(f) for f in new),
                                       return_exceptions=True)
        for found_stick, result in zip(new, results, strict=True):
            if isinstance(result, BaseException):
                _log.info("ANT stick %s could not be opened: %r", found_stick.serial, result)

    async def _open_stick(self, found: FoundStick) -> None:
        serial = found.serial

        def on_page(data: array.array[int]) -> None:
            self._on_page(serial, data)

        def on_lost(exc: Exception) -> None:
            _log.warning("ANT stick %s lost: %r", serial, exc)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._stick_lost, serial)

        stick = ScanningStick(found, on_page, on_lost=on_lost, on_bad=self._bad_message)
        opening = asyncio.ensure_future(asyncio.to_thread(stick.open))
        try:
            await asyncio.shield(opening)
        except asyncio.CancelledError:  # stopped meanwhile: the thread goes on, then close
            with contextlib.suppress(Exception):
                await opening
            await asyncio.to_thread(stick.close)
            raise
        except Exception as exc:
            note = (StrapNote.of(StrapReason.ANT_STICK_DENIED, stick=serial) if is_denied(exc)
                    else StrapNote.of(StrapReason.ANT_STICK_LOST, stick=serial))
            self._failed[serial] = note
            if not self._open and self._sink is not None and self._notice is not None:
                self._tell(note)  # say why the stick there cannot be used
            raise
        self._failed.pop(serial, None)
        if self._sink is None:  # stopped while it opened
            await asyncio.to_thread(stick.close)
            return
        self._open[serial] = stick
        if self._notice is not None:
            self._tell(None)

    def _stick_lost(self, serial: str) -> None:
        """On the loop: a stick stopped answering. Close it, and tell about its straps."""
        stick = self._open.pop(serial, None)
        if stick is None:
            return
        self._lost.add(serial)
        task = asyncio.get_running_loop().create_task(self._close_lost(serial, stick))
        task.add_done_callback(lambda _t: None)
        t = self.clock.monotonic()
        note = StrapNote.of(StrapReason.ANT_STICK_LOST, stick=serial)
        if not self._open:  # said even when no strap is watched to say it on
            self._tell(note)
        with self._lock:
            for heard in self._heard.values():
                if heard.sticks.pop(serial, None) is None:
                    continue
                others = [s for s, seen in heard.sticks.items()
                          if s in self._open and t - seen < SILENT_AFTER_S]
                if others or heard.rebuilder is None:
                    continue
                heard.rebuilder.reset()
                heard.count = heard.time_1024 = None
                if heard.state is not StrapState.LOST:
                    heard.state = StrapState.LOST
                    self._emit(StrapStatus(heard.strap_id, t, StrapState.LOST, note=note))

    async def _close_lost(self, serial: str, stick: ScanningStick) -> None:
        try:
            await asyncio.to_thread(stick.close)
        finally:
            self._lost.discard(serial)

    async def _keep_up(self) -> None:
        """Every ``poll_s``: open sticks that (re)appeared, report straps gone quiet."""
        while True:
            await asyncio.sleep(self.poll_s)
            self._check_silence()
            try:
                if not self._lost:  # a pulled stick's close ends before it is looked for
                    await self._open_new_sticks()
            except Exception as exc:  # USB trouble must never end the hub
                _log.warning("looking for ANT sticks failed: %r", exc)

    def _check_silence(self) -> None:
        t = self.clock.monotonic()
        note = StrapNote.of(StrapReason.ANT_SILENT, seconds=SILENT_AFTER_S)
        with self._lock:
            for strap_id in self._watched:
                heard = self._heard.get(strap_id)
                if heard is None or heard.state is not StrapState.STREAMING:
                    continue
                if t - heard.last_page_s > SILENT_AFTER_S:
                    heard.state = StrapState.RECONNECTING
                    self._emit(StrapStatus(strap_id, t, StrapState.RECONNECTING, note=note))

    def _tell(self, note: StrapNote | None) -> None:
        """Report what is wrong with ANT+ as a whole (None: nothing any more)."""
        if note == self._notice:
            return
        self._notice = note
        self._emit(RadioNotice(strap_ids.ANT, self.clock.monotonic(), note))

    # -- pages (openant's threads) ---------------------------------------------------------

    def _emit(self, event: Any) -> None:
        sink = self._sink
        if sink is not None:
            sink(event)

    def _bad_message(self, reason: str, raw: bytes) -> None:
        with self._lock:
            self.dropped += 1
        _log.info("dropped from an ANT stick: %s (%s)", reason, raw.hex(" "))

    def _begin_watch(self, strap_id: str, t: float) -> None:
        with self._lock:
            heard = self._heard.get(strap_id)
            if heard is None:
                heard = self._heard[strap_id] = _Heard(strap_id, self._watched[strap_id])
            heard.rebuilder = BeatRebuilder()
            heard.count = heard.time_1024 = None
            heard.state = StrapState.CONNECTING
            heard.last_sample_s = -1e9
            self._emit(StrapStatus(strap_id, t, StrapState.CONNECTING))

    def _on_page(self, serial: str, data: array.array[int]) -> None:
        t = self.clock.monotonic()
        raw = bytes(data)
        parsed = _split_extended(raw)
        if parsed is None:
            self._bad_message("an ANT broadcast without its device number", raw)
            return
        payload, number, device_type, rssi = parsed
        if device_type != HEART_RATE_DEVICE_TYPE:
            return  # another kind of ANT+ device on the channel's wildcard
        strap_id = strap_ids.make(strap_ids.ANT, str(number))
        try:
            page = decode_page(payload)
        except AntPageError as exc:
            with self._lock:
                self.dropped += 1
            self._emit(PacketDropped(strap_id, t, str(exc), payload))
            return
        with self._lock:
            heard = self._heard.get(strap_id)
            if heard is None:
                heard = self._heard[strap_id] = _Heard(strap_id, f"ANT+ HR {number}")
            heard.last_page_s = t
            heard.sticks[serial] = t
            if rssi is not None:
                heard.rssi = rssi
            watched = heard.rebuilder is not None
            if page.battery_pct is not None and page.battery_pct != heard.battery_pct:
                heard.battery_pct = page.battery_pct
                if watched or self._discovery:
                    self._emit(BatteryReading(strap_id, t, page.battery_pct))
            if self._discovery and t - heard.last_sighting_s >= config.SIGHTING_EVERY_S:
                heard.last_sighting_s = t
                self._emit(StrapSighting(strap_id, t, heard.name, heard.rssi))
            if watched:
                self._stream(heard, page, t)

    def _stream(self, heard: _Heard, page: Any, t: float) -> None:
        assert heard.rebuilder is not None
        if heard.state is not StrapState.STREAMING:
            heard.state = StrapState.STREAMING
            self._emit(StrapStatus(heard.strap_id, t, StrapState.STREAMING))
        new_beat = False
        same = (page.beat_count, page.beat_time_1024) == (heard.count, heard.time_1024)
        behind = (heard.count - page.beat_count) % 256 if heard.count is not None else 0
        late = 0 < behind <= _LATE_BEATS and t - heard.count_s < _LATE_WITHIN_S
        rr: tuple[float, ...] = ()
        if not late:
            rr = heard.rebuilder.push(page, t)
            new_beat = not same and page.beat_count != heard.count
            if not same:
                heard.count_s = t
            heard.count, heard.time_1024 = page.beat_count, page.beat_time_1024
        if new_beat or t - heard.last_sample_s >= SAMPLE_AT_LEAST_EVERY_S:
            heard.last_sample_s = t
            self._emit(HeartRateSample(heard.strap_id, t, self.clock.now_utc(), page.bpm, rr,
                                       SensorContact.NOT_SUPPORTED))


def _extended_bytes(flags: int) -> int:
    return (4 * bool(flags & _FLAG_CHANNEL_ID) + 3 * bool(flags & _FLAG_RSSI)
            + 2 * bool(flags & _FLAG_TIMESTAMP))


def _split_extended(raw: bytes) -> tuple[bytes, int, int, int | None] | None:
    """(page, device number with its 20-bit extension, device type, RSSI or None) of a
    broadcast's bytes after the channel number; None without a channel id. The page is
    what comes before the flag byte, so a page of the wrong length reaches the decoder,
    which refuses it."""
    at = _PAGE
    if len(raw) <= at or not raw[at] & _FLAG_CHANNEL_ID \
            or len(raw) - at - 1 != _extended_bytes(raw[at]):
        # Not where a page of 8 bytes puts it: look for a flag byte that the rest fits.
        fits = [i for i in range(len(raw)) if raw[i] & _FLAG_CHANNEL_ID
                and len(raw) - i - 1 == _extended_bytes(raw[i])]
        if not fits:
            return None
        at = fits[-1]
    flags = raw[at]
    ext = raw[at + 1:]
    number = ext[0] | ext[1] << 8
    device_type, transmission_type = ext[2] & 0x7F, ext[3]  # bit 7: the pairing bit
    number |= (transmission_type >> 4) << 16
    rssi = None
    if flags & _FLAG_RSSI:
        rssi = ext[5] - 256 if ext[5] > 127 else ext[5]
    return raw[:at], number, device_type, rssi
