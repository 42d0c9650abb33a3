"""The production BLE hub through bleak's own BlueZ backend — the code every Linux user
runs — against the BlueZ double on a private dbus-daemon: streaming, BlueZ's faults, stop.
"""

from __future__ import annotations

import asyncio

from hiaim_monitor.hrm import BodySensorLocation
from hiaim_monitor.samples import BatteryReading, StrapSighting, StrapState, StrapStatus
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from tests.conftest import wait_until
from tests.drivers.bluez_rig import BluezRig, assert_nothing_connected, connected_on_the_bus
from tests.drivers.emulated import assert_samples_are_the_notifications

STREAMED = [StrapState.CONNECTING, StrapState.STREAMING]


async def test_eight_straps_on_two_adapters_stream_byte_exact_through_bluez(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    straps = await rig.add_straps(8)
    source = rig.source()
    await rig.start(source)

    await wait_until(lambda: all(rig.streaming_with(s, 6)() for s in straps),
                     "all eight straps stream")
    assert sorted(source.assignments.values()) == ["hci0"] * 4 + ["hci1"] * 4
    assert [rig.double.adapter(a).connection_count for a in ("hci0", "hci1")] == [4, 4]
    assert sorted(s.adapter for s in straps) == ["hci0"] * 4 + ["hci1"] * 4
    # One connect at a time per adapter, so BlueZ never said InProgress; both adapters
    # connected at the same time.
    assert [rig.double.adapter(a).in_progress_refusals for a in ("hci0", "hci1")] == [0, 0]
    assert max(a.connects_in_flight_most for a in rig.double.adapters.values()) == 2
    await source.stop()

    for strap in straps:
        assert rig.states(strap) == [*STREAMED, StrapState.STOPPED]
        assert_samples_are_the_notifications(rig.samples(strap), strap.notifications_sent)
        assert not rig.dropped(strap)
        assert any(isinstance(e, BatteryReading) and e.strap_id == strap.strap_id
                   and e.level_pct == 100 for e in rig.events)
    assert {e.strap_id for e in rig.events} == {s.strap_id for s in straps}
    assert set(source.body_sensor_locations.values()) == {BodySensorLocation.CHEST}
    assert await connected_on_the_bus() == []
    assert_nothing_connected(rig)


async def test_a_connect_refused_in_progress_is_retried_once_the_adapter_is_free(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    (strap,) = await rig.add_straps(1)
    source = rig.source(adapters=["hci0"])
    hci0 = rig.double.adapter("hci0")
    async with hci0.hold_connect():  # another program's connection attempt is pending
        await rig.start(source)
        await wait_until(lambda: hci0.in_progress_refusals >= 2, "Connect refused twice")
        assert not strap.connected
        assert rig.states(strap) == [StrapState.CONNECTING]  # retried quietly, not failed
    await wait_until(rig.streaming_with(strap, 3), "it streams once the adapter is free")
    assert rig.states(strap) == STREAMED
    assert strap.connection_count == 1


async def test_a_connection_aborted_by_local_is_retried_and_streams(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    (strap,) = await rig.add_straps(1)
    strap.abort_next_connect(times=2)  # le-connection-abort-by-local, twice
    await rig.start(rig.source())

    await wait_until(rig.streaming_with(strap, 5), "it streams after the aborts")
    assert strap.aborts_done == 2
    assert strap.connection_count == 1
    assert rig.states(strap) == STREAMED
    assert_samples_are_the_notifications(rig.samples(strap), strap.notifications_sent)


async def test_a_link_dropped_by_the_strap_is_reconnected_and_streams_again(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    strap, other = await rig.add_straps(2)
    await rig.start(rig.source())
    await wait_until(rig.streaming_with(strap, 3), "the strap streams")

    strap.drop_connection()
    await wait_until(lambda: rig.state(strap) is StrapState.RECONNECTING, "RECONNECTING")
    before = len(rig.samples(strap))
    await wait_until(rig.streaming_with(strap, before + 3), "it streams again")

    assert rig.states(strap) == [*STREAMED, StrapState.RECONNECTING, StrapState.STREAMING]
    assert strap.connection_count == 2
    assert rig.states(other) == STREAMED


async def test_a_strap_that_vanishes_from_bluez_goes_lost_and_recovers(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    (strap,) = await rig.add_straps(1)
    await rig.start(rig.source())
    await wait_until(rig.streaming_with(strap, 3), "the strap streams")

    strap.power_off()
    assert all(strap.address not in a.devices for a in rig.double.adapters.values())
    await wait_until(lambda: rig.state(strap) is StrapState.LOST, "LOST after lost_after_s")
    assert rig.states(strap)[-2:] == [StrapState.RECONNECTING, StrapState.LOST]

    before = len(rig.samples(strap))
    strap.power_on()
    await wait_until(rig.streaming_with(strap, before + 3), "it streams once back")
    assert rig.states(strap)[-2:] == [StrapState.LOST, StrapState.STREAMING]


async def test_a_strap_connected_but_silent_is_reconnected_and_streams_again(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    stall_at_s = rig.clock.monotonic() + 30.0
    (strap,) = await rig.add_straps(
        1, FaultConfig().with_scheduled(ScheduledFault(FaultKind.STALL, stall_at_s)))
    await rig.start(rig.source())
    await wait_until(rig.streaming_with(strap, 3), "the strap streams")

    await wait_until(lambda: strap.strap.stalled, "the strap stalls")
    assert strap.connected  # BlueZ says Connected: only the notifications stopped
    await wait_until(lambda: rig.state(strap) is StrapState.RECONNECTING, "RECONNECTING")
    before = len(rig.samples(strap))
    await wait_until(rig.streaming_with(strap, before + 3), "it streams again")

    assert rig.states(strap) == [*STREAMED, StrapState.RECONNECTING, StrapState.STREAMING]
    assert strap.connection_count == 2
    assert_samples_are_the_notifications(rig.samples(strap), strap.notifications_sent)


async def test_malformed_notifications_are_counted_and_the_link_keeps_streaming(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    (strap,) = await rig.add_straps(1)
    await rig.start(rig.source())
    await wait_until(rig.streaming_with(strap, 2), "the strap streams")

    bad = [b"\x10", b"\x01\x48", b""]  # heart rate missing; uint16 cut short; empty
    for raw in bad:
        strap.send_raw(raw)
    await wait_until(lambda: len(rig.dropped(strap)) == len(bad), "three drops counted")
    before = len(rig.samples(strap))
    await wait_until(lambda: len(rig.samples(strap)) >= before + 3, "samples keep coming")

    assert [d.data for d in rig.dropped(strap)] == bad
    assert all(d.reason for d in rig.dropped(strap))
    assert rig.states(strap) == STREAMED
    assert strap.connection_count == 1


async def test_stop_leaves_no_device_connected_in_bluez_even_mid_reconnect(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    straps = await rig.add_straps(4)
    source = rig.source()
    await rig.start(source)
    await wait_until(lambda: all(rig.streaming_with(s, 1)() for s in straps), "all stream")
    assert len(await connected_on_the_bus()) == 4
    straps[0].power_off()
    await wait_until(lambda: rig.state(straps[0]) is StrapState.RECONNECTING, "reconnecting")

    await source.stop()

    assert await connected_on_the_bus() == []
    assert_nothing_connected(rig)
    assert all(rig.state(s) is StrapState.STOPPED for s in straps)
    assert rig.double.pending_connects() == 0
    count = len(rig.events)
    straps[0].power_on()
    await asyncio.sleep(0.3)  # a spell of silence is what is tested
    assert len(rig.events) == count
    assert_nothing_connected(rig)


async def test_discovery_reports_straps_with_name_and_signal_through_bluez(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    straps = await rig.add_straps(3)
    source = rig.source()
    await source.start(rig.events.append)  # discovery on, nothing watched

    def sighted() -> dict[str, StrapSighting]:
        return {e.strap_id: e for e in rig.events if isinstance(e, StrapSighting)}

    await wait_until(lambda: len(sighted()) == 3, "three straps sighted")
    seen = sighted()
    for strap in straps:
        sighting = seen[strap.strap_id]
        assert sighting.name == strap.name
        assert sighting.rssi_dbm is not None and -127 < sighting.rssi_dbm < 0
    assert rig.double.adapter("hci0").discovering
    assert not rig.double.adapter("hci1").discovering  # one adapter listens for the room
    await source.stop()
    assert not rig.double.adapter("hci0").discovering
    assert not any(isinstance(e, StrapStatus) for e in rig.events)
