"""The D-Bus face of the BlueZ double: ``org.bluez`` interfaces exported with dbus-fast.

Each class only translates D-Bus calls and properties to its owner in
``simulators.bluez_double`` (which holds the behaviour) and back. Names, paths, property
types and error names follow BlueZ's D-Bus API (doc/org.bluez.Adapter.rst, Device.rst,
GattService.rst, GattCharacteristic.rst) as bleak's BlueZ backend reads them: it needs the
object paths in BlueZ's shape (``/org/bluez/hci0/dev_AA_BB_../service000a/char000b``, the
handle in the last four hex digits).

No ``from __future__ import annotations`` here: dbus-fast reads the D-Bus signatures from
the annotations at class creation.
"""

from typing import TYPE_CHECKING, Annotated, Any, Final

from dbus_fast import Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.errors import DBusError
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

if TYPE_CHECKING:
    from simulators.bluez_double import DoubleAdapter, DoubleCharacteristic, DoubleDevice

ADAPTER_INTERFACE: Final = "org.bluez.Adapter1"
DEVICE_INTERFACE: Final = "org.bluez.Device1"
SERVICE_INTERFACE: Final = "org.bluez.GattService1"
CHARACTERISTIC_INTERFACE: Final = "org.bluez.GattCharacteristic1"

# BlueZ's error names (doc/org.bluez.*.rst).
IN_PROGRESS: Final = "org.bluez.Error.InProgress"
FAILED: Final = "org.bluez.Error.Failed"
NOT_CONNECTED: Final = "org.bluez.Error.NotConnected"
NOT_PERMITTED: Final = "org.bluez.Error.NotPermitted"
DOES_NOT_EXIST: Final = "org.bluez.Error.DoesNotExist"
NOT_READY: Final = "org.bluez.Error.NotReady"

StrList = Annotated[list[str], DBusSignature("as")]
ManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]


def bluez_error(name: str, text: str) -> DBusError:
    return DBusError(name, text)


class AdapterInterface(ServiceInterface):
    def __init__(self, owner: "DoubleAdapter") -> None:
        super().__init__(ADAPTER_INTERFACE)
        self.owner = owner

    @dbus_method()
    def StartDiscovery(self) -> None:
        self.owner.start_discovery()

    @dbus_method()
    def StopDiscovery(self) -> None:
        self.owner.stop_discovery()

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        self.owner.discovery_filter = dict(properties)

    @dbus_method()
    def GetDiscoveryFilters(self) -> StrList:
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable"]

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        self.owner.remove_device(device)

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.owner.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.owner.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self.owner.name

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> DBusBool:
        return self.owner.powered

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Pairable(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self.owner.discovering

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> StrList:
        return []

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> StrList:
        return ["central", "peripheral"]


class DeviceInterface(ServiceInterface):
    def __init__(self, owner: "DoubleDevice") -> None:
        super().__init__(DEVICE_INTERFACE)
        self.owner = owner

    @dbus_method()
    async def Connect(self) -> None:
        await self.owner.connect()

    @dbus_method()
    async def Disconnect(self) -> None:
        await self.owner.disconnect()

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.owner.strap.address

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "random"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.owner.strap.name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self.owner.strap.name

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return self.owner.adapter.path

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Trusted(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def LegacyPairing(self) -> DBusBool:
        return False

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self.owner.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self.owner.services_resolved

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self.owner.rssi

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> StrList:
        return list(self.owner.strap.advertised_uuids)

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> ManufacturerData:
        return {company: Variant("ay", data)
                for company, data in self.owner.strap.manufacturer_data.items()}

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> DBusDict:
        return {}

    def changed(self, **values: Any) -> None:
        """Tell the bus that these properties changed (a PropertiesChanged signal)."""
        self.emit_properties_changed(values)


class GattServiceInterface(ServiceInterface):
    def __init__(self, uuid: str, device_path: str, handle: int) -> None:
        super().__init__(SERVICE_INTERFACE)
        self._uuid, self._device_path, self._handle = uuid, device_path, handle

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self._device_path

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Handle(self) -> DBusUInt16:
        return self._handle


class GattCharacteristicInterface(ServiceInterface):
    def __init__(self, owner: "DoubleCharacteristic") -> None:
        super().__init__(CHARACTERISTIC_INTERFACE)
        self.owner = owner

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        return self.owner.read()

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        raise bluez_error(NOT_PERMITTED, "Write not permitted")

    @dbus_method()
    def StartNotify(self) -> None:
        self.owner.start_notify()

    @dbus_method()
    def StopNotify(self) -> None:
        self.owner.stop_notify()

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.owner.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self.owner.service_path

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.owner.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.owner.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> StrList:
        return list(self.owner.flags)

    @dbus_property(access=PropertyAccess.READ)
    def Handle(self) -> DBusUInt16:
        return self.owner.handle

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> DBusUInt16:
        return 247

    def changed(self, **values: Any) -> None:
        self.emit_properties_changed(values)
