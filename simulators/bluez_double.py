"""A BlueZ double: ``org.bluez`` on a (private) D-Bus system bus, with K adapters and N
emulated heart-rate straps, so bleak's own BlueZ backend runs unchanged against it.

``BluezDouble`` owns the name ``org.bluez`` and exports, with dbus-fast, what bluetoothd
would: one ``Adapter1`` per adapter (``/org/bluez/hci0``, ...), a ``Device1`` per strap an
adapter has heard while discovering, and, once a strap is connected, its GATT objects
(Heart Rate 0x180D with Measurement 0x2A37 and Body Sensor Location 0x2A38, Battery 0x180F
with Battery Level 0x2A19). dbus-fast answers ``GetManagedObjects`` and sends
``InterfacesAdded`` / ``InterfacesRemoved`` for them by itself.

The straps are the same ``VirtualStrap`` models (``simulators.strap``) as the bumble straps,
paced on the strap's ``Clock``; their notifications are Heart Rate Measurement bytes as the
model encodes them, delivered as ``Value`` changes of 0x2A37 while ``StartNotify`` is on. A
Polar strap also advertises its heart rate as manufacturer data (company 0x006B,
``hiaim_monitor.polar_broadcast``).

BlueZ's behaviour where it matters for a group monitor:
- discovery hears every advertising strap every ``advertising_interval_s`` (real seconds)
  and, as BlueZ, signals what changed (RSSI, Polar data) as ``PropertiesChanged``;
- one pending ``Connect`` per adapter: a second one is refused with
  ``org.bluez.Error.InProgress`` (``DoubleAdapter.hold_connect`` plays another program's);
- ``Connect`` replies once connected; ``ServicesResolved`` comes ``services_delay_s`` later;
- ``BluezStrap.abort_next_connect``: BlueZ ≥ 5.62's ``le-connection-abort-by-local`` (the
  link came up and went at once: ``Connected`` true then false, then the error);
- ``power_off``: the strap vanishes (its links drop, its devices are removed);
  ``drop_connection``: the strap ends the link; a STALL fault of the model: connected but
  silent; ``send_raw``: any bytes as a notification.

Radio timing runs on the event loop's real time; heart data on the strap's ``Clock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any, Final

from dbus_fast import BusType
from dbus_fast.aio import MessageBus
from dbus_fast.constants import RequestNameReply
from dbus_fast.service import ServiceInterface

from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    BodySensorLocation,
)
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.session_cue import SessionCue
from simulators.bluez_objects import (
    DOES_NOT_EXIST,
    FAILED,
    IN_PROGRESS,
    NOT_CONNECTED,
    NOT_PERMITTED,
    AdapterInterface,
    DeviceInterface,
    GattCharacteristicInterface,
    GattServiceInterface,
    bluez_error,
)
from simulators.bluez_strap import BluezStrap
from simulators.faults import FaultConfig
from simulators.fleet import make_class_straps
from simulators.physiology import VirtualParticipant
from simulators.strap import VirtualStrap

__all__ = ["BluezDouble", "BluezStrap", "DoubleAdapter"]

logger = logging.getLogger(__name__)

BLUEZ_NAME: Final = "org.bluez"
ABORT_BY_LOCAL: Final = "le-connection-abort-by-local"
# Handles in the GATT database every double strap serves (the path's last four hex digits).
_HR_SERVICE, _HRM, _LOCATION = 0x000A, 0x000B, 0x000E
_BATTERY_SERVICE, _BATTERY_LEVEL = 0x0010, 0x0011


class DoubleCharacteristic:
    """One characteristic of a connected strap, exported while the link is up."""

    def __init__(self, device: DoubleDevice, service_path: str, handle: int, uuid: str,
                 flags: tuple[str, ...], value: bytes = b"") -> None:
        self.device = device
        self.service_path = service_path
        self.path = f"{service_path}/char{handle:04x}"
        self.handle = handle
        self.uuid = uuid
        self.flags = flags
        self.value = value
        self.notifying = False
        self.interface = GattCharacteristicInterface(self)

    def read(self) -> bytes:
        if "read" not in self.flags:
            raise bluez_error(NOT_PERMITTED, "Read not permitted")
        if self.uuid == BATTERY_LEVEL_UUID:
            self.value = bytes([self.device.strap.battery_pct])
        return self.value

    def start_notify(self) -> None:
        if "notify" not in self.flags:
            raise bluez_error(NOT_PERMITTED, "Notify not permitted")
        if not self.notifying:
            self.notifying = True
            self.interface.changed(Notifying=True)

    def stop_notify(self) -> None:
        if not self.notifying:
            raise bluez_error(FAILED, "No notify session started")
        self.notifying = False
        self.interface.changed(Notifying=False)

    def notify(self, data: bytes) -> None:
        self.value = data
        self.interface.changed(Value=data)


class DoubleDevice:
    """One strap as one adapter knows it: ``/org/bluez/hciN/dev_AA_BB_..``."""

    def __init__(self, adapter: DoubleAdapter, strap: BluezStrap) -> None:
        self.adapter = adapter
        self.strap = strap
        self.path = f"{adapter.path}/dev_{strap.address.replace(':', '_')}"
        self.connected = False
        self.services_resolved = False
        self.rssi = strap.rssi()
        self._manufacturer_data = strap.manufacturer_data
        self.interface = DeviceInterface(self)
        self.characteristics: dict[str, DoubleCharacteristic] = {}
        self._gatt: list[tuple[str, ServiceInterface]] = []
        self._cancel_connect: asyncio.Event | None = None

    async def connect(self) -> None:
        adapter, strap = self.adapter, self.strap
        if self.connected:
            return
        if adapter.pending_connect is not None:
            adapter.in_progress_refusals += 1
            raise bluez_error(IN_PROGRESS, "In Progress")
        cancel = self._cancel_connect = asyncio.Event()
        adapter.pending_connect = self.path
        adapter.connects_in_flight_most = max(
            adapter.connects_in_flight_most, adapter.double.pending_connects())
        try:
            # The strap must be advertising for the connection to be made.
            waited_s = 0.0
            while not strap.advertising:
                if cancel.is_set():
                    raise bluez_error(FAILED, "Operation aborted")
                if waited_s >= adapter.double.absent_connect_timeout_s:
                    raise bluez_error(FAILED, "Page Timeout")
                await asyncio.sleep(adapter.double.connect_delay_s)
                waited_s += adapter.double.connect_delay_s
            await asyncio.sleep(adapter.double.connect_delay_s)
            if cancel.is_set():
                raise bluez_error(FAILED, "Operation aborted")
            if not strap.advertising:
                raise bluez_error(FAILED, "Page Timeout")
            if strap.aborts_pending > 0:
                # BlueZ ≥ 5.62: the link came up and the kernel tore it down at once.
                strap.aborts_pending -= 1
                strap.aborts_done += 1
                self.interface.changed(Connected=True)
                self.interface.changed(Connected=False)
                raise bluez_error(FAILED, ABORT_BY_LOCAL)
            self.connected = True
            strap.link_up(self)
            self.interface.changed(Connected=True)
        finally:
            adapter.pending_connect = None
            self._cancel_connect = None
        adapter.double.spawn(self._resolve_services())

    async def _resolve_services(self) -> None:
        # Services resolve after Connect has replied, as bleak must wait for.
        await asyncio.sleep(self.adapter.double.services_delay_s)
        if not self.connected:
            return
        bus = self.adapter.double.bus
        hr = f"{self.path}/service{_HR_SERVICE:04x}"
        battery = f"{self.path}/service{_BATTERY_SERVICE:04x}"
        chars = [
            DoubleCharacteristic(self, hr, _HRM, HEART_RATE_MEASUREMENT_UUID, ("notify",)),
            DoubleCharacteristic(self, hr, _LOCATION, BODY_SENSOR_LOCATION_UUID, ("read",),
                                 bytes([BodySensorLocation.CHEST.value])),
            DoubleCharacteristic(self, battery, _BATTERY_LEVEL, BATTERY_LEVEL_UUID,
                                 ("read", "notify"), bytes([self.strap.battery_pct])),
        ]
        self._gatt = [
            (hr, GattServiceInterface(HEART_RATE_SERVICE_UUID, self.path, _HR_SERVICE)),
            (battery, GattServiceInterface(BATTERY_SERVICE_UUID, self.path, _BATTERY_SERVICE)),
            *((c.path, c.interface) for c in chars),
        ]
        for path, interface in self._gatt:
            bus.export(path, interface)
        self.characteristics = {c.uuid: c for c in chars}
        self.services_resolved = True
        self.interface.changed(ServicesResolved=True)

    async def disconnect(self) -> None:
        if self._cancel_connect is not None:
            self._cancel_connect.set()  # cancels the pending connect, as BlueZ does
            return
        if not self.connected:
            raise bluez_error(NOT_CONNECTED, "Not Connected")
        self.link_down()

    def link_down(self) -> None:
        """End the link (either side): services go, then the connection."""
        if not self.connected:
            return
        bus = self.adapter.double.bus
        self.connected = False
        self.characteristics = {}
        for path, _interface in reversed(self._gatt):
            bus.unexport(path)
        self._gatt = []
        if self.services_resolved:
            self.services_resolved = False
            self.interface.changed(ServicesResolved=False)
        self.interface.changed(Connected=False)
        self.strap.link_gone(self)

    def heard(self) -> None:
        """One advertisement heard while discovering. As BlueZ does, only properties whose
        value changed are signalled (RSSI, the Polar data): an advertisement that changes
        nothing sends no PropertiesChanged at all."""
        values: dict[str, object] = {}
        rssi = self.strap.rssi()
        if rssi != self.rssi:
            self.rssi = values["RSSI"] = rssi
        data = self.strap.manufacturer_data
        if data != self._manufacturer_data:
            self._manufacturer_data = data
            values["ManufacturerData"] = self.interface.ManufacturerData
        if values:
            self.interface.changed(**values)


class DoubleAdapter:
    """One laptop adapter: ``/org/bluez/hciN``."""

    def __init__(self, double: BluezDouble, index: int) -> None:
        self.double = double
        self.name = f"hci{index}"
        self.path = f"/org/bluez/{self.name}"
        self.address = f"C0:00:00:00:00:{index + 1:02X}"
        self.powered = True
        self.discovering = False
        self.discovery_filter: dict[str, object] = {}
        self.devices: dict[str, DoubleDevice] = {}  # strap address → its device here
        self.pending_connect: str | None = None  # device path, or another program's
        self.in_progress_refusals = 0  # Connects refused: another was pending
        self.connects_in_flight_most = 0  # most pending connects over all adapters seen
        self.interface = AdapterInterface(self)

    @property
    def connection_count(self) -> int:
        """Devices this adapter holds connected now (its Device1 ``Connected``)."""
        return sum(d.connected for d in self.devices.values())

    def start_discovery(self) -> None:
        if self.discovering:
            raise bluez_error(IN_PROGRESS, "Operation already in progress")
        self.discovering = True
        self.interface.emit_properties_changed({"Discovering": True})

    def stop_discovery(self) -> None:
        if not self.discovering:
            raise bluez_error(FAILED, "No discovery started")
        self.discovering = False
        self.interface.emit_properties_changed({"Discovering": False})

    def remove_device(self, path: str) -> None:
        device = next((d for d in self.devices.values() if d.path == path), None)
        if device is None:
            raise bluez_error(DOES_NOT_EXIST, "Does Not Exist")
        device.link_down()
        self._remove(device)

    def hear(self, strap: BluezStrap) -> None:
        device = self.devices.get(strap.address)
        if device is None:
            device = self.devices[strap.address] = DoubleDevice(self, strap)
            self.double.bus.export(device.path, device.interface)  # InterfacesAdded
        else:
            device.heard()

    def forget(self, strap: BluezStrap) -> None:
        device = self.devices.get(strap.address)
        if device is not None and not device.connected:
            self._remove(device)

    def _remove(self, device: DoubleDevice) -> None:
        self.devices.pop(device.strap.address, None)
        self.double.bus.unexport(device.path)  # InterfacesRemoved

    @contextlib.asynccontextmanager
    async def hold_connect(self) -> AsyncIterator[None]:
        """Another program's connection attempt pending on this adapter while in the block:
        every Connect meanwhile is refused with InProgress."""
        while self.pending_connect is not None:
            await asyncio.sleep(self.double.connect_delay_s)
        self.pending_connect = "another program"
        try:
            yield
        finally:
            self.pending_connect = None


class BluezDouble:
    """``org.bluez`` with ``adapter_count`` adapters on the system bus (normally the private
    one of ``simulators.private_dbus``), and the straps added to it."""

    def __init__(self, adapter_count: int = 1, *, advertising_interval_s: float = 0.1,
                 connect_delay_s: float = 0.02, services_delay_s: float = 0.03,
                 absent_connect_timeout_s: float = 2.0) -> None:
        if adapter_count < 1:
            raise ValueError(f"the BlueZ double needs at least one adapter, not {adapter_count}")
        self.advertising_interval_s = advertising_interval_s
        self.connect_delay_s = connect_delay_s
        self.services_delay_s = services_delay_s
        self.absent_connect_timeout_s = absent_connect_timeout_s
        self.adapters = {a.name: a for a in (DoubleAdapter(self, i)
                                             for i in range(adapter_count))}
        self.straps: list[BluezStrap] = []
        self._bus: MessageBus | None = None
        self._advertiser: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def adapter_names(self) -> list[str]:
        return list(self.adapters)

    @property
    def bus(self) -> MessageBus:
        if self._bus is None:
            raise RuntimeError("the BlueZ double is not running")
        return self._bus

    def adapter(self, name: str | None = None) -> DoubleAdapter:
        return self.adapters[name or next(iter(self.adapters))]

    def connected_devices(self) -> list[str]:
        """Paths of every Device1 whose ``Connected`` is true: what ``bluetoothctl`` lists."""
        return [d.path for a in self.adapters.values() for d in a.devices.values()
                if d.connected]

    def pending_connects(self) -> int:
        return sum(a.pending_connect is not None for a in self.adapters.values())

    async def start(self, bus_address: str | None = None) -> None:
        """Connect to the system bus (``DBUS_SYSTEM_BUS_ADDRESS``, or ``bus_address``), own
        ``org.bluez`` and export the adapters."""
        if self._bus is not None:
            raise RuntimeError("this BlueZ double is already running")
        bus = (MessageBus(bus_address=bus_address) if bus_address
               else MessageBus(bus_type=BusType.SYSTEM))
        await bus.connect()
        for adapter in self.adapters.values():
            bus.export(adapter.path, adapter.interface)
        reply = await bus.request_name(BLUEZ_NAME)
        if reply is not RequestNameReply.PRIMARY_OWNER:
            bus.disconnect()
            raise RuntimeError(f"{BLUEZ_NAME} is already owned on this bus: a real bluetoothd?")
        self._bus = bus
        self._advertiser = asyncio.create_task(self._advertise(), name="bluez-double-air")

    async def stop(self) -> None:
        """Switch every strap off and leave the bus; afterwards nothing is connected."""
        if self._bus is None:
            return
        advertiser, self._advertiser = self._advertiser, None
        if advertiser is not None:
            advertiser.cancel()
            await asyncio.gather(advertiser, return_exceptions=True)
        for strap in self.straps:
            await strap.stop()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        bus, self._bus = self._bus, None
        bus.disconnect()
        with contextlib.suppress(Exception):
            await bus.wait_for_disconnect()

    def add_strap(self, strap: VirtualStrap, *, clock: Clock, polar: bool = False) -> BluezStrap:
        """Put ``strap`` on the air, switched on and advertising; ``polar``: a Polar H10 that
        broadcasts its heart rate in its advertisements too."""
        if self._bus is None:
            raise RuntimeError("start the BlueZ double before adding straps")
        double_strap = BluezStrap(self, strap, clock, polar=polar)
        if any(s.address == double_strap.address for s in self.straps):
            raise ValueError(f"a strap with index {strap.index} is already on the air")
        self.straps.append(double_strap)
        double_strap.start()
        return double_strap

    def add_class(self, participants: Sequence[VirtualParticipant], *, clock: Clock,
                  cue: SessionCue | None = None, protocol: TrainingProtocol | None = None,
                  session_start_s: float = 0.0, faults: FaultConfig | None = None,
                  seed: int = 0, polar: bool = False) -> list[BluezStrap]:
        """One strap per participant, the straps ``SimulatedStrapHub`` would run (same
        seeds and faults; ``EmulatedBleWorld.add_class`` makes the same over bumble)."""
        straps = make_class_straps(participants, start_t_s=clock.monotonic(),
                                   protocol=protocol, session_start_s=session_start_s,
                                   cue=cue, faults=faults, seed=seed)
        return [self.add_strap(strap, clock=clock, polar=polar) for strap in straps]

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _advertise(self) -> None:
        # Every interval each discovering adapter hears each advertising strap once.
        while True:
            for adapter in self.adapters.values():
                if not adapter.discovering:
                    continue
                for strap in self.straps:
                    if strap.advertising:
                        try:
                            adapter.hear(strap)
                        except Exception:  # the bus went away mid-stop
                            logger.debug("advertisement of %s not sent", strap.name,
                                         exc_info=True)
            await asyncio.sleep(self.advertising_interval_s)
