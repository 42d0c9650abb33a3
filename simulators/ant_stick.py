"""An emulated ANT USB stick (ANTUSB2 / ANTUSB-m) that speaks the ANT serial message
protocol, and the air its emulated straps broadcast on.

Every message either way is ``A4 <length> <id> <data…> <XOR of all before>``. The stick
answers what openant's ``Node`` and ``Channel`` send — reset (start-up message), requests
for capabilities, serial number and ANT version, the network key, channel assignment,
channel id, period, RF frequency, extended messages, lib config, open/close, continuous scan
mode — with the channel responses a real stick sends (``40 <channel> <message id> <code>``),
and once in scan mode it passes on every page it hears as BROADCAST_DATA with the extended
bytes its configuration asked for: flag 0x80 and the channel id (device number, device
type, transmission type), flag 0x40 and the RSSI. Like a real stick it hears ANT+ straps
only on the ANT+ network key, 2457 MHz (RF 57) and a channel id that matches a heart rate
strap. ``simulators.ant_usb`` puts it behind pyusb; ``EmulatedAntAir`` paces the straps on
a ``Clock`` in a thread of its own and hands each page to every stick in range.

A pulled stick (``unplug``) fails every transfer as libusb does (LIBUSB_ERROR_NO_DEVICE) and
drops out of the enumeration; ``plug`` brings it back powered on afresh, not configured.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import Final

from hiaim_monitor.clock import Clock
from simulators.ant_strap import DEVICE_TYPE_HEART_RATE, EmulatedAntStrap, StrapPage

SYNC: Final = 0xA4
ANT_PLUS_KEY: Final = bytes((0xB9, 0xA5, 0x21, 0xFB, 0xBD, 0x72, 0xC3, 0x45))
ANT_PLUS_RF: Final = 57
ANTUSB2: Final = 0x1008
ANTUSB_M: Final = 0x1009
VENDOR_DYNASTREAM: Final = 0x0FCF

# Message ids (ANT Message Protocol and Usage, section 9)
RESPONSE_CHANNEL: Final = 0x40
UNASSIGN: Final = 0x41
ASSIGN: Final = 0x42
SET_PERIOD: Final = 0x43
SET_SEARCH_TIMEOUT: Final = 0x44
SET_RF: Final = 0x45
SET_NETWORK_KEY: Final = 0x46
RESET: Final = 0x4A
OPEN: Final = 0x4B
CLOSE: Final = 0x4C
REQUEST: Final = 0x4D
BROADCAST: Final = 0x4E
CHANNEL_ID: Final = 0x51
OPEN_SCAN: Final = 0x5B
EXT_MESSAGES: Final = 0x66
LED: Final = 0x68
LIB_CONFIG: Final = 0x6E
STARTUP: Final = 0x6F
SERIAL_ERROR: Final = 0xAE
VERSION: Final = 0x3E
CAPABILITIES: Final = 0x54
SERIAL_NUMBER: Final = 0x61
# Response codes
NO_ERROR: Final = 0
EVENT_CHANNEL_CLOSED: Final = 7
CHANNEL_IN_WRONG_STATE: Final = 21
INVALID_MESSAGE: Final = 40
_CONFIG_IDS: Final = (SET_PERIOD, SET_SEARCH_TIMEOUT, SET_RF, EXT_MESSAGES, LED, LIB_CONFIG)
_RSSI_THRESHOLD_DBM: Final = -96
_MAX_WAIT_S: Final = 0.05  # the air thread looks at stop/plug at least this often


def frame(message_id: int, data: Iterable[int]) -> bytes:
    """One ANT message with its sync byte, length and checksum."""
    body = bytes((SYNC, 0, message_id, *data))
    body = body[:1] + bytes((len(body) - 3,)) + body[2:]
    return body + bytes((reduce(lambda a, b: a ^ b, body),))


class StickUnplugged(Exception):
    """The stick is not there (pulled out)."""


class EmulatedAntStick:
    """One stick: what the host writes comes in through ``host_write``, what the stick says
    waits in a buffer for ``host_read``. Thread-safe."""

    def __init__(self, serial: int, *, product_id: int = ANTUSB2,
                 drop_fraction: float = 0.0, hears: Iterable[int] | None = None) -> None:
        self.serial = serial
        self.product_id = product_id
        self.drop_fraction = drop_fraction
        self.hears = None if hears is None else frozenset(hears)  # device numbers; None: all
        self._cond = threading.Condition()
        self._out = bytearray()
        self._in = bytearray()
        self.plugged = True
        self.generation = 0  # a handle of an earlier plug-in fails like a stale one
        self.bad_host_messages = 0
        self.pages_passed_on = 0
        self._power_on()

    @property
    def serial_text(self) -> str:
        """What the stick's USB serial-number string says."""
        return str(self.serial)

    # -- plugging ---------------------------------------------------------------------------

    def unplug(self) -> None:
        with self._cond:
            self.plugged = False
            self._out.clear()
            self._cond.notify_all()

    def plug(self) -> None:
        with self._cond:
            if self.plugged:
                return
            self.plugged = True
            self.generation += 1
            self._power_on()

    def _power_on(self) -> None:
        self._in.clear()
        self._out.clear()
        self.network_key = b""
        self.rf = 66  # the chip's default, not ANT+'s
        self.assigned = False
        self.channel_id = (0, 0, 0)
        self.ext = False
        self.lib_config = 0
        self.scanning = False

    # -- the host's side --------------------------------------------------------------------

    def check(self, generation: int) -> None:
        if not self.plugged or generation != self.generation:
            raise StickUnplugged

    def host_write(self, data: bytes, generation: int) -> None:
        with self._cond:
            self.check(generation)
            self._in.extend(data)
            for message_id, payload in self._messages():
                self._answer(message_id, payload)
            self._cond.notify_all()

    def host_read(self, size: int, timeout_s: float, generation: int) -> bytes | None:
        """Up to ``size`` bytes the stick has to say, waiting ``timeout_s``; None when it has
        nothing. Raises StickUnplugged."""
        with self._cond:
            self.check(generation)
            if not self._out:
                self._cond.wait(timeout_s)
                self.check(generation)
            if not self._out:
                return None
            chunk = bytes(self._out[:size])
            del self._out[:size]
            return chunk

    def inject(self, raw: bytes) -> None:
        """Put raw bytes on the stick's way to the host (a garbled message, for tests)."""
        with self._cond:
            if self.plugged:
                self._out.extend(raw)
                self._cond.notify_all()

    def _messages(self) -> list[tuple[int, bytes]]:
        out = []
        buf = self._in
        while buf:
            if buf[0] != SYNC:
                del buf[0]
                continue
            if len(buf) < 4 or len(buf) < buf[1] + 4:
                break
            n = buf[1]
            message = bytes(buf[:n + 4])
            del buf[:n + 4]
            if reduce(lambda a, b: a ^ b, message) != 0:
                self.bad_host_messages += 1
                self._say(SERIAL_ERROR, (0x02,))  # checksum error
                continue
            out.append((message[2], message[3:-1]))
        return out

    def _say(self, message_id: int, data: Iterable[int]) -> None:
        self._out.extend(frame(message_id, data))

    def _respond(self, channel: int, message_id: int, code: int = NO_ERROR) -> None:
        self._say(RESPONSE_CHANNEL, (channel, message_id, code))

    def _answer(self, mid: int, data: bytes) -> None:
        channel = data[0] if data else 0
        if mid == RESET:
            self._power_on()
            self._say(STARTUP, (0x20,))  # reset by command
        elif mid == REQUEST and len(data) >= 2:
            self._request(channel, data[1])
        elif mid == SET_NETWORK_KEY and len(data) == 9:
            if channel == 0:
                self.network_key = bytes(data[1:])
            self._respond(channel, mid)
        elif mid == ASSIGN and len(data) >= 3:
            self.assigned = True
            self._respond(channel, mid)
        elif mid == UNASSIGN:
            self.assigned = False
            self._respond(channel, mid)
        elif mid == CHANNEL_ID and len(data) == 5:
            self.channel_id = (data[1] | data[2] << 8, data[3], data[4])
            self._respond(channel, mid)
        elif mid in _CONFIG_IDS and len(data) >= 2:
            if mid == SET_RF:
                self.rf = data[1]
            elif mid == EXT_MESSAGES:
                self.ext = bool(data[1])
            elif mid == LIB_CONFIG:
                self.lib_config = data[1]
            self._respond(channel, mid)
        elif mid in (OPEN_SCAN, OPEN):
            if not self.assigned:
                self._respond(channel, mid, CHANNEL_IN_WRONG_STATE)
            else:
                self.scanning = mid == OPEN_SCAN
                self._respond(channel, mid)
        elif mid == CLOSE:
            self.scanning = False
            self._respond(channel, mid)
            self._say(RESPONSE_CHANNEL, (channel, 0x01, EVENT_CHANNEL_CLOSED))
        else:
            self._respond(channel, mid, INVALID_MESSAGE)

    def _request(self, channel: int, what: int) -> None:
        if what == CAPABILITIES:
            # 8 channels, 8 networks; serial number, extended messages and scan mode on.
            self._say(CAPABILITIES, (8, 8, 0x00, 0x08, 0x06, 0x00, 0x00, 0x00))
        elif what == SERIAL_NUMBER:
            self._say(SERIAL_NUMBER, self.serial.to_bytes(4, "little"))
        elif what == VERSION:
            self._say(VERSION, b"EMU1.00\x00")
        elif what == CHANNEL_ID:
            number, dtype, trans = self.channel_id
            self._say(CHANNEL_ID, (channel, number & 0xFF, number >> 8, dtype, trans))
        else:
            self._respond(channel, REQUEST, INVALID_MESSAGE)

    # -- the air's side ---------------------------------------------------------------------

    def _listens_for(self, page: StrapPage) -> bool:
        if not (self.plugged and self.scanning and self.network_key == ANT_PLUS_KEY
                and self.rf == ANT_PLUS_RF):
            return False
        number, dtype, trans = self.channel_id
        low16 = page.device_number & 0xFFFF
        return ((number in (0, low16)) and dtype in (0, DEVICE_TYPE_HEART_RATE)
                and trans in (0, page.transmission_type)
                and (self.hears is None or page.device_number in self.hears))

    def hear(self, page: StrapPage, rssi_dbm: int, drop: bool) -> None:
        """A page on the air: passed on when the stick listens for it and did not miss it."""
        with self._cond:
            if drop or not self._listens_for(page):
                return
            flags, ext = 0, []
            if self.ext or self.lib_config & 0x80:
                low16 = page.device_number & 0xFFFF
                flags |= 0x80
                ext += [low16 & 0xFF, low16 >> 8, DEVICE_TYPE_HEART_RATE,
                        page.transmission_type]
            if self.lib_config & 0x40:
                flags |= 0x40
                ext += [0x20, rssi_dbm & 0xFF, _RSSI_THRESHOLD_DBM & 0xFF]
            data = [0, *page.payload] + ([flags, *ext] if flags else [])
            self._say(BROADCAST, data)
            self.pages_passed_on += 1
            self._cond.notify_all()


class EmulatedAntAir:
    """Emulated straps broadcasting to emulated sticks, paced on ``clock`` by one thread
    (``start``/``stop``). With a ``SimulatedClock`` of some speed the straps keep its pace.
    ``true_beats_1024(device_number)`` is every beat that strap made (its own 1/1024 s ticks,
    unwrapped), to compare what a decoder rebuilt with."""

    def __init__(self, clock: Clock, straps: Sequence[EmulatedAntStrap] = (),
                 *, seed: int = 0) -> None:
        import random

        self.clock = clock
        self.straps = list(straps)
        self.sticks: list[EmulatedAntStick] = []
        self._rng = random.Random(f"{seed}:air")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_stick(self, serial: int, **kwargs: object) -> EmulatedAntStick:
        stick = EmulatedAntStick(serial, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.sticks.append(stick)
        return stick

    def strap(self, device_number: int) -> EmulatedAntStrap:
        return next(s for s in self.straps if s.device_number == device_number)

    def true_beats_1024(self, device_number: int) -> list[int]:
        with self._lock:
            return list(self.strap(device_number).true_beats_1024)

    def switch_off(self, device_number: int) -> None:
        with self._lock:
            self.strap(device_number).switch_off()

    def switch_on(self, device_number: int) -> None:
        with self._lock:
            self.strap(device_number).switch_on(self.clock.monotonic())

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ant-air", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(5.0)

    def step(self) -> int:
        """Deliver every page due by the clock's now; returns how many went on the air."""
        now = self.clock.monotonic()
        sent = 0
        with self._lock:
            sticks = list(self.sticks)
            for strap in self.straps:
                for page in strap.pages_until(now):
                    sent += 1
                    for stick in sticks:
                        drop = bool(stick.drop_fraction) and \
                            self._rng.random() < stick.drop_fraction
                        stick.hear(page, strap.rssi_dbm, drop)
        return sent

    def _next_due_s(self) -> float:
        with self._lock:
            return min((s.next_due_s for s in self.straps), default=self.clock.monotonic() + 1)

    def _run(self) -> None:
        speed = getattr(self.clock, "speed", None) or 1.0
        while not self._stop.is_set():
            self.step()
            wait_s = (self._next_due_s() - self.clock.monotonic()) / speed
            self._stop.wait(min(_MAX_WAIT_S, max(0.0, wait_s)))
