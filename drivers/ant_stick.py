"""One ANT USB stick in continuous scan mode, through openant's own ``Node`` and ``Channel``.

openant (``openant.base.ant.Ant``) picks its USB driver with the module-level
``find_driver()``, which takes the first stick pyusb's default backend lists: it has no way
to name a stick or a backend. ``StickDriver`` is an openant ``USBDriver`` opened on one
given pyusb ``Device`` (found on any backend: libusb_package's bundled libusb, pyusb's
default, or the emulated sticks of the tests), and ``open_scanning`` hands it to ``Node``
by replacing ``openant.base.ant.find_driver`` for the moment ``Node()`` is built, under a
lock so that two sticks opened at once each get their own.

openant's threads: ``Ant``'s worker (``openant.base``) reads the stick, ``Ant._main``
(``openant.easy``, started by ``Node``) dispatches responses, and ``Node._main`` — which the
caller must run, here in a thread of our own — calls ``Channel.on_broadcast_data``. Two
habits of openant are defended against here:

* on a USB error that is not a timeout its worker logs and reads again, forever: a pulled
  stick would spin a core. ``StickDriver.read`` reports the loss once (``on_lost``) and then
  waits quietly until the stick is closed.
* ``Message.parse`` asserts on a bad sync byte, length or checksum, and the assertion ends
  the worker thread: the stick would go deaf. ``StickDriver.read`` passes openant only whole
  messages with a good checksum, and counts (``on_bad``) what it drops.

Every call here blocks (openant's reset alone sleeps 1 s): the hub runs them with
``asyncio.to_thread``.
"""

from __future__ import annotations

import array
import contextlib
import errno
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any, Final

import openant.base.ant
import usb.core
import usb.util
from openant.base.driver import USBDriver
from openant.base.message import Message
from openant.easy.channel import Channel
from openant.easy.node import Node

_log = logging.getLogger(__name__)

VENDOR_DYNASTREAM: Final = 0x0FCF
PRODUCTS: Final = {0x1008: "ANTUSB2", 0x1009: "ANTUSB-m"}
# The ANT+ network key is published by Dynastream for every ANT+ device (thisisant.com).
ANT_PLUS_NETWORK_KEY: Final = [0xB9, 0xA5, 0x21, 0xFB, 0xBD, 0x72, 0xC3, 0x45]
ANT_PLUS_RF: Final = 57  # 2457 MHz
HEART_RATE_DEVICE_TYPE: Final = 120
HEART_RATE_PERIOD: Final = 8070  # 32768/8070 ≈ 4.06 messages a second
LIB_CONFIG_CHANNEL_ID: Final = 0x80
LIB_CONFIG_RSSI: Final = 0x40
READ_TIMEOUT_MS: Final = 200  # a stop waits at most this long for the reader
_SYNC: Final = 0xA4
_MAX_DATA: Final = 32  # no ANT message the stick sends is longer
_LOST_WAIT_S: Final = 0.2
_OPEN_LOCK = threading.Lock()

PageCallback = Callable[["array.array[int]"], None]


def default_backend() -> Any:
    """The pyusb backend for real sticks: libusb_package's bundled libusb (Windows and
    macOS have no system libusb), else None, which is pyusb's own choice."""
    try:
        import libusb_package

        return libusb_package.get_libusb1_backend()
    except Exception as exc:  # an unusual platform: pyusb's own search may still work
        _log.debug("no bundled libusb: %r", exc)
        return None


@dataclass(frozen=True, slots=True)
class FoundStick:
    serial: str  # the USB serial-number string, else "bus-address"
    product: str  # ANTUSB2 / ANTUSB-m
    device: usb.core.Device


def find_sticks(backend: Any) -> list[FoundStick]:
    """Every ANT stick plugged in, in the backend's order. Blocking (USB traffic)."""
    try:
        devices = list(usb.core.find(find_all=True, idVendor=VENDOR_DYNASTREAM,
                                     backend=backend))
    except (usb.core.NoBackendError, usb.core.USBError, OSError) as exc:
        _log.debug("listing USB devices failed: %r", exc)
        return []
    out = []
    for dev in devices:
        product = PRODUCTS.get(dev.idProduct)
        if product is None:
            continue
        try:
            serial = usb.util.get_string(dev, dev.iSerialNumber) or ""
        except (usb.core.USBError, ValueError, NotImplementedError):
            serial = ""  # no permission to ask yet (Linux without the udev rule)
        out.append(FoundStick(serial or f"{dev.bus}-{dev.address}", product, dev))
    return out


def is_denied(exc: BaseException) -> bool:
    """True when opening failed for want of permission (udev rule, Zadig)."""
    return isinstance(exc, usb.core.USBError) and exc.errno in (errno.EACCES, errno.EPERM)


class StickDriver(USBDriver):
    """openant's USB driver, opened on one pyusb device: see the module docstring."""

    def __init__(self, device: usb.core.Device, *, on_lost: Callable[[Exception], None],
                 on_bad: Callable[[str, bytes], None]) -> None:
        super().__init__()
        self.dev = device
        self.on_lost = on_lost
        self.on_bad = on_bad
        self.lost = False
        self.closed = threading.Event()
        self._pending = bytearray()

    @classmethod
    def find(cls) -> bool:
        return False  # never chosen by openant's own search

    def open(self) -> None:
        dev = self.dev
        with contextlib.suppress(NotImplementedError, usb.core.USBError):
            if dev.is_kernel_driver_active(0):
                dev.detach_kernel_driver(0)
        dev.set_configuration()
        with contextlib.suppress(NotImplementedError):
            dev.reset()
        intf = dev.get_active_configuration()[(0, 0)]

        def endpoint(direction: int) -> Any:
            return usb.util.find_descriptor(
                intf, custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress)
                == direction)

        self._out, self._in = endpoint(usb.util.ENDPOINT_OUT), endpoint(usb.util.ENDPOINT_IN)
        if self._out is None or self._in is None:
            raise usb.core.USBError("the ANT stick has no bulk endpoints")

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(Exception):  # a pulled stick cannot be tidied up
            usb.util.dispose_resources(self.dev)

    def write(self, data: Any) -> None:
        if self.lost:
            raise usb.core.USBError("the ANT stick is gone", None, errno.ENODEV)
        try:
            self._out.write(data)
        except usb.core.USBTimeoutError:
            raise
        except usb.core.USBError as exc:
            self._lose(exc)
            raise

    def read(self) -> array.array[int]:
        if self.lost:
            if self.closed.is_set():
                # Closed under a worker that is still reading: only an Ant whose __init__
                # failed (nobody can stop it) gets here. SystemExit ends its thread quietly.
                raise SystemExit
            self.closed.wait(_LOST_WAIT_S)
            return array.array("B")
        try:
            data = self._in.read(4096, READ_TIMEOUT_MS)
        except usb.core.USBTimeoutError:
            raise  # openant waits again
        except usb.core.USBError as exc:
            self._lose(exc)
            return array.array("B")
        return self._whole_messages(bytes(data))

    def _lose(self, exc: Exception) -> None:
        if not self.lost:
            self.lost = True
            self.on_lost(exc)

    def _whole_messages(self, data: bytes) -> array.array[int]:
        buf = self._pending
        buf.extend(data)
        out = array.array("B")
        while buf:
            if buf[0] != _SYNC:
                skip = buf.find(bytes((_SYNC,)))
                skip = len(buf) if skip < 0 else skip
                self.on_bad("bytes outside an ANT message", bytes(buf[:skip]))
                del buf[:skip]
                continue
            if len(buf) < 2:
                break
            n = buf[1]
            if not 1 <= n <= _MAX_DATA:
                self.on_bad(f"an ANT message cannot have {n} data bytes", bytes(buf[:2]))
                del buf[:1]
                continue
            if len(buf) < n + 4:
                break
            message = bytes(buf[:n + 4])
            if reduce(lambda a, b: a ^ b, message) != 0:
                self.on_bad("an ANT message with a bad checksum", message)
                del buf[:1]  # resynchronise on the next sync byte
                continue
            out.extend(message)
            del buf[:n + 4]
        return out


def _build_node(driver: StickDriver) -> Node:
    # openant.base.ant.Ant.__init__ calls the module-level find_driver() and offers no other
    # way in: for as long as this Node (and so its Ant) is built, find_driver returns this
    # stick's driver. The lock keeps two sticks opened at once from swapping drivers.
    with _OPEN_LOCK:
        saved = openant.base.ant.find_driver
        openant.base.ant.find_driver = lambda: driver
        try:
            return Node()
        finally:
            openant.base.ant.find_driver = saved


class ScanningStick:
    """An opened stick whose one channel scans for every ANT+ heart-rate strap.

    ``on_page`` gets the bytes after the channel number of every broadcast (8 bytes of
    page, then the flag byte and extended bytes), on openant's thread. ``rssi`` tells
    whether the stick agreed to add the signal strength.
    """

    def __init__(self, found: FoundStick, on_page: PageCallback, *,
                 on_lost: Callable[[Exception], None],
                 on_bad: Callable[[str, bytes], None]) -> None:
        self.found = found
        self.driver = StickDriver(found.device, on_lost=on_lost, on_bad=on_bad)
        self.rssi = False
        self._on_page = on_page
        self._node: Node | None = None
        self._main: threading.Thread | None = None

    @property
    def serial(self) -> str:
        return self.found.serial

    def open(self) -> None:
        """Reset the stick and start scanning. Blocking (over a second); raises what USB or
        openant raise, with nothing left running."""
        node = _build_node(self.driver)
        self._node = node
        try:
            self._main = threading.Thread(target=self._dispatch, args=(node,),
                                          name=f"openant-node-{self.serial}", daemon=True)
            self._main.start()
            node.set_network_key(0x00, ANT_PLUS_NETWORK_KEY)
            channel = node.new_channel(Channel.Type.BIDIRECTIONAL_RECEIVE)
            channel.on_broadcast_data = self._page
            channel.set_id(0, HEART_RATE_DEVICE_TYPE, 0)  # any device, any transmission type
            channel.set_rf_freq(ANT_PLUS_RF)
            channel.set_period(HEART_RATE_PERIOD)
            channel.enable_extended_messages(1)
            self.rssi = self._lib_config(node, channel)
            channel.open_rx_scan_mode()
        except BaseException:
            self.close()
            raise

    def _lib_config(self, node: Node, channel: Channel) -> bool:
        """Ask for the channel id and RSSI after every page (ANT's lib config, which openant
        has no call for); an old stick that refuses still gives the channel id."""
        try:
            node.ant.write_message(Message(Message.ID.LIB_CONFIG,
                                           [0x00, LIB_CONFIG_CHANNEL_ID | LIB_CONFIG_RSSI]))
            channel.wait_for_response(Message.ID.LIB_CONFIG)
        except Exception as exc:
            if self.driver.lost:
                raise
            _log.info("stick %s gives no RSSI: %r", self.serial, exc)
            return False
        return True

    def _dispatch(self, node: Node) -> None:
        try:
            node.start()  # Node._main: returns once node.stop() is called
        except Exception as exc:
            _log.warning("openant's dispatch on stick %s ended: %r", self.serial, exc)

    def _page(self, data: array.array[int]) -> None:
        try:
            self._on_page(data)
        except Exception:  # a bug in the hub must not end openant's dispatch thread
            _log.exception("an ANT page from stick %s was not handled", self.serial)

    def close(self) -> None:
        """Stop openant's threads and let the stick go; never raises. Blocking (up to about
        a second: openant's dispatch waits in steps of 1 s)."""
        node, self._node = self._node, None
        if node is not None:
            try:
                node.stop()
            except Exception as exc:
                _log.debug("stopping openant on stick %s: %r", self.serial, exc)
                with contextlib.suppress(Exception):
                    self.driver.close()
        else:
            self.driver.close()
        main, self._main = self._main, None
        if main is not None:
            main.join(3.0)

