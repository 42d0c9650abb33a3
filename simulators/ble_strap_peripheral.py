"""One emulated heart-rate chest strap: a bumble peripheral serving a ``VirtualStrap``.

The strap advertises the Heart Rate service under its name, serves Heart Rate (0x180D) and
Battery (0x180F) over GATT, and notifies the ``VirtualStrap``'s Heart Rate Measurement bytes
unchanged while a central is subscribed, paced on the strap's ``Clock``. Tests drive faults
through ``power_off``, ``power_on``, ``drop_connection`` and ``send_raw``, and the strap's own
``FaultConfig`` (a STALL keeps the link up but silent until the central connects again).

A Polar strap (``polar=True``, named "Polar H10 XXXXXXXX") also puts its current heart rate
in its advertisement, as real Polar straps do: manufacturer data of company 0x006B in the
layout of ``hiaim_monitor.polar_broadcast``, renewed with every beat of the model while it
advertises. ``hold_polar_data`` keeps one payload on the air instead (an unworn strap's
fixed value, or malformed bytes).
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Coroutine
from typing import Any, Final

from bumble import hci
from bumble.core import AdvertisingData, BaseBumbleError
from bumble.device import Connection, Device
from bumble.gatt import Attribute, Characteristic, CharacteristicValue, Service

from hiaim_monitor import strap_ids
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import (
    BodySensorLocation,
    HeartRateMeasurementError,
    decode_heart_rate_measurement,
)
from hiaim_monitor.polar_broadcast import POLAR_COMPANY_ID, encode_polar_broadcast
from simulators.ble_link import disconnect_quietly
from simulators.strap import Notification, VirtualStrap, ble_address_for, polar_strap_name

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE_16: Final = 0x180D
HEART_RATE_MEASUREMENT_16: Final = 0x2A37
BODY_SENSOR_LOCATION_16: Final = 0x2A38
BATTERY_SERVICE_16: Final = 0x180F
BATTERY_LEVEL_16: Final = 0x2A19

# Real straps advertise every 100–1000 ms. This runs on the event loop's real time (bumble's
# controller timers), not on the strap's Clock, so it also bounds how fast a connect lands.
ADVERTISING_INTERVAL_MS: Final = 100
_ADV_FLAGS: Final = 0x06  # LE General Discoverable, BR/EDR not supported
_DUE_SLACK_S: Final = 1e-6  # float rounding of a scaled clock must not leave a send undone
_ATT_NOTIFY_HEADER_BYTES: Final = 3  # opcode + handle: a notification carries MTU - 3 bytes
_REASON_POWER_OFF: Final = (
    hci.HCI_ErrorCode.REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF_ERROR
)
_REASON_USER_TERMINATED: Final = hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR


def strap_address_for(index: int) -> hci.Address:
    """``simulators.strap.ble_address_for`` as a bumble random static address."""
    return hci.Address(ble_address_for(index), hci.Address.RANDOM_DEVICE_ADDRESS)


def _uuid16(value: int) -> str:
    return f"{value:04X}"


class EmulatedStrap:
    """A strap on the emulated link, switched on when added; made by ``EmulatedBleWorld.add_strap``.

    Needs a running clock (``RealClock`` or ``SimulatedClock(speed=...)``): on a stepped clock
    every wait moves the clock, so the strap notifies as fast as the event loop turns.
    """

    def __init__(self, strap: VirtualStrap, clock: Clock, device: Device, *,
                 polar: bool = False) -> None:
        self.strap = strap
        self.polar = polar
        self.name = polar_strap_name(strap.index) if polar else strap.name
        self.address = device.random_address.to_string(False)  # as bleak reports it
        self.strap_id = strap_ids.ble(self.address)  # on the air it is a BLE strap
        self.notifications_sent: list[bytes] = []  # 0x2A37 values as they went over the air
        self.battery_notifications_sent: list[bytes] = []
        self.connection_count = 0  # links a central has opened to this strap
        self._clock = clock
        self._device = device
        self._powered = False
        self._connection: Connection | None = None
        self._hrm_subscribed = False
        self._battery_subscribed = False
        self._battery_pct = strap.battery_pct
        self._pacer: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._advertising_lock = asyncio.Lock()
        self._polar_counter = 0  # stepped with every new value, as a Polar strap does
        self._polar_bpm = 0
        self._polar_held: bytes | None = None
        self.polar_data_sent: list[bytes] = []  # Polar payloads that renewed the advertisement
        self._hrm = Characteristic(
            _uuid16(HEART_RATE_MEASUREMENT_16),
            Characteristic.Properties.NOTIFY,
            Attribute.Permissions(0),  # the spec makes 0x2A37 notify-only, never readable
        )
        location = Characteristic(
            _uuid16(BODY_SENSOR_LOCATION_16),
            Characteristic.Properties.READ,
            Attribute.Permissions.READABLE,
            bytes([BodySensorLocation.CHEST.value]),
        )
        self._battery = Characteristic(
            _uuid16(BATTERY_LEVEL_16),
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Attribute.Permissions.READABLE,
            CharacteristicValue(read=lambda _connection: bytes([self._battery_pct])),
        )
        device.add_services(
            [
                Service(_uuid16(HEART_RATE_SERVICE_16), [self._hrm, location]),
                Service(_uuid16(BATTERY_SERVICE_16), [self._battery]),
            ]
        )
        device.advertising_data = self._advertising_data()
        self._hrm.on(Characteristic.EVENT_SUBSCRIPTION, self._on_hrm_subscription)
        self._battery.on(Characteristic.EVENT_SUBSCRIPTION, self._on_battery_subscription)
        device.on(Device.EVENT_CONNECTION, self._on_connection)

    def _advertising_data(self) -> bytes:
        fields = [
            (AdvertisingData.Type.FLAGS, bytes([_ADV_FLAGS])),
            (
                AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                struct.pack("<H", HEART_RATE_SERVICE_16),
            ),
            (AdvertisingData.Type.COMPLETE_LOCAL_NAME, self.name.encode()),
        ]
        if self.polar:
            # A real strap splits this over its advertisement and scan response (31 bytes
            # each); bumble's controller sends one data set for both, with no such limit.
            fields.append((AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA,
                           struct.pack("<H", POLAR_COMPANY_ID) + self.polar_payload))
        return bytes(AdvertisingData(fields))

    @property
    def polar_payload(self) -> bytes:
        """The Polar data (after the company id) the strap advertises now."""
        if self._polar_held is not None:
            return self._polar_held
        return encode_polar_broadcast(self._polar_bpm, counter=self._polar_counter)

    async def hold_polar_data(self, payload: bytes | None) -> None:
        """Advertise ``payload`` as the Polar data from now on, whatever the heart does
        (e.g. ``encode_polar_broadcast(72, counter=3)``: an unworn strap's fixed value, or
        bytes that do not decode); None goes back to the model's heart rate."""
        if not self.polar:
            raise RuntimeError(f"{self.name} is not a Polar strap: it broadcasts no heart rate")
        self._polar_held = None if payload is None else bytes(payload)
        await self._update_advertising()

    async def _advertise_beat(self, data: bytes) -> None:
        try:
            bpm = decode_heart_rate_measurement(data).bpm
        except HeartRateMeasurementError:
            return  # a malformed notification (a fault) carries no value to broadcast
        self._polar_bpm = min(bpm, 0xFF)
        self._polar_counter = (self._polar_counter + 1) % 8
        if self._polar_held is None:
            await self._update_advertising()

    async def _update_advertising(self) -> None:
        data = self._advertising_data()
        async with self._advertising_lock:
            self._device.advertising_data = data  # what the next start_advertising sends
            advertising_set = self._device.legacy_advertising_set
            if advertising_set is not None and advertising_set.enabled:
                try:
                    await advertising_set.set_advertising_data(data)
                except BaseBumbleError as exc:
                    logger.debug("%s: advertising data not updated: %s", self.name, exc)
                    return
                self.polar_data_sent.append(self.polar_payload)

    @property
    def connected(self) -> bool:
        """True while a central holds a link to this strap."""
        return self._connection is not None

    @property
    def powered(self) -> bool:
        return self._powered

    @property
    def subscribed(self) -> bool:
        """True while the connected central has Heart Rate Measurement notifications on."""
        return self._hrm_subscribed

    @property
    def battery_pct(self) -> int:
        return self._battery_pct

    async def power_on(self) -> None:
        """Switch the strap on: it advertises until a central connects."""
        if self._powered:
            return
        self._powered = True
        if self._pacer is None:
            self._pacer = asyncio.create_task(self._pace(), name=f"emulated-{self.name}")
            self._pacer.add_done_callback(self._on_pacer_done)
        await self._sync_advertising()

    async def power_off(self) -> None:
        """Switch the strap off: the link drops and the strap stops advertising (vanishes)."""
        self._powered = False
        await self._sync_advertising()
        await self._disconnect(_REASON_POWER_OFF)

    async def drop_connection(self) -> None:
        """Drop the link from the strap's side; the strap advertises again for a reconnect."""
        if self._connection is None:
            raise RuntimeError(f"{self.name} has no connection to drop")
        await self._disconnect(_REASON_USER_TERMINATED)

    async def send_raw(self, data: bytes) -> None:
        """Notify ``data`` on 0x2A37 as is (e.g. malformed), outside the model's schedule."""
        if not self._hrm_subscribed:
            raise RuntimeError(f"{self.name}: no central is subscribed to 0x2A37")
        await self._notify_hrm(bytes(data))

    async def _shutdown(self) -> None:
        """Power off for good: the world is stopping."""
        pacer, self._pacer = self._pacer, None
        if pacer is not None:
            pacer.cancel()
            await asyncio.gather(pacer, return_exceptions=True)
        await self.power_off()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _pace(self) -> None:
        # The heart keeps beating while nobody listens: the model always advances, and what
        # is due while no central is subscribed is lost, as on a real strap.
        while True:
            wait_s = self.strap.next_due_s - self._clock.monotonic()
            if wait_s > 0:
                await self._clock.sleep(wait_s)
                continue
            for note in self.strap.notifications_until(self._clock.monotonic() + _DUE_SLACK_S):
                await self._deliver(note)
            if self.strap.battery_empty and self._powered:
                await self.power_off()

    def _on_pacer_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s stopped notifying", self.name, exc_info=task.exception())

    async def _deliver(self, note: Notification) -> None:
        try:
            if note.battery_pct is not None:
                self._battery_pct = note.battery_pct
                if self._battery_subscribed:
                    sent = await self._notify(self._battery, bytes([note.battery_pct]))
                    if sent is not None:
                        self.battery_notifications_sent.append(sent)
            if self._powered and self._hrm_subscribed:
                await self._notify_hrm(note.data)
            if self.polar:
                await self._advertise_beat(note.data)
        except BaseBumbleError as exc:
            # The link can vanish between the check and the send; the next tick tries again.
            logger.debug("%s: notification not sent: %s", self.name, exc)

    async def _notify_hrm(self, data: bytes) -> None:
        sent = await self._notify(self._hrm, data)
        if sent is not None:
            self.notifications_sent.append(sent)

    async def _notify(self, characteristic: Characteristic, data: bytes) -> bytes | None:
        connection = self._connection
        if connection is None:
            return None
        # bumble cuts a notification to the MTU; record what actually goes over the air.
        payload = data[: connection.att_mtu - _ATT_NOTIFY_HEADER_BYTES]
        await self._device.notify_subscriber(connection, characteristic, payload)
        return payload

    async def _disconnect(self, reason: int) -> None:
        if self._connection is not None:
            await disconnect_quietly(self._device, self._connection, reason)

    async def _sync_advertising(self) -> None:
        # Advertise exactly while powered and unconnected. A lock keeps a power-off racing a
        # disconnection's re-advertise from leaving a switched-off strap on the air.
        async with self._advertising_lock:
            want = self._powered and self._connection is None
            advertising = self._device.legacy_advertising_set is not None and (
                self._device.legacy_advertising_set.enabled
            )
            if want and not advertising:
                await self._device.start_advertising(
                    advertising_interval_min=ADVERTISING_INTERVAL_MS,
                    advertising_interval_max=ADVERTISING_INTERVAL_MS,
                )
            elif not want:
                await self._device.stop_advertising()

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self.connection_count += 1
        self.strap.new_connection()
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        if not self._powered:
            # A central's connect landed while the strap was switching off.
            self._spawn(self._disconnect(_REASON_POWER_OFF))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._hrm_subscribed = False
        self._battery_subscribed = False
        self._spawn(self._sync_advertising())

    def _on_hrm_subscription(self, _bearer: Any, notify: bool, _indicate: bool) -> None:
        self._hrm_subscribed = notify

    def _on_battery_subscription(self, _bearer: Any, notify: bool, _indicate: bool) -> None:
        self._battery_subscribed = notify
