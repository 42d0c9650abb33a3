"""``StrapLink``: one connection to one strap, from connect to a clean disconnect.

Every await on the Bluetooth stack has a timeout. Notification callbacks only timestamp,
decode and enqueue; a packet that does not decode becomes a ``PacketDropped`` event and the
link carries on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bleak import BleakAdapter, BleakClient
from bleak.backends.adapter import BaseBleakAdapter
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakCharacteristicNotFoundError

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    BodySensorLocation,
    HeartRateMeasurementError,
    decode_battery_level,
    decode_body_sensor_location,
)
from hiaim_monitor.samples import (
    BatteryReading,
    PacketDropped,
    SourceEvent,
    sample_from_notification,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BleTiming:
    """Timeouts bound the Bluetooth stack and are real seconds; backoff, the LOST threshold
    and ``silent_after_s`` are on the session clock (so a simulated clock can speed tests up).
    """

    connect_timeout_s: float = 20.0
    gatt_timeout_s: float = 10.0  # one read, or one notification subscription
    find_timeout_s: float = 10.0  # listening for one strap's advertisement per attempt
    disconnect_timeout_s: float = 5.0
    scan_control_timeout_s: float = 10.0  # starting or stopping a scan
    link_check_interval_s: float = 5.0  # how often a quiet link is asked if it is alive
    stop_timeout_s: float = 10.0  # waiting for strap tasks to end in stop()
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    backoff_jitter: float = 0.5  # up to this fraction of each delay is random
    lost_after_s: float = 60.0  # unreachable this long: LOST, with the hint
    stable_after_s: float = 10.0  # a link that lasted less does not reset the backoff
    silent_after_s: float = config.SILENT_LINK_AFTER_S  # connected, no heart rate: reconnect
    # ...and quiet this long in real seconds too: on a fast simulated clock a monitor that
    # lags a few hundred ms must not take its own lag for a silent strap.
    silent_min_real_s: float = 2.0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name != "backoff_jitter" and not value > 0:
                raise ValueError(f"BleTiming.{name} must be positive, got {value}")
        jitter = self.backoff_jitter
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"BleTiming.backoff_jitter must be in [0, 1), got {jitter}")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("BleTiming.backoff_max_s must not be below backoff_initial_s")


class LinkEnd(StrEnum):
    """Why ``wait_until_disconnected`` returned."""

    DROPPED = "dropped"  # the stack says the link is gone
    SILENT = "silent"  # connected, but no heart rate for silent_after_s


class NotAHeartRateStrap(Exception):
    """The device connected but has no Heart Rate Measurement: retrying will not help."""


class StrapLink:
    """One attempt at a connection to strap ``strap_id`` (what every event names it, e.g.
    ``ble:AA:BB:..``) at Bluetooth ``address`` (what bleak knows) through ``adapter``.

    ``emit`` receives samples, battery readings and dropped packets; it must be cheap and
    thread-safe (normally ``queue.SimpleQueue.put``).
    """

    def __init__(
        self,
        strap_id: str,
        address: str,
        adapter: str,
        clock: Clock,
        emit: Callable[[SourceEvent], None],
        *,
        timing: BleTiming,
        client_backend: type[BaseBleakClient] | None = None,
    ) -> None:
        self.strap_id = strap_id
        self.address = address
        self.adapter = adapter
        self.clock = clock
        self.emit = emit
        self.timing = timing
        self.client_backend = client_backend
        self.client: BleakClient | None = None
        self.location: BodySensorLocation | None = None
        self._lost = asyncio.Event()
        self.last_heard_s: float | None = None  # last 0x2A37 notification, session clock
        self._last_heard_real_s = 0.0  # the same, time.monotonic()
        self._notifying: list[BleakGATTCharacteristic | str] = []
        self._closing: asyncio.Task[None] | None = None

    async def already_connected(
        self, adapter_backend: type[BaseBleakAdapter] | None
    ) -> BLEDevice | None:
        """The strap, when the OS already holds a link to it (left by a crashed run on
        BlueZ, or another app on macOS): it does not advertise then, so a scan never finds it.
        """
        try:
            async with asyncio.timeout(self.timing.gatt_timeout_s):
                adapter = await BleakAdapter.get(
                    bluez={"adapter": self.adapter}, backend=adapter_backend
                )
                devices = await adapter.get_connected_devices([HEART_RATE_SERVICE_UUID])
        except Exception as exc:  # not supported here, or no adapter: the scan will say
            _log.debug("asking %s for connected straps failed: %r", self.adapter, exc)
            return None
        wanted = self.address.upper()
        return next((d for d in devices if d.address.upper() == wanted), None)

    async def connect(self, device: BLEDevice) -> None:
        """Connect to ``device`` (the caller holds the adapter's connect lock)."""
        self.client = BleakClient(
            device,
            self._on_disconnected,
            services=[HEART_RATE_SERVICE_UUID, BATTERY_SERVICE_UUID],
            timeout=self.timing.connect_timeout_s,
            bluez={"adapter": self.adapter},
            backend=self.client_backend,
        )
        async with asyncio.timeout(self.timing.connect_timeout_s):
            await self.client.connect()
        if self.client.is_connected:
            # BlueZ ≥ 5.62 may end an attempt with le-connection-abort-by-local after the
            # link came up and went; bleak's BlueZ backend reports that disconnect and
            # retries within connect(). It was not this link's end.
            self._lost.clear()

    async def subscribe(self, on_streaming: Callable[[], None]) -> None:
        """Start heart-rate notifications, call ``on_streaming``, then read the battery
        (and subscribe to it where the strap notifies it) and the body sensor location."""
        client = self._connected()
        try:
            async with asyncio.timeout(self.timing.gatt_timeout_s):
                await client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_measurement)
        except BleakCharacteristicNotFoundError as exc:
            raise NotAHeartRateStrap(f"{self.strap_id} has no Heart Rate Measurement") from exc
        self._notifying.append(HEART_RATE_MEASUREMENT_UUID)
        self._heard(self.clock.monotonic())  # silence counts from the subscription
        on_streaming()
        # Battery and location are extras: a strap without them still streams.
        try:
            await self._read_battery(client)
        except Exception as exc:
            _log.debug("strap %s: no battery level: %r", self.strap_id, exc)
        try:
            async with asyncio.timeout(self.timing.gatt_timeout_s):
                data = await client.read_gatt_char(BODY_SENSOR_LOCATION_UUID)
            self.location = decode_body_sensor_location(data)
        except Exception as exc:
            _log.debug("strap %s: no body sensor location: %r", self.strap_id, exc)

    async def wait_until_disconnected(self, check_interval_s: float) -> LinkEnd:
        """Return when the link drops, or when it stays up but the strap has sent no heart
        rate for ``timing.silent_after_s``: a stalled strap is no use connected.

        bleak's disconnected callback says so; a link that went quiet without one is asked
        every ``check_interval_s`` (real seconds) whether it is still connected.
        """
        timing = self.timing
        if self.last_heard_s is None:
            self._heard(self.clock.monotonic())
        lost = asyncio.ensure_future(self._lost.wait())
        silence: asyncio.Future[None] | None = None
        try:
            while True:
                assert self.last_heard_s is not None
                session_left_s = timing.silent_after_s - (
                    self.clock.monotonic() - self.last_heard_s)
                real_left_s = timing.silent_min_real_s - (
                    time.monotonic() - self._last_heard_real_s)
                if session_left_s <= 0 and real_left_s <= 0:
                    return LinkEnd.SILENT
                waiters: set[asyncio.Future[object]] = {lost}
                silence = None
                if session_left_s > 0:
                    # Wakes when the silence would be long enough, unless a notification came.
                    silence = asyncio.ensure_future(self.clock.sleep(session_left_s))
                    waiters.add(silence)
                timeout_s = check_interval_s if real_left_s <= 0 else min(
                    check_interval_s, real_left_s)
                done, _ = await asyncio.wait(waiters, timeout=timeout_s,
                                             return_when=asyncio.FIRST_COMPLETED)
                if silence is not None:
                    silence.cancel()
                if lost in done:
                    return LinkEnd.DROPPED
                if not done and (self.client is None or not self.client.is_connected):
                    return LinkEnd.DROPPED
        finally:
            # Not awaited: a cancelled strap task must not wait here (stop() cancels it).
            lost.cancel()
            if silence is not None:
                silence.cancel()

    async def close(self) -> None:
        """Stop notifications and disconnect; never raises, bounded by the timeouts.

        Safe to call again and from several tasks: every call waits for the one clean-up,
        which runs to its end even when a caller is cancelled (stop() cancels strap tasks
        that may be closing their own link at that moment).
        """
        if self._closing is None:
            self._closing = asyncio.create_task(
                self._close(), name=f"ble-close-{self.strap_id}"
            )
        await asyncio.shield(self._closing)

    @property
    def closed(self) -> bool:
        """True once ``close`` has finished."""
        return self._closing is not None and self._closing.done()

    async def _close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        notifying, self._notifying = self._notifying, []
        if client.is_connected:
            for char in notifying:
                try:
                    async with asyncio.timeout(self.timing.disconnect_timeout_s):
                        await client.stop_notify(char)
                except Exception as exc:
                    _log.debug("strap %s: stop_notify failed: %r", self.strap_id, exc)
        # Disconnect even when not (yet) connected: it cancels a pending connect, and a
        # strap left connected cannot be found by the next run.
        try:
            async with asyncio.timeout(self.timing.disconnect_timeout_s):
                await client.disconnect()
        except Exception as exc:
            _log.debug("strap %s: disconnect failed: %r", self.strap_id, exc)

    def _connected(self) -> BleakClient:
        if self.client is None:
            raise RuntimeError("subscribe() needs connect() first")
        return self.client

    async def _read_battery(self, client: BleakClient) -> None:
        char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
        if char is None:
            return
        async with asyncio.timeout(self.timing.gatt_timeout_s):
            data = await client.read_gatt_char(char)
        self.emit(self._battery_event(data))
        if "notify" in char.properties:
            async with asyncio.timeout(self.timing.gatt_timeout_s):
                await client.start_notify(char, self._on_battery)
            self._notifying.append(char)

    def _battery_event(self, data: bytes | bytearray) -> BatteryReading | PacketDropped:
        t = self.clock.monotonic()
        try:
            return BatteryReading(self.strap_id, t, decode_battery_level(data))
        except HeartRateMeasurementError as exc:
            return PacketDropped(self.strap_id, t, str(exc), bytes(data))

    def _on_measurement(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        # The hot path: timestamp, decode, enqueue. A malformed packet comes back as
        # PacketDropped from the same call, so it can never end the link.
        event = sample_from_notification(self.strap_id, data, self.clock)
        self._heard(event.t_mono_s)
        self.emit(event)

    def _heard(self, t_mono_s: float) -> None:
        self.last_heard_s = t_mono_s
        self._last_heard_real_s = time.monotonic()

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        self.emit(self._battery_event(data))

    def _on_disconnected(self, client: BleakClient) -> None:
        # Called on the loop by bleak; a late call from an earlier client changes nothing,
        # because every connect gets a new link.
        if client is self.client:
            self._lost.set()
