"""CombinedHub: emulated BLE straps (bumble) and simulated straps heard through one hub, as
a class that mixes radios is."""

from __future__ import annotations

import random

import pytest

from drivers.ble import BleStrapHub
from drivers.hubs import CombinedHub
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.samples import (
    HeartRateSample,
    SourceEvent,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.strap_ids import StrapIdError
from simulators.ble_emulation import EmulatedBleWorld
from simulators.bleak_bumble import BumbleClient, BumbleScanner
from simulators.hub import SimulatedStrapHub
from simulators.roster import make_virtual_class
from tests.conftest import wait_until
from tests.drivers.emulated import CLOCK_SPEED, FAST


def streamed(events: list[SourceEvent], strap_id: str) -> int:
    return sum(isinstance(e, HeartRateSample) and e.strap_id == strap_id for e in events)


async def test_one_hub_hears_ble_and_simulated_straps_and_routes_each_id_to_its_radio():
    clock = SimulatedClock(speed=CLOCK_SPEED)
    async with EmulatedBleWorld(adapter_count=1) as world:
        ble_straps = await world.add_class(make_virtual_class(2, seed=4), clock=clock,
                                           cue=SessionCue())
        ble = BleStrapHub(clock, adapters=world.adapters, scanner_backend=BumbleScanner,
                          client_backend=BumbleClient, timing=FAST, rng=random.Random(1))
        sim = SimulatedStrapHub(make_virtual_class(2, seed=9), clock, seed=9)
        hub = CombinedHub([ble, sim])
        assert set(hub.radios) == {"ble", "sim"}
        events: list[SourceEvent] = []
        await hub.start(events.append)
        try:
            ids = [s.strap_id for s in ble_straps] + list(sim.nearby)
            await wait_until(lambda: {e.strap_id for e in events
                                      if isinstance(e, StrapSighting)} >= set(ids),
                             "every strap of both radios sighted")
            for strap_id in ids:
                await hub.watch(strap_id, strap_id)
            await wait_until(lambda: all(streamed(events, s) >= 3 for s in ids),
                             "every strap of both radios streams")
            assert list(ble.watched) == [s.strap_id for s in ble_straps]
            assert list(sim.watched) == list(sim.nearby)

            with pytest.raises(StrapIdError, match="does not listen to"):
                await hub.watch("ant:12345", "an ANT+ strap")
            await hub.unwatch(ids[0])
            assert list(ble.watched) == [ids[1]]
        finally:
            await hub.stop()
        stopped = {e.strap_id for e in events
                   if isinstance(e, StrapStatus) and e.state is StrapState.STOPPED}
        assert stopped == set(ids)


def test_two_hubs_of_one_radio_are_refused():
    clock = SimulatedClock()
    a = SimulatedStrapHub(make_virtual_class(1, seed=1), clock)
    b = SimulatedStrapHub(make_virtual_class(1, seed=2), clock)
    with pytest.raises(ValueError, match="two hubs serve the sim radio"):
        CombinedHub([a, b])


async def test_a_pulled_ant_stick_does_not_stop_the_ble_straps():
    """One class on two radios: the ANT+ stick is pulled out, its strap goes lost with the
    stick named, and the BLE straps stream on as if nothing happened."""
    from drivers.ant import AntStrapHub
    from hiaim_monitor.strap_notes import StrapReason
    from tests.drivers.ant_rig import AntRig
    from tests.drivers.ant_rig import strap_id as ant_id

    ant_rig = AntRig(1)
    ant_rig.air.start()
    clock = ant_rig.clock
    async with EmulatedBleWorld(adapter_count=1) as world:
        ble_straps = await world.add_class(make_virtual_class(2, seed=4), clock=clock,
                                           cue=SessionCue())
        ble = BleStrapHub(clock, adapters=world.adapters, scanner_backend=BumbleScanner,
                          client_backend=BumbleClient, timing=FAST, rng=random.Random(1))
        ant = AntStrapHub(clock, usb_backend=ant_rig.backend, poll_s=0.2)
        hub = CombinedHub([ant, ble])
        events: list[SourceEvent] = []
        await hub.start(events.append)
        try:
            ble_ids = [s.strap_id for s in ble_straps]
            the_ant = ant_id(ant_rig.straps[0])
            for strap_id in [*ble_ids, the_ant]:
                await hub.watch(strap_id, strap_id)
            await wait_until(lambda: all(streamed(events, s) >= 2 for s in [*ble_ids, the_ant]),
                             "both radios stream")
            ant_rig.stick(1001).unplug()

            def lost() -> list[StrapStatus]:
                return [e for e in events if isinstance(e, StrapStatus)
                        and e.strap_id == the_ant and e.state is StrapState.LOST]

            await wait_until(lambda: bool(lost()), "the ANT+ strap reported lost")
            assert lost()[0].note.reason is StrapReason.ANT_STICK_LOST
            before = {s: streamed(events, s) for s in ble_ids}
            await wait_until(lambda: all(streamed(events, s) >= before[s] + 3 for s in ble_ids),
                             "the BLE straps stream on")
        finally:
            await hub.stop()
            ant_rig.air.stop()
