"""A bleak backend over the emulated BLE world (bumble).

``BleakScanner(..., backend=BumbleScanner)`` and ``BleakClient(..., backend=BumbleClient)``
reach the straps of the installed ``EmulatedBleWorld`` through bumble's central stack, with
BlueZ's behaviour where drivers depend on it:

- ``bluez={"adapter": "hciN"}`` picks the adapter; without it the first one is used. A
  client made from a scanned ``BLEDevice`` connects through the adapter that saw it.
- One connection attempt per adapter: a second ``connect()`` on the same adapter while one
  is in progress fails at once with ``[org.bluez.Error.InProgress]``.
- A connect to a strap that is not advertising raises ``TimeoutError`` after the client's
  ``timeout``.
- The disconnected callback fires on every disconnection, as BlueZ's backend does.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeVar

from bleak import BleakScanner
from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import (
    AdvertisementData,
    AdvertisementDataCallback,
    BaseBleakScanner,
)
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
)
from bleak.uuids import normalize_uuid_str
from bumble import att, core, hci
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Peer
from bumble.gatt_client import CharacteristicProxy

from simulators.ble_emulation import EmulatedAdapter, installed_world
from simulators.ble_link import connection_is_open, disconnect_quietly

logger = logging.getLogger(__name__)

BLUEZ_IN_PROGRESS: Final = "org.bluez.Error.InProgress"
_REASON_HOST_DISCONNECT: Final = hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR
_ATT_WRITE_HEADER_BYTES: Final = 3
# BlueZ serves Generic Access and Generic Attribute itself and never exports them to bleak.
_BLUEZ_HIDDEN_SERVICES: Final = frozenset(normalize_uuid_str(u) for u in ("1800", "1801"))
_UUID_LIST_TYPES: Final = (
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)

_T = TypeVar("_T")


def _adapter(name: str | None) -> EmulatedAdapter:
    world = installed_world()
    if world is None:
        raise BleakBluetoothNotAvailableError(
            "No emulated BLE world is running: start an EmulatedBleWorld first.",
            BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
        )
    try:
        return world.adapter(name)
    except KeyError:
        raise BleakError(f"adapter '{name}' not found") from None


def bleak_uuid(value: core.UUID) -> str:
    """bumble's UUID as bleak writes it: 128-bit, lower case."""
    # bumble keeps UUID bytes little-endian, as they travel over the air.
    return normalize_uuid_str(str(uuid.UUID(bytes=bytes(reversed(value.uuid_128_bytes)))))


def _advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    data = advertisement.data
    name = data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.Type.SHORTENED_LOCAL_NAME
    )
    service_uuids: list[str] = []
    for ad_type in _UUID_LIST_TYPES:
        for uuids in data.get_all(ad_type):
            # bumble's controller repeats the advertising data as scan response, so the
            # merged report holds each list twice.
            service_uuids += [u for u in map(bleak_uuid, uuids) if u not in service_uuids]
    manufacturer_data = dict(data.get_all(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA))
    service_data = {
        bleak_uuid(service): bytes(value)
        for ad_type in (
            AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID,
            AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID,
            AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID,
        )
        for service, value in data.get_all(ad_type)
    }
    return AdvertisementData(
        local_name=str(name) if name is not None else None,
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=data.get(AdvertisingData.Type.TX_POWER_LEVEL),
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: advertisements heard by one emulated adapter."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        bluez: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._adapter_name: str | None = (bluez or {}).get("adapter")
        self._adapter: EmulatedAdapter | None = None

    async def start(self) -> None:
        adapter = _adapter(self._adapter_name)
        self.seen_devices = {}
        self._adapter = adapter  # reports can arrive before scanning has fully started
        await adapter.add_scan_listener(self._on_advertisement)

    async def stop(self) -> None:
        adapter, self._adapter = self._adapter, None
        if adapter is not None:
            await adapter.remove_scan_listener(self._on_advertisement)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = _advertisement_data(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        assert self._adapter is not None
        address = advertisement.address.to_string(False)
        details = {"adapter": self._adapter.name, "address": advertisement.address}
        device = self.create_or_update_device(address, address, adv.local_name, details, adv)
        self.call_detection_callbacks(device, adv)


def _properties(proxy: CharacteristicProxy[bytes]) -> list[CharacteristicPropertyName]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if proxy.properties & bit]


class BumbleClient(BaseBleakClient):
    """bleak client backend: a GATT client on one emulated adapter."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        services: set[str] | None = None,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        bluez: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._adapter_name: str | None = (bluez or {}).get("adapter")
        self._peer_address: hci.Address | None = None
        self._name = str(self.address).replace(":", "-")  # bleak's fallback without a name
        if isinstance(address_or_ble_device, BLEDevice):
            details = address_or_ble_device.details
            if isinstance(details, dict) and isinstance(details.get("address"), hci.Address):
                self._peer_address = details["address"]
                # BlueZ's device object lives under the adapter that saw it, and connecting
                # uses that object: the device's adapter wins over bluez={"adapter": ...}.
                self._adapter_name = details.get("adapter", self._adapter_name)
            self._name = address_or_ble_device.name or self._name
        self._requested_services = services
        self._adapter: EmulatedAdapter | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Open a link through the chosen adapter and discover the strap's services."""
        if self.is_connected:
            raise BleakError("Client is already connected")
        if pair:
            logger.info("emulated straps need no pairing: connecting without it")
        timeout_s: float = kwargs.get("timeout", self._timeout)
        adapter = _adapter(self._adapter_name)
        if adapter.connect_in_progress:
            raise BleakDBusError(BLUEZ_IN_PROGRESS, ["Operation already in progress"])
        adapter.connect_in_progress = True
        self._adapter = adapter
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        try:
            peer_address = self._peer_address or await self._find(timeout_s)
            connection = await self._open_link(adapter, peer_address, deadline - loop.time())
            self._attach(connection)
            try:
                async with asyncio.timeout_at(deadline):
                    self.services = await self._discover(Peer(connection))
            except BaseException:
                await disconnect_quietly(adapter.device, connection, _REASON_HOST_DISCONNECT)
                raise
        finally:
            adapter.connect_in_progress = False

    async def _find(self, timeout_s: float) -> hci.Address:
        # As BlueZ: a client made from a bare address has to see the device advertise first.
        device = await BleakScanner.find_device_by_address(
            self.address,
            timeout=timeout_s,
            bluez={"adapter": self._adapter_name} if self._adapter_name else {},
            backend=BumbleScanner,
        )
        if device is None:
            raise BleakDeviceNotFoundError(
                self.address, f"Device with address {self.address} was not found."
            )
        self._name = device.name or self._name
        address: hci.Address = device.details["address"]
        return address

    async def _open_link(
        self, adapter: EmulatedAdapter, peer_address: hci.Address, timeout_s: float
    ) -> Connection:
        try:
            # bumble's own timeout cancels the attempt at the controller; a plain task
            # cancellation would leave it pending there (see _abandon).
            return await adapter.device.connect(peer_address, timeout=max(timeout_s, 0.0))
        except core.TimeoutError as exc:
            raise TimeoutError(
                f"Connecting to {self.address} on {adapter.name} timed out: "
                "the strap is not advertising (off, out of range or held by another central)."
            ) from exc
        except asyncio.CancelledError:
            await asyncio.shield(self._abandon(adapter, peer_address))
            raise
        except core.BaseBumbleError as exc:
            raise BleakError(
                f"Connecting to {self.address} on {adapter.name} failed: {exc}"
            ) from exc

    @staticmethod
    async def _abandon(adapter: EmulatedAdapter, peer_address: hci.Address) -> None:
        # The caller gave up: end the attempt, and close a link that landed meanwhile.
        await adapter.cancel_pending_connect()
        for connection in list(adapter.device.connections.values()):
            if connection.peer_address == peer_address:
                await disconnect_quietly(adapter.device, connection, _REASON_HOST_DISCONNECT)

    def _attach(self, connection: Connection) -> None:
        self._connection = connection
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        self._subscribers.clear()
        self.services = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            service_uuid = bleak_uuid(service.uuid)
            if service_uuid in _BLUEZ_HIDDEN_SERVICES or (
                self._requested_services and service_uuid not in self._requested_services
            ):
                continue
            bleak_service = BleakGATTService(service, service.handle, service_uuid)
            collection.add_service(bleak_service)
            for char in await peer.discover_characteristics(service=service):
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    bleak_uuid(char.uuid),
                    _properties(char),
                    lambda: self.mtu_size - _ATT_WRITE_HEADER_BYTES,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in await peer.discover_descriptors(char):
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, bleak_uuid(descriptor.type), bleak_char
                        )
                    )
        self._peer = peer
        return collection

    async def disconnect(self) -> None:
        """Close the link; the disconnected callback fires once it is down."""
        connection, adapter = self._connection, self._adapter
        if connection is None or adapter is None:
            return
        await disconnect_quietly(adapter.device, connection, _REASON_HOST_DISCONNECT)
        if self._connection is connection and not connection_is_open(adapter.device, connection):
            self._on_disconnection(_REASON_HOST_DISCONNECT)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("Pairing is not emulated: heart-rate straps do not need it.")

    async def unpair(self) -> None:
        raise BleakError("Pairing is not emulated: heart-rate straps do not need it.")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def _gatt(self, request: Awaitable[_T]) -> _T:
        try:
            return await request
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # bumble cancels a request's pending response when the link drops under it.
            raise BleakError("Not connected: the link dropped during the request") from None
        except core.BaseBumbleError as exc:
            raise BleakError(f"GATT request to {self.address} failed: {exc}") from exc

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self._gatt(peer.read_value(characteristic.obj)))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        return bytearray(await self._gatt(peer.read_value(descriptor.obj)))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        peer = self._require_peer()
        await self._gatt(peer.write_value(characteristic.obj, bytes(data), response))

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        peer = self._require_peer()
        await self._gatt(peer.write_value(descriptor.obj, bytes(data), True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require_peer()

        def forward(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = forward
        await self._gatt(peer.subscribe(characteristic.obj, forward))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require_peer()
        forward = self._subscribers.pop(characteristic.handle, None)
        await self._gatt(peer.unsubscribe(characteristic.obj, forward))
