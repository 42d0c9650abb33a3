"""Fixtures of the driver tests that run bleak's BlueZ backend against the BlueZ double."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from hiaim_monitor.clock import SimulatedClock
from simulators.private_dbus import DbusDaemonMissing, PrivateSystemBus
from tests.conftest import cannot_run
from tests.drivers.emulated import CLOCK_SPEED

if TYPE_CHECKING:
    from tests.drivers.bluez_rig import BluezRig


@pytest.fixture(scope="module")
def system_bus() -> Iterator[PrivateSystemBus]:
    """A dbus-daemon of the module's own, never the machine's system bus."""
    bus = PrivateSystemBus()
    try:
        bus.start()
    except DbusDaemonMissing as exc:
        cannot_run(str(exc), install="apt-get install dbus-daemon")
    try:
        yield bus
    finally:
        bus.stop()


@pytest.fixture
async def bluez_rig(system_bus: PrivateSystemBus) -> AsyncIterator[BluezRig]:
    # Imported here: the BlueZ double needs dbus-fast, which bleak brings only on Linux.
    from simulators.bluez_double import BluezDouble
    from tests.drivers.bluez_rig import BluezRig

    double = BluezDouble(adapter_count=2)
    await double.start()
    rig = BluezRig(double, SimulatedClock(speed=CLOCK_SPEED))
    try:
        yield rig
    finally:
        for source in rig.sources:
            await source.stop()
        await double.stop()
