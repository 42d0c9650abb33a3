"""Emulated straps over a real BLE stack (bumble), reached only through bleak's public API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    BodySensorLocation,
    HeartRateMeasurementError,
    decode_body_sensor_location,
    decode_heart_rate_measurement,
)
from hiaim_monitor.protocols import load_protocol
from simulators.ble_emulation import EmulatedBleWorld, EmulatedStrap, installed_world
from simulators.bleak_bumble import BumbleClient, BumbleScanner
from simulators.faults import FaultConfig
from simulators.fleet import make_strap
from simulators.roster import make_virtual_class
from tests.conftest import wait_until

PROTOCOL = load_protocol("hi-aim")
CLOCK_SPEED = 20  # one notification per strap every 50 ms of real time
WAIT_S = 3.0  # generous: every wait below normally ends within a few hundred ms


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(speed=CLOCK_SPEED)


@pytest.fixture
async def world() -> AsyncIterator[EmulatedBleWorld]:
    async with EmulatedBleWorld(adapter_count=2) as running:
        yield running


async def add_straps(
    world: EmulatedBleWorld, clock: SimulatedClock, n: int, faults: FaultConfig | None = None
) -> list[EmulatedStrap]:
    people = make_virtual_class(n, seed=11)
    return [
        await world.add_strap(
            make_strap(
                person,
                index,
                protocol=PROTOCOL,
                session_start_s=0.0,
                start_t_s=clock.monotonic(),
                faults=faults,
            ),
            clock=clock,
        )
        for index, person in enumerate(people, start=1)
    ]


async def find(strap: EmulatedStrap, adapter: str = "hci0") -> BLEDevice:
    device = await BleakScanner.find_device_by_address(
        strap.address, timeout=WAIT_S, bluez={"adapter": adapter}, backend=BumbleScanner
    )
    assert device is not None, f"{strap.name} was not found"
    return device


class Received:
    """Collects notifications through a coroutine callback, as drivers may pass one."""

    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def callback(self, _sender: BleakGATTCharacteristic, data: bytearray) -> None:
        self.values.append(bytes(data))


async def test_scanner_discovers_every_strap_with_name_heart_rate_service_and_rssi(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    straps = await add_straps(world, clock, 3)
    seen: dict[str, tuple[BLEDevice, AdvertisementData]] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        seen[device.address] = (device, adv)

    scanner = BleakScanner(
        on_advertisement,
        service_uuids=[HEART_RATE_SERVICE_UUID],
        bluez={"adapter": "hci0"},
        backend=BumbleScanner,
    )
    await scanner.start()
    await wait_until(lambda: len(seen) == 3, "all three straps advertise")
    await scanner.stop()

    assert set(seen) == {s.address for s in straps}
    for strap in straps:
        device, adv = seen[strap.address]
        assert device.name == adv.local_name == strap.name
        assert adv.service_uuids == [HEART_RATE_SERVICE_UUID]
        assert -127 < adv.rssi < 0
    assert set(scanner.discovered_devices_and_advertisement_data) == set(seen)


async def test_scanner_filter_hides_straps_without_the_requested_service(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    await add_straps(world, clock, 1)
    # Straps advertise only the Heart Rate service; Battery lives in GATT alone.
    found = await BleakScanner.discover(
        timeout=0.3, service_uuids=[BATTERY_SERVICE_UUID], backend=BumbleScanner
    )
    assert found == []


async def test_client_reads_battery_and_chest_location_through_chosen_adapter(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    (strap,) = await add_straps(world, clock, 1)
    client = BleakClient(
        await find(strap, "hci1"), timeout=WAIT_S, bluez={"adapter": "hci1"}, backend=BumbleClient
    )
    await client.connect()

    assert client.is_connected and strap.connected and strap.connection_count == 1
    assert world.adapter("hci1").connection_count == 1
    assert world.adapter("hci0").connection_count == 0
    assert {s.uuid for s in client.services} == {HEART_RATE_SERVICE_UUID, BATTERY_SERVICE_UUID}
    assert "notify" in client.services.get_characteristic(HEART_RATE_MEASUREMENT_UUID).properties
    assert await client.read_gatt_char(BATTERY_LEVEL_UUID) == bytearray([strap.battery_pct])
    location = await client.read_gatt_char(BODY_SENSOR_LOCATION_UUID)
    assert decode_body_sensor_location(location) is BodySensorLocation.CHEST
    await client.disconnect()
    assert not client.is_connected


async def test_notifications_arrive_byte_exact_and_decode(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    (strap,) = await add_straps(world, clock, 1)
    client = BleakClient(await find(strap), timeout=WAIT_S, backend=BumbleClient)
    await client.connect()
    received = Received()

    await client.start_notify(HEART_RATE_MEASUREMENT_UUID, received.callback)
    await wait_until(lambda: len(received.values) >= 8, "eight notifications")
    await client.stop_notify(HEART_RATE_MEASUREMENT_UUID)
    await wait_until(lambda: len(received.values) == len(strap.notifications_sent), "in flight")

    assert received.values == strap.notifications_sent
    decoded = [decode_heart_rate_measurement(v) for v in received.values]
    assert all(40 <= m.bpm <= 220 and not m.malformed for m in decoded)
    assert sum(len(m.rr_raw) for m in decoded) >= len(decoded)  # beats carried as RR values
    sent_before = len(strap.notifications_sent)
    await asyncio.sleep(0.2)  # a spell of silence is what is tested
    assert len(strap.notifications_sent) == sent_before  # unsubscribed: the strap stays quiet


async def test_two_straps_stream_at_once_on_two_adapters(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    straps = await add_straps(world, clock, 2)
    clients = [
        BleakClient(
            await find(strap, adapter),
            timeout=WAIT_S,
            bluez={"adapter": adapter},
            backend=BumbleClient,
        )
        for strap, adapter in zip(straps, world.adapters, strict=True)
    ]
    streams = [Received(), Received()]
    for client, stream in zip(clients, streams, strict=True):
        await client.connect()
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, stream.callback)

    await wait_until(lambda: all(len(s.values) >= 5 for s in streams), "both straps stream")
    for strap, stream in zip(straps, streams, strict=True):
        assert stream.values == strap.notifications_sent[: len(stream.values)]
    assert [world.adapter(a).connection_count for a in world.adapters] == [1, 1]


async def test_second_connect_on_a_busy_adapter_fails_fast_with_in_progress(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    first, second = await add_straps(world, clock, 2)
    devices = [await find(first), await find(second)]
    clients = [BleakClient(d, timeout=WAIT_S, backend=BumbleClient) for d in devices]

    pending = asyncio.create_task(clients[0].connect())
    await asyncio.sleep(0)  # one turn of the loop starts the first attempt (no waiting)
    assert world.adapter().connect_in_progress  # it waits for its strap to advertise
    with pytest.raises(BleakError, match="InProgress"):
        await clients[1].connect()
    assert not clients[0].is_connected  # refused while the first was still in progress

    await pending
    await clients[1].connect()  # one after the other works
    assert all(c.is_connected for c in clients)


async def test_parallel_connects_on_one_adapter_leave_exactly_one_in_progress_error(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    straps = await add_straps(world, clock, 2)
    clients = [BleakClient(s.address, timeout=WAIT_S, backend=BumbleClient) for s in straps]

    results = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], BleakError) and "InProgress" in str(errors[0])
    assert sum(c.is_connected for c in clients) == 1


async def test_strap_side_drop_fires_disconnected_callback_and_reconnect_works(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    (strap,) = await add_straps(world, clock, 1)
    dropped: list[BleakClient] = []
    client = BleakClient(
        await find(strap),
        disconnected_callback=dropped.append,
        timeout=WAIT_S,
        backend=BumbleClient,
    )
    await client.connect()
    await client.start_notify(HEART_RATE_MEASUREMENT_UUID, Received().callback)

    await strap.drop_connection()
    await wait_until(lambda: dropped == [client], "the disconnected callback fires")
    assert not client.is_connected and not strap.connected

    await client.connect()  # the strap advertises again after the drop
    received = Received()
    await client.start_notify(HEART_RATE_MEASUREMENT_UUID, received.callback)
    await wait_until(lambda: len(received.values) >= 2, "notifications after reconnecting")
    assert strap.connection_count == 2


async def test_powered_off_strap_cannot_be_reached_until_powered_on(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    (strap,) = await add_straps(world, clock, 1)
    device = await find(strap)
    dropped: list[BleakClient] = []
    holder = BleakClient(
        device, disconnected_callback=dropped.append, timeout=WAIT_S, backend=BumbleClient
    )
    await holder.connect()

    await strap.power_off()
    await wait_until(lambda: dropped == [holder], "the link drops when the strap goes off")
    assert (
        await BleakScanner.find_device_by_address(strap.address, timeout=0.3, backend=BumbleScanner)
        is None
    )
    client = BleakClient(device, timeout=0.4, backend=BumbleClient)
    with pytest.raises((TimeoutError, BleakError)):
        await client.connect()
    assert not client.is_connected

    await strap.power_on()
    await client.connect()  # the timed-out attempt left the adapter free
    assert client.is_connected and strap.connected


async def test_raw_bytes_arrive_as_sent_even_when_malformed(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    (strap,) = await add_straps(world, clock, 1)
    client = BleakClient(await find(strap), timeout=WAIT_S, backend=BumbleClient)
    await client.connect()
    received = Received()
    await client.start_notify(HEART_RATE_MEASUREMENT_UUID, received.callback)

    await strap.send_raw(b"\x10")
    await wait_until(lambda: b"\x10" in received.values, "the raw notification arrives")

    assert b"\x10" in strap.notifications_sent
    with pytest.raises(HeartRateMeasurementError):
        decode_heart_rate_measurement(b"\x10")  # flags promise a heart rate that is missing


async def test_battery_notifies_as_it_drains_and_an_empty_strap_vanishes(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    # 1 %/s of strap time from 20 %: empty after about 20 s (one second at 20x).
    faults = FaultConfig(battery_start_pct=(20, 20), battery_drain_pct_per_h=3600.0)
    (strap,) = await add_straps(world, clock, 1, faults)
    dropped: list[BleakClient] = []
    client = BleakClient(
        await find(strap),
        disconnected_callback=dropped.append,
        timeout=WAIT_S,
        backend=BumbleClient,
    )
    await client.connect()
    levels = Received()
    await client.start_notify(BATTERY_LEVEL_UUID, levels.callback)

    await wait_until(lambda: dropped == [client], "the strap dies and drops the link")
    pct = [v[0] for v in levels.values]
    assert len(pct) >= 3 and pct == sorted(pct, reverse=True) and pct[-1] < 20
    assert not strap.powered


async def test_stopping_the_world_leaves_nothing_connected(clock: SimulatedClock) -> None:
    world = EmulatedBleWorld(adapter_count=2)
    await world.start()
    straps = await add_straps(world, clock, 2)
    dropped: list[BleakClient] = []
    clients = [
        BleakClient(
            await find(strap, adapter),
            disconnected_callback=dropped.append,
            timeout=WAIT_S,
            bluez={"adapter": adapter},
            backend=BumbleClient,
        )
        for strap, adapter in zip(straps, world.adapters, strict=True)
    ]
    for client in clients:
        await client.connect()
    adapters = [world.adapter(a) for a in world.adapters]

    await world.stop()

    assert not any(c.is_connected for c in clients)
    assert sorted(map(id, dropped)) == sorted(map(id, clients))
    assert not any(s.connected or s.powered for s in straps)
    assert [a.connection_count for a in adapters] == [0, 0]
    assert installed_world() is None
    with pytest.raises(BleakError, match="No emulated BLE world"):
        await BleakScanner(backend=BumbleScanner).start()


async def test_unknown_adapter_is_named_in_the_error(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    (strap,) = await add_straps(world, clock, 1)
    client = BleakClient(strap.address, bluez={"adapter": "hci7"}, backend=BumbleClient)
    with pytest.raises(BleakError, match="hci7"):
        await client.connect()


async def test_scanned_device_connects_through_the_adapter_that_saw_it(
    world: EmulatedBleWorld, clock: SimulatedClock
) -> None:
    # On BlueZ a BLEDevice is an object under the adapter that discovered it, and the client
    # connects through that object: scan on the adapter you mean to connect with.
    (strap,) = await add_straps(world, clock, 1)
    client = BleakClient(
        await find(strap, "hci0"), timeout=WAIT_S, bluez={"adapter": "hci1"}, backend=BumbleClient
    )
    await client.connect()
    assert [world.adapter(a).connection_count for a in world.adapters] == [1, 0]
