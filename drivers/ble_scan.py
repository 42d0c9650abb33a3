"""Finding heart-rate straps: a live list of what advertises the Heart Rate Service (0x180D).

``StrapScanner`` keeps, per adapter, the latest ``DiscoveredStrap`` for every strap it hears.
The pairing panel shows that list; ``BleStrapHub``'s connections wait on it for the strap it must
connect. The ``BLEDevice`` stored with each strap is what a ``BleakClient`` must be given: a
bare address makes bleak run a hidden scan per connect, which its docs warn breaks
connecting several devices at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from hiaim_monitor import config
from hiaim_monitor.clock import Clock, RealClock
from hiaim_monitor.hrm import HEART_RATE_SERVICE_UUID
from hiaim_monitor.polar_broadcast import POLAR_COMPANY_ID

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveredStrap:
    """One strap as last heard on one adapter."""

    address: str  # Bluetooth address (a UUID on macOS)
    name: str  # advertised local name, "" until one is heard
    rssi: int  # dBm of the latest advertisement
    last_seen_s: float  # on the scanner's clock
    ble_device: BLEDevice  # pass this, not the address, to BleakClient
    # Polar's manufacturer data (company 0x006B) of this advertisement, without the company
    # id: its heart-rate broadcast (``hiaim_monitor.polar_broadcast``); None for other straps.
    polar_data: bytes | None = None


def _key(address: str) -> str:
    return address.upper()


class StrapScanner:
    """A restartable BLE scan for Heart Rate Service advertisements on one adapter.

    ``adapter`` is a BlueZ adapter name ("hci0"); None means the system default (and is the
    only choice on macOS and Windows). ``backend`` is passed straight to ``BleakScanner``.
    ``on_change`` is called, on the loop, with every new or refreshed strap.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        adapter: str | None = None,
        backend: type[BaseBleakScanner] | None = None,
        on_change: Callable[[DiscoveredStrap], None] | None = None,
        control_timeout_s: float = config.BLE_SCAN_CONTROL_TIMEOUT_S,
    ) -> None:
        self.clock: Clock = clock or RealClock()
        self.adapter = adapter
        self.backend = backend
        self.on_change = on_change
        self.control_timeout_s = control_timeout_s
        self._found: dict[str, DiscoveredStrap] = {}
        self._waiters: dict[str, list[asyncio.Future[DiscoveredStrap]]] = {}
        self._scanner: BleakScanner | None = None

    @property
    def running(self) -> bool:
        """True between a successful ``start`` and ``stop``."""
        return self._scanner is not None

    @property
    def discovered(self) -> list[DiscoveredStrap]:
        """Every strap heard so far, strongest signal (nearest) first."""
        return sorted(self._found.values(), key=lambda s: s.rssi, reverse=True)

    def get(self, address: str) -> DiscoveredStrap | None:
        """The strap with ``address`` (any case) as last heard, or None."""
        return self._found.get(_key(address))

    def forget(self, address: str) -> None:
        """Drop what was heard from ``address``, so ``find`` waits for a new advertisement."""
        self._found.pop(_key(address), None)

    async def start(self) -> None:
        """Start scanning; a no-op when already running.

        Raises bleak's errors (no adapter, Bluetooth off) and TimeoutError.
        """
        if self._scanner is not None:
            return
        scanner = BleakScanner(
            self._on_advertisement,
            service_uuids=[HEART_RATE_SERVICE_UUID],
            bluez={} if self.adapter is None else {"adapter": self.adapter},
            backend=self.backend,
        )
        async with asyncio.timeout(self.control_timeout_s):
            await scanner.start()
        self._scanner = scanner

    async def stop(self) -> None:
        """Stop scanning; never raises (a failed stop leaves nothing we could undo)."""
        scanner, self._scanner = self._scanner, None
        if scanner is None:
            return
        try:
            async with asyncio.timeout(self.control_timeout_s):
                await scanner.stop()
        except Exception as exc:
            _log.debug("stopping the scan on %s failed: %r", self.adapter, exc)

    async def __aenter__(self) -> StrapScanner:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def find(self, address: str, timeout_s: float) -> DiscoveredStrap | None:
        """The strap with ``address`` once it has been heard, or None after ``timeout_s``.

        Returns at once when it was already heard (and not forgotten since). The scan must
        be running for anything new to arrive; ``timeout_s`` is real time, because it bounds
        the radio, not the session.
        """
        key = _key(address)
        known = self._found.get(key)
        if known is not None:
            return known
        future: asyncio.Future[DiscoveredStrap] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(future)
        try:
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            return None
        finally:
            waiting = self._waiters.get(key, [])
            with contextlib.suppress(ValueError):
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(key, None)

    def _on_advertisement(self, device: BLEDevice, adv: AdvertisementData) -> None:
        # Runs for every advertisement: timestamp and store, nothing more.
        if HEART_RATE_SERVICE_UUID not in (u.lower() for u in adv.service_uuids):
            return  # bleak filters too, but other programs' scans can leak through
        key = _key(device.address)
        previous = self._found.get(key)
        # The first advertisement may come without the scan response that carries the name.
        name = adv.local_name or device.name or (previous.name if previous else "")
        polar = adv.manufacturer_data.get(POLAR_COMPANY_ID)
        strap = DiscoveredStrap(device.address, name, adv.rssi, self.clock.monotonic(), device,
                                None if polar is None else bytes(polar))
        self._found[key] = strap
        for future in self._waiters.pop(key, []):
            if not future.done():
                future.set_result(strap)
        if self.on_change is not None:
            self.on_change(strap)


async def scan(
    seconds: float,
    adapter: str | None = None,
    backend: type[BaseBleakScanner] | None = None,
) -> list[DiscoveredStrap]:
    """Listen ``seconds`` (real time) and return the straps heard, nearest first.

    Raises bleak's errors; ``drivers.ble_errors.explain_adapter_error`` turns them into a
    sentence for the user.
    """
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"scan time must be a positive number of seconds, got {seconds}")
    async with StrapScanner(adapter=adapter, backend=backend) as scanner:
        await asyncio.sleep(seconds)
    return scanner.discovered
