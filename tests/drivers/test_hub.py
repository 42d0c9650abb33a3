"""BleStrapHub against emulated straps over a real BLE stack (bumble).

The hub and the driver under it are unchanged: they get bumble-backed bleak backend classes
through bleak's public ``backend=`` parameters, exactly where production passes None.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from drivers.ble import BleStrapHub, DiscoveryError
from hiaim_monitor import config
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.samples import (
    HeartRateSample,
    SourceEvent,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.strap_hub import StrapHub
from simulators.ble_emulation import EmulatedBleWorld, EmulatedStrap
from simulators.bleak_bumble import BumbleClient, BumbleScanner
from simulators.roster import make_virtual_class
from tests.conftest import wait_until
from tests.drivers.emulated import (
    CLOCK_SPEED,
    FAST,
    assert_samples_are_the_notifications,
)


class Rig:
    def __init__(self, world: EmulatedBleWorld, clock: SimulatedClock) -> None:
        self.world = world
        self.clock = clock
        self.straps: list[EmulatedStrap] = []
        self.events: list[SourceEvent] = []
        self.hubs: list[BleStrapHub] = []

    def hub(self, scanner_backend: type[BumbleScanner] = BumbleScanner) -> BleStrapHub:
        hub = BleStrapHub(
            self.clock,
            adapters=self.world.adapters,
            scanner_backend=scanner_backend,
            client_backend=BumbleClient,
            timing=FAST,
            rng=random.Random(3),
        )
        self.hubs.append(hub)
        return hub

    def sightings(self, strap: EmulatedStrap | None = None) -> list[StrapSighting]:
        return [
            e
            for e in self.events
            if isinstance(e, StrapSighting) and (strap is None or e.strap_id == strap.strap_id)
        ]

    def samples(self, strap: EmulatedStrap) -> list[HeartRateSample]:
        return [
            e for e in self.events
            if isinstance(e, HeartRateSample) and e.strap_id == strap.strap_id
        ]

    def states(self, strap: EmulatedStrap) -> list[StrapState]:
        return [
            e.state
            for e in self.events
            if isinstance(e, StrapStatus) and e.strap_id == strap.strap_id
        ]

    def streaming_with(self, strap: EmulatedStrap, n_samples: int) -> Callable[[], bool]:
        return lambda: (
            self.states(strap)[-1:] == [StrapState.STREAMING]
            and len(self.samples(strap)) >= n_samples
        )

    def scanning(self) -> list[bool]:
        return [self.world.adapter(a).device.is_scanning for a in self.world.adapters]

    def connections(self) -> list[int]:
        return [self.world.adapter(a).connection_count for a in self.world.adapters]


class ScanLog:
    """Scans running per adapter, and the most there ever were at once (BlueZ allows one
    discovery per adapter per client, and every scanner of a process is the same client)."""

    def __init__(self) -> None:
        self.running: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    def backend(self) -> type[BumbleScanner]:
        log = self

        class CountingScanner(BumbleScanner):
            def __init__(self, *args: Any, bluez: dict[str, Any] | None = None, **kw: Any):
                super().__init__(*args, bluez=bluez, **kw)
                self.adapter_name = (bluez or {}).get("adapter", "hci0")
                self.on = False

            async def start(self) -> None:
                await super().start()
                self.on = True
                log.running[self.adapter_name] += 1
                log.most[self.adapter_name] = max(
                    log.most[self.adapter_name], log.running[self.adapter_name]
                )

            async def stop(self) -> None:
                if self.on:
                    self.on = False
                    log.running[self.adapter_name] -= 1
                await super().stop()

        return CountingScanner


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with EmulatedBleWorld(adapter_count=2) as world:
        clock = SimulatedClock(speed=CLOCK_SPEED)
        test_rig = Rig(world, clock)
        # Straps of a class whose hearts follow a cue, as --simulate-ble builds them.
        test_rig.straps = await world.add_class(
            make_virtual_class(3, seed=5), clock=clock, cue=SessionCue()
        )
        try:
            yield test_rig
        finally:
            for hub in test_rig.hubs:
                await hub.stop()


async def test_nearby_straps_are_sighted_with_their_names_and_signal(rig: Rig) -> None:
    hub: StrapHub = rig.hub()  # what the window holds
    await hub.start(rig.events.append)
    await wait_until(
        lambda: all(len(rig.sightings(s)) >= 3 for s in rig.straps),
        "every strap sighted three times",
    )
    await hub.stop()

    # Every strap is named by its radio and address: what the registry stores.
    assert {e.strap_id for e in rig.sightings()} == {f"ble:{s.address}" for s in rig.straps}
    for strap in rig.straps:
        mine = rig.sightings(strap)
        assert {s.name for s in mine} == {strap.name}
        assert all(isinstance(s.rssi_dbm, int) and -100 < s.rssi_dbm < 0 for s in mine)
        # About every config.SIGHTING_EVERY_S, not once per advertisement (every 100 ms real).
        gaps_s = [b.t_mono_s - a.t_mono_s for a, b in itertools.pairwise(mine)]
        assert all(gap >= config.SIGHTING_EVERY_S for gap in gaps_s), gaps_s
    assert not [e for e in rig.events if isinstance(e, HeartRateSample | StrapStatus)]
    assert rig.scanning() == [False, False]


async def test_watched_straps_stream_byte_exact_and_unwatch_stops_one(rig: Rig) -> None:
    first, second, third = rig.straps
    hub = rig.hub()
    await hub.start(rig.events.append)
    await wait_until(lambda: bool(rig.sightings(first) and rig.sightings(second)), "sightings")

    await hub.watch(first.strap_id, first.name)
    await hub.watch(second.strap_id, second.name)
    await hub.watch(second.strap_id, second.name)  # watching twice is harmless
    await wait_until(
        lambda: rig.streaming_with(first, 5)() and rig.streaming_with(second, 5)(),
        "both watched straps stream",
    )
    assert list(hub.watched) == [first.strap_id, second.strap_id]
    assert rig.states(first) == [StrapState.CONNECTING, StrapState.STREAMING]
    assert not rig.samples(third) and not third.connected

    await hub.unwatch(second.strap_id)
    assert rig.states(second)[-1] is StrapState.STOPPED
    assert not second.connected
    stopped_count = len(rig.samples(second))
    before = len(rig.samples(first))
    await wait_until(lambda: len(rig.samples(first)) >= before + 5, "the other streams on")
    assert len(rig.samples(second)) == stopped_count
    assert list(hub.watched) == [first.strap_id]
    # Free again, the unwatched strap advertises and is sighted once more.
    seen = len(rig.sightings(second))
    await wait_until(lambda: len(rig.sightings(second)) > seen, "sighted again")

    await hub.stop()
    assert rig.states(first)[-1] is StrapState.STOPPED
    for strap in (first, second):
        assert len(strap.notifications_sent) >= 3
        assert_samples_are_the_notifications(rig.samples(strap), strap.notifications_sent)


async def test_stop_leaves_no_connection_open_and_no_scan_running(rig: Rig) -> None:
    hub = rig.hub()
    await hub.start(rig.events.append)
    for strap in rig.straps:
        await hub.watch(strap.strap_id, strap.name)
    await wait_until(lambda: all(rig.streaming_with(s, 2)() for s in rig.straps), "all stream")
    assert sum(rig.connections()) == 3

    await hub.stop()
    assert rig.connections() == [0, 0]
    assert not any(s.connected for s in rig.straps)
    assert rig.scanning() == [False, False]
    assert all(rig.states(s)[-1] is StrapState.STOPPED for s in rig.straps)
    count = len(rig.events)
    await asyncio.sleep(0.3)  # a spell of silence is what is tested: nothing runs on
    assert len(rig.events) == count


async def test_discovery_off_ends_sightings_and_the_scan_but_not_the_streams(rig: Rig) -> None:
    first = rig.straps[0]
    hub = rig.hub()
    await hub.start(rig.events.append)
    await hub.watch(first.strap_id, first.name)
    await wait_until(rig.streaming_with(first, 2), "the watched strap streams")
    await wait_until(lambda: all(rig.sightings(s) for s in rig.straps[1:]), "others sighted")

    await hub.set_discovery(False)
    off_count = len(rig.sightings())
    before = len(rig.samples(first))
    # Ten more samples are 10 s of strap time: five sighting periods without a sighting.
    await wait_until(lambda: len(rig.samples(first)) >= before + 10, "the stream goes on")
    assert len(rig.sightings()) == off_count
    assert rig.scanning()[0] is False  # the radio is free for the links

    await hub.set_discovery(True)
    await wait_until(lambda: len(rig.sightings()) > off_count, "sightings resume")


async def test_discovery_shares_the_driver_scan_of_its_adapter(rig: Rig) -> None:
    # A watched strap that drops is found again by the driver's scan of its adapter; the
    # hub's discovery on the same adapter must neither end that scan nor be ended by it.
    first = rig.straps[0]
    scans = ScanLog()
    hub = rig.hub(scans.backend())
    await hub.start(rig.events.append)
    await hub.watch(first.strap_id, first.name)
    await wait_until(rig.streaming_with(first, 2), "the strap streams")
    assert hub.assignments[first.strap_id] == "hci0"  # the discovery adapter

    await first.drop_connection()
    await wait_until(lambda: rig.states(first)[-1] is StrapState.RECONNECTING, "reconnecting")
    before = len(rig.samples(first))
    await wait_until(rig.streaming_with(first, before + 2), "streams again")
    seen = len(rig.sightings(rig.straps[1]))
    await wait_until(lambda: len(rig.sightings(rig.straps[1])) > seen, "discovery goes on")
    assert rig.scanning()[0] is True
    assert scans.most["hci0"] == 1  # one scan served both, never two at once

    await hub.stop()
    assert sum(scans.running.values()) == 0


async def test_a_missing_adapter_fails_start_with_one_sentence(rig: Rig) -> None:
    hub = BleStrapHub(
        rig.clock,
        adapters=("hci7",),
        scanner_backend=BumbleScanner,
        client_backend=BumbleClient,
        timing=FAST,
    )
    with pytest.raises(DiscoveryError) as caught:
        await hub.start(rig.events.append)
    assert "hci7" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert rig.scanning() == [False, False]


async def test_a_strap_of_another_radio_is_refused_in_one_sentence(rig: Rig) -> None:
    hub = rig.hub()
    await hub.set_discovery(False)
    await hub.start(rig.events.append)
    with pytest.raises(ValueError, match=r"^sim:0001 is not a Bluetooth LE strap$"):
        await hub.watch("sim:0001", "Sim HR 0001")
    assert hub.watched == {}
    await hub.unwatch("sim:0001")  # never watched: nothing happens
    assert not rig.events
