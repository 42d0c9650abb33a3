"""The production BLE driver against emulated straps over a real BLE stack (bumble): the
hub's connections, with every strap watched and discovery off, as the headless path runs it.

The driver is unchanged: it gets bumble-backed bleak backend classes through bleak's public
``backend=`` parameters, exactly where production passes None.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from drivers.ble import SILENT, SILENT_SENTENCE, BleStrapHub
from drivers.ble_errors import NOT_ADVERTISING_HINT
from drivers.ble_scan import StrapScanner, scan
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import BodySensorLocation
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    PacketDropped,
    SourceEvent,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.strap_notes import StrapNote, StrapReason
from simulators.ble_emulation import EmulatedBleWorld, EmulatedStrap
from simulators.bleak_bumble import BumbleClient, BumbleScanner
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from simulators.fleet import make_strap
from simulators.roster import make_virtual_class
from tests.conftest import wait_until
from tests.drivers.emulated import (
    CLOCK_SPEED,
    FAST,
    WAIT_S,
    assert_samples_are_the_notifications,
)

PROTOCOL = load_protocol("hi-aim")


class SleepLog(SimulatedClock):
    """A scaled clock that records every sleep asked of it: the driver's backoff waits."""

    def __init__(self) -> None:
        super().__init__(speed=CLOCK_SPEED)
        self.sleeps_s: list[float] = []

    async def sleep(self, duration_s: float) -> None:
        self.sleeps_s.append(duration_s)
        await super().sleep(duration_s)


class ConnectLog:
    """How many connects are in flight per adapter, and the most there ever were."""

    def __init__(self) -> None:
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most_per_adapter: dict[str, int] = defaultdict(int)
        self.most_in_all = 0
        self.errors: list[BaseException] = []

    def client_backend(self) -> type[BumbleClient]:
        log = self

        class CountingBumbleClient(BumbleClient):
            def __init__(self, *args: Any, bluez: dict[str, Any] | None = None, **kw: Any):
                super().__init__(*args, bluez=bluez, **kw)
                self.adapter_name = (bluez or {}).get("adapter", "hci0")

            async def connect(self, pair: bool, **kwargs: Any) -> None:
                adapter = self.adapter_name
                log.in_flight[adapter] += 1
                log.most_per_adapter[adapter] = max(
                    log.most_per_adapter[adapter], log.in_flight[adapter]
                )
                log.most_in_all = max(log.most_in_all, sum(log.in_flight.values()))
                try:
                    await super().connect(pair, **kwargs)
                except BaseException as exc:
                    log.errors.append(exc)
                    raise
                finally:
                    log.in_flight[adapter] -= 1

        return CountingBumbleClient


class Rig:
    """A running emulated world, its straps, and the driver under test with its events."""

    def __init__(self, world: EmulatedBleWorld, clock: SimulatedClock) -> None:
        self.world = world
        self.clock = clock
        self.straps: list[EmulatedStrap] = []
        self.events: list[SourceEvent] = []
        self.connects = ConnectLog()
        self.sources: list[BleStrapHub] = []

    async def add_straps(self, n: int, faults: FaultConfig | None = None) -> list[EmulatedStrap]:
        first = len(self.straps) + 1
        people = make_virtual_class(first + n - 1, seed=5)[first - 1 :]
        for index, person in enumerate(people, start=first):
            virtual = make_strap(
                person,
                index,
                protocol=PROTOCOL,
                session_start_s=0.0,
                start_t_s=self.clock.monotonic(),
                faults=faults,
            )
            self.straps.append(await self.world.add_strap(virtual, clock=self.clock))
        return self.straps[first - 1 :]

    def source(self, clock: SimulatedClock | None = None, **kwargs: Any) -> BleStrapHub:
        kwargs.setdefault("adapters", self.world.adapters)
        kwargs.setdefault("timing", FAST)
        source = BleStrapHub(
            clock or self.clock,
            scanner_backend=BumbleScanner,
            client_backend=self.connects.client_backend(),
            rng=random.Random(3),
            **kwargs,
        )
        self.sources.append(source)
        return source

    async def start(self, source: BleStrapHub) -> None:
        """Watch every strap added so far, discovery off, and start."""
        await source.set_discovery(False)
        for strap in self.straps:
            await source.watch(strap.strap_id, strap.name)
        await source.start(self.events.append)

    def statuses(self, strap: EmulatedStrap) -> list[StrapStatus]:
        return [
            e for e in self.events if isinstance(e, StrapStatus) and e.strap_id == strap.strap_id
        ]

    def states(self, strap: EmulatedStrap) -> list[StrapState]:
        return [s.state for s in self.statuses(strap)]

    def state(self, strap: EmulatedStrap) -> StrapState | None:
        states = self.states(strap)
        return states[-1] if states else None

    def samples(self, strap: EmulatedStrap) -> list[HeartRateSample]:
        return [
            e for e in self.events
            if isinstance(e, HeartRateSample) and e.strap_id == strap.strap_id
        ]

    def dropped(self, strap: EmulatedStrap) -> list[PacketDropped]:
        return [
            e for e in self.events if isinstance(e, PacketDropped) and e.strap_id == strap.strap_id
        ]

    def streaming_with(self, strap: EmulatedStrap, n_samples: int) -> Callable[[], bool]:
        return lambda: (
            self.state(strap) is StrapState.STREAMING and len(self.samples(strap)) >= n_samples
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with EmulatedBleWorld(adapter_count=2) as world:
        test_rig = Rig(world, SimulatedClock(speed=CLOCK_SPEED))
        try:
            yield test_rig
        finally:
            for source in test_rig.sources:
                await source.stop()


def assert_nothing_connected(rig: Rig) -> None:
    assert not any(s.connected for s in rig.straps)
    assert [rig.world.adapter(a).connection_count for a in rig.world.adapters] == [0, 0]


async def test_eight_straps_on_two_adapters_stream_byte_exact_samples(rig: Rig) -> None:
    straps = await rig.add_straps(8)
    source = rig.source()
    await rig.start(source)

    await wait_until(
        lambda: all(rig.streaming_with(s, 6)() for s in straps), "all eight straps stream"
    )
    assert sorted(source.assignments.values()) == ["hci0"] * 4 + ["hci1"] * 4
    # Samples, statuses and battery name the strap by radio and address, as it was watched.
    assert {e.strap_id for e in rig.events} == {f"ble:{s.address}" for s in straps}
    assert [rig.world.adapter(a).connection_count for a in rig.world.adapters] == [4, 4]
    await source.stop()

    for strap in straps:
        assert rig.states(strap) == [
            StrapState.CONNECTING,
            StrapState.STREAMING,
            StrapState.STOPPED,
        ]
        assert_samples_are_the_notifications(rig.samples(strap), strap.notifications_sent)
        assert not rig.dropped(strap)
        battery = [e for e in rig.events if isinstance(e, BatteryReading)]
        assert any(b.strap_id == strap.strap_id and b.level_pct == 100 for b in battery)
    assert set(source.body_sensor_locations.values()) == {BodySensorLocation.CHEST}
    assert_nothing_connected(rig)


async def test_connects_are_one_at_a_time_per_adapter_and_parallel_across(rig: Rig) -> None:
    straps = await rig.add_straps(8)
    await rig.start(rig.source())

    await wait_until(lambda: all(rig.streaming_with(s, 1)() for s in straps), "all stream")

    assert dict(rig.connects.most_per_adapter) == {"hci0": 1, "hci1": 1}
    assert rig.connects.most_in_all == 2  # the two adapters did connect at the same time
    assert rig.connects.errors == []  # so no InProgress, nor anything else
    details = " ".join(e.detail for e in rig.events if isinstance(e, StrapStatus))
    assert "InProgress" not in details


async def test_a_dropped_link_is_reconnected_and_streams_again(rig: Rig) -> None:
    strap, other = await rig.add_straps(2)
    await rig.start(rig.source())
    await wait_until(lambda: rig.streaming_with(strap, 3)(), "the strap streams")

    await strap.drop_connection()
    await wait_until(lambda: rig.state(strap) is StrapState.RECONNECTING, "RECONNECTING")
    before = len(rig.samples(strap))
    await wait_until(lambda: rig.streaming_with(strap, before + 3)(), "it streams again")

    assert rig.states(strap) == [
        StrapState.CONNECTING,
        StrapState.STREAMING,
        StrapState.RECONNECTING,
        StrapState.STREAMING,
    ]
    assert strap.connection_count == 2
    assert rig.states(other) == [StrapState.CONNECTING, StrapState.STREAMING]


async def test_a_strap_connected_but_silent_is_reconnected_and_streams_again(rig: Rig) -> None:
    stall_at_s = rig.clock.monotonic() + 30.0  # well after the first connect
    (strap,) = await rig.add_straps(
        1, FaultConfig().with_scheduled(ScheduledFault(FaultKind.STALL, stall_at_s))
    )
    (other,) = await rig.add_straps(1)
    await rig.start(rig.source())
    await wait_until(lambda: rig.streaming_with(strap, 3)(), "the strap streams")

    await wait_until(lambda: strap.strap.stalled, "the strap stalls")
    assert strap.connected  # the link is up: only the notifications stopped
    await wait_until(lambda: rig.state(strap) is StrapState.RECONNECTING, "RECONNECTING")
    reconnecting = rig.statuses(strap)[-1]
    assert reconnecting.detail == SILENT_SENTENCE
    assert reconnecting.note == SILENT  # a code, so the window can translate it
    last_before_s = rig.samples(strap)[-1].t_mono_s
    # Reconnected once silent_after_s had passed with nothing, not much later.
    quiet_s = reconnecting.t_mono_s - last_before_s
    assert FAST.silent_after_s <= quiet_s < FAST.silent_after_s + 1.0 + 0.5 * CLOCK_SPEED
    before = len(rig.samples(strap))
    await wait_until(lambda: rig.streaming_with(strap, before + 3)(), "it streams again")

    assert rig.states(strap) == [
        StrapState.CONNECTING,
        StrapState.STREAMING,
        StrapState.RECONNECTING,
        StrapState.STREAMING,
    ]
    assert strap.connection_count == 2
    assert rig.samples(strap)[before].t_mono_s > reconnecting.t_mono_s
    assert rig.states(other) == [StrapState.CONNECTING, StrapState.STREAMING]
    assert_samples_are_the_notifications(rig.samples(strap), strap.notifications_sent)


async def test_a_vanished_strap_goes_reconnecting_then_lost_and_recovers(rig: Rig) -> None:
    (strap,) = await rig.add_straps(1)
    await rig.start(rig.source())
    await wait_until(lambda: rig.streaming_with(strap, 3)(), "the strap streams")

    await strap.power_off()
    await wait_until(lambda: rig.state(strap) is StrapState.LOST, "LOST after lost_after_s")
    lost = rig.statuses(strap)[-1]
    reconnecting = rig.statuses(strap)[-2]
    assert reconnecting.state is StrapState.RECONNECTING
    assert lost.detail == NOT_ADVERTISING_HINT
    # LOST comes once the strap has been gone lost_after_s of strap time, not much later.
    gone_s = lost.t_mono_s - reconnecting.t_mono_s
    one_attempt_s = FAST.find_timeout_s * CLOCK_SPEED + FAST.backoff_max_s  # strap seconds
    assert FAST.lost_after_s <= gone_s < FAST.lost_after_s + one_attempt_s + 5.0

    await asyncio.sleep(0.3)  # what is tested: a spell of retrying, quietly (no status flood)
    assert rig.state(strap) is StrapState.LOST
    before = len(rig.samples(strap))
    await strap.power_on()
    await wait_until(lambda: rig.streaming_with(strap, before + 3)(), "recovered when back")
    assert rig.states(strap)[-3:] == [
        StrapState.RECONNECTING,
        StrapState.LOST,
        StrapState.STREAMING,
    ]


async def test_retries_back_off_exponentially_with_jitter_up_to_the_ceiling(rig: Rig) -> None:
    (strap,) = await rig.add_straps(1)
    driver_clock = SleepLog()  # the straps keep their own clock: only the driver's is logged
    # Short listening per attempt, and never LOST (that would split a wait in two).
    timing = replace(FAST, lost_after_s=1e6, find_timeout_s=0.05)
    await rig.start(rig.source(clock=driver_clock, timing=timing))
    # Streaming longer than stable_after_s, so the link counts as good and backoff restarts.
    await wait_until(lambda: rig.streaming_with(strap, 4)(), "the strap streams")

    await strap.power_off()
    await wait_until(lambda: rig.state(strap) is StrapState.RECONNECTING, "reconnecting")
    first = len(driver_clock.sleeps_s)
    await wait_until(lambda: len(driver_clock.sleeps_s) >= first + 7, "seven retries")

    waits_s = driver_clock.sleeps_s[first : first + 7]
    for n, slept_s in enumerate(waits_s):
        ceiling_s = min(timing.backoff_max_s, timing.backoff_initial_s * 2**n)
        assert (1 - timing.backoff_jitter) * ceiling_s <= slept_s <= ceiling_s
    assert len(set(waits_s)) == len(waits_s)  # jittered: no two straps retry in lockstep


async def test_malformed_notifications_are_dropped_and_the_link_keeps_streaming(
    rig: Rig,
) -> None:
    (strap,) = await rig.add_straps(1)
    await rig.start(rig.source())
    await wait_until(lambda: rig.streaming_with(strap, 2)(), "the strap streams")

    bad = [b"\x10", b"\x01\x48", b""]  # heart rate missing; uint16 cut short; empty
    for raw in bad:
        await strap.send_raw(raw)
    await wait_until(lambda: len(rig.dropped(strap)) == len(bad), "three drops counted")
    before = len(rig.samples(strap))
    await wait_until(lambda: len(rig.samples(strap)) >= before + 3, "samples keep coming")

    assert [d.data for d in rig.dropped(strap)] == bad
    assert all(d.reason for d in rig.dropped(strap))
    assert rig.states(strap) == [StrapState.CONNECTING, StrapState.STREAMING]
    assert strap.connection_count == 1


async def test_stop_leaves_no_connection_open_even_mid_reconnect(rig: Rig) -> None:
    straps = await rig.add_straps(4)
    source = rig.source()
    await rig.start(source)
    await wait_until(lambda: all(rig.streaming_with(s, 1)() for s in straps), "all stream")
    await straps[0].power_off()
    await wait_until(lambda: rig.state(straps[0]) is StrapState.RECONNECTING, "reconnecting")

    await source.stop()

    assert_nothing_connected(rig)
    assert all(rig.state(s) is StrapState.STOPPED for s in straps)
    # Stopped means stopped: nothing more reaches the sink, even when a strap returns.
    count = len(rig.events)
    await straps[0].power_on()
    await asyncio.sleep(0.3)  # a spell of silence is what is tested
    assert len(rig.events) == count
    assert_nothing_connected(rig)


async def test_stop_while_straps_are_connecting_ends_at_once_with_nothing_open(
    rig: Rig,
) -> None:
    straps = await rig.add_straps(6)
    source = rig.source()
    await rig.start(source)
    await wait_until(lambda: sum(rig.connects.in_flight.values()) > 0, "a connect in flight")

    loop = asyncio.get_running_loop()
    began_s = loop.time()
    await source.stop()

    # Well inside one connect timeout: the attempts were cancelled, not waited out.
    assert loop.time() - began_s < FAST.connect_timeout_s
    assert sum(rig.connects.in_flight.values()) == 0
    await asyncio.sleep(0.3)  # what is tested: a spell in which a late connect would land
    assert_nothing_connected(rig)
    assert all(rig.state(s) is StrapState.STOPPED for s in straps)


async def test_straps_beyond_the_adapters_capacity_fail_with_a_reason(rig: Rig) -> None:
    straps = await rig.add_straps(5)
    source = rig.source(max_per_adapter=2)
    await rig.start(source)
    extra = straps[-1]

    await wait_until(lambda: all(rig.streaming_with(s, 1)() for s in straps[:4]), "four stream")
    assert rig.states(extra) == [StrapState.FAILED]
    assert "another adapter" in rig.statuses(extra)[0].detail
    assert source.assignments[extra.strap_id] is None
    assert not extra.connected

    # A strap taken out of the session frees its slot for the one that had none.
    await source.unwatch(straps[0].strap_id)
    await wait_until(lambda: rig.streaming_with(extra, 1)(), "the fifth strap gets the slot")
    assert rig.state(straps[0]) is StrapState.STOPPED and not straps[0].connected


async def test_a_missing_adapter_is_reported_in_one_sentence(rig: Rig) -> None:
    straps = await rig.add_straps(2)
    source = rig.source(adapters=["hci0", "hci7"])
    await rig.start(source)

    assert [source.assignments[s.strap_id] for s in straps] == ["hci0", "hci7"]
    on_missing = straps[1]
    await wait_until(lambda: rig.state(on_missing) is StrapState.FAILED, "FAILED on hci7")
    assert rig.statuses(on_missing)[-1].detail.startswith("No Bluetooth adapter hci7")
    assert rig.statuses(on_missing)[-1].note == StrapNote.of(StrapReason.NO_ADAPTER,
                                                             adapter="hci7")
    await wait_until(lambda: rig.streaming_with(straps[0], 1)(), "the strap on hci0 streams")


async def test_scan_lists_straps_with_name_and_signal_and_their_device_connects(
    rig: Rig,
) -> None:
    straps = await rig.add_straps(3)

    found = await scan(0.5, adapter="hci1", backend=BumbleScanner)

    assert {f.address for f in found} == {s.address for s in straps}
    assert {f.name for f in found} == {s.name for s in straps}
    assert all(-127 < f.rssi < 0 for f in found)
    assert [f.rssi for f in found] == sorted((f.rssi for f in found), reverse=True)

    # The pairing panel's live scanner hands the driver a BLEDevice, not an address.
    scanner = StrapScanner(rig.clock, adapter="hci0", backend=BumbleScanner)
    async with scanner:
        hit = await scanner.find(straps[0].address.lower(), timeout_s=WAIT_S)
    assert hit is not None and hit.ble_device.address == straps[0].address
    assert not scanner.running


async def test_a_draining_battery_is_reported_as_the_strap_notifies_it(rig: Rig) -> None:
    # 1 % per strap second from 20 %: empty after about one real second.
    faults = FaultConfig(battery_start_pct=(20, 20), battery_drain_pct_per_h=3600.0)
    (strap,) = await rig.add_straps(1, faults)
    await rig.start(rig.source())

    await wait_until(lambda: rig.state(strap) is StrapState.RECONNECTING, "the strap dies")
    levels = [e.level_pct for e in rig.events if isinstance(e, BatteryReading)]
    assert len(levels) >= 3 and levels == sorted(levels, reverse=True) and levels[-1] < 20
