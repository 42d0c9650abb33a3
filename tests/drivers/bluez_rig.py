"""The production BLE hub through bleak's own BlueZ backend, against the BlueZ double on a
private dbus-daemon (the fixtures ``system_bus``, one per test module, and ``bluez_rig``, a
double per test, are in tests/drivers/conftest.py).

The hub is built exactly as production builds it (no backend classes): bleak picks its
BlueZ backend, which finds ``org.bluez`` on the bus ``DBUS_SYSTEM_BUS_ADDRESS`` names.
"""

from __future__ import annotations

import random
import sys
from typing import Any

import pytest

if sys.platform != "linux":
    pytest.skip("bleak's BlueZ backend runs only on Linux", allow_module_level=True)

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from drivers.ble import BleStrapHub
from hiaim_monitor.clock import SimulatedClock
from simulators.bluez_double import BluezDouble, BluezStrap
from simulators.faults import FaultConfig
from simulators.fleet import make_strap
from simulators.roster import make_virtual_class
from tests.drivers.emulated import FAST
from tests.drivers.test_ble_driver import PROTOCOL, Rig


class BluezRig(Rig):
    """``Rig`` (statuses, samples, drops) over the BlueZ double instead of bumble."""

    def __init__(self, double: BluezDouble, clock: SimulatedClock) -> None:
        super().__init__(double, clock)  # type: ignore[arg-type]
        self.double = double
        self.straps: list[BluezStrap] = []  # type: ignore[assignment]

    async def add_straps(self, n: int, faults: FaultConfig | None = None, *,  # type: ignore[override]
                         polar: bool = False) -> list[BluezStrap]:
        first = len(self.straps) + 1
        people = make_virtual_class(first + n - 1, seed=5)[first - 1:]
        for index, person in enumerate(people, start=first):
            virtual = make_strap(person, index, protocol=PROTOCOL, session_start_s=0.0,
                                 start_t_s=self.clock.monotonic(), faults=faults)
            self.straps.append(self.double.add_strap(virtual, clock=self.clock, polar=polar))
        return self.straps[first - 1:]

    def source(self, clock: SimulatedClock | None = None, **kwargs: Any) -> BleStrapHub:
        kwargs.setdefault("adapters", self.double.adapter_names)
        kwargs.setdefault("timing", FAST)
        # No backend classes: bleak's own BlueZ backend, as in production.
        source = BleStrapHub(clock or self.clock, rng=random.Random(3), **kwargs)
        self.sources.append(source)
        return source


def assert_nothing_connected(rig: BluezRig) -> None:
    """What BlueZ would say: no Device1 of any adapter is Connected."""
    assert rig.double.connected_devices() == []
    assert not any(s.connected for s in rig.straps)


async def connected_on_the_bus() -> list[str]:
    """The Device1 objects whose ``Connected`` is true, as any D-Bus client (bluetoothctl,
    another program) reads them from org.bluez: GetManagedObjects on a bus of its own."""
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    try:
        reply = await bus.call(Message(destination="org.bluez", path="/",
                                       interface="org.freedesktop.DBus.ObjectManager",
                                       member="GetManagedObjects"))
    finally:
        bus.disconnect()
    assert reply is not None and reply.message_type is MessageType.METHOD_RETURN, reply
    return sorted(path for path, interfaces in reply.body[0].items()
                  if (device := interfaces.get("org.bluez.Device1")) is not None
                  and device["Connected"].value)
