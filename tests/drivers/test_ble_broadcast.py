"""Polar broadcast listening in the production BLE hub, against emulated Polar H10s that put
their heart rate in their advertisements (bumble): a Polar strap with no free connection
streams heart rate (no RR) from the shared scanner, and moves to a connection when a slot
frees up."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from hiaim_monitor import config
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.polar_broadcast import encode_polar_broadcast
from hiaim_monitor.samples import HeartRateSample, StrapState
from hiaim_monitor.strap_notes import StrapReason
from simulators.ble_emulation import EmulatedBleWorld, EmulatedStrap
from simulators.fleet import make_strap
from simulators.roster import make_virtual_class
from tests.conftest import wait_until
from tests.drivers.emulated import CLOCK_SPEED, WAIT_S
from tests.drivers.test_ble_driver import PROTOCOL, Rig


class PolarRig(Rig):
    async def add_polar(self, n: int) -> list[EmulatedStrap]:
        first = len(self.straps) + 1
        people = make_virtual_class(first + n - 1, seed=5)[first - 1:]
        for index, person in enumerate(people, start=first):
            virtual = make_strap(person, index, protocol=PROTOCOL, session_start_s=0.0,
                                 start_t_s=self.clock.monotonic())
            self.straps.append(await self.world.add_strap(virtual, clock=self.clock,
                                                          polar=True))
        return self.straps[first - 1:]

    def note(self, strap: EmulatedStrap) -> StrapReason | None:
        statuses = self.statuses(strap)
        note = statuses[-1].note if statuses else None
        return note.reason if note is not None else None


@pytest.fixture
async def rig() -> AsyncIterator[PolarRig]:
    async with EmulatedBleWorld(adapter_count=1) as world:
        test_rig = PolarRig(world, SimulatedClock(speed=CLOCK_SPEED))
        try:
            yield test_rig
        finally:
            for source in test_rig.sources:
                await source.stop()


def broadcast(samples: list[HeartRateSample]) -> list[HeartRateSample]:
    return [s for s in samples if s.broadcast]


async def test_polar_straps_beyond_capacity_stream_heart_rate_without_rr(
        rig: PolarRig) -> None:
    straps = await rig.add_polar(4)
    source = rig.source(max_per_adapter=2)
    await rig.start(source)  # discovery off: listening keeps the scan on by itself
    connected, listened = straps[:2], straps[2:]

    await wait_until(lambda: all(len(rig.samples(s)) >= 5 for s in straps), "all four stream",
                     timeout_s=2 * WAIT_S)
    assert source.listened == {s.strap_id for s in listened}
    assert all(s.connected for s in connected) and not any(s.connected for s in listened)
    assert [rig.world.adapter().connection_count] == [2]
    for strap in listened:
        samples = rig.samples(strap)
        assert all(s.broadcast and s.rr_ms == () for s in samples)
        assert rig.state(strap) is StrapState.STREAMING
        assert rig.note(strap) is StrapReason.BROADCAST_ONLY
        # What was heard is what the strap advertised.
        assert {s.bpm for s in samples} <= {p[3] for p in strap.polar_data_sent}
    for strap in connected:
        assert not any(s.broadcast for s in rig.samples(strap))
        assert any(s.rr_ms for s in rig.samples(strap))


async def test_about_one_sample_a_second_not_one_per_advertisement() -> None:
    # At 4x, advertisements (every 100 ms real, each heard as advertisement and scan
    # response) come every 0.4 s of strap time, twice; the value changes once a second.
    async with EmulatedBleWorld(adapter_count=1) as world:
        rig = PolarRig(world, SimulatedClock(speed=4))
        await rig.add_polar(2)
        listened = rig.straps[1]
        source = rig.source(max_per_adapter=1)
        try:
            await rig.start(source)
            await wait_until(lambda: len(rig.samples(listened)) >= 10,
                             "ten broadcast samples", timeout_s=2 * WAIT_S)
        finally:
            await source.stop()
    t = [s.t_mono_s for s in rig.samples(listened)]
    assert min(b - a for a, b in itertools.pairwise(t)) >= config.BROADCAST_MIN_SPACING_S
    # About one a second (the strap's value changes once a second), not one per report.
    assert len(t) <= (t[-1] - t[0]) + 2


async def test_a_listened_strap_moves_to_a_freed_connection_and_rr_appear(
        rig: PolarRig) -> None:
    first, second = await rig.add_polar(2)
    source = rig.source(max_per_adapter=1)
    await rig.start(source)
    await wait_until(lambda: len(broadcast(rig.samples(second))) >= 3,
                     "the second strap streams by broadcast")

    await source.unwatch(first.strap_id)
    await wait_until(lambda: second.connected and any(s.rr_ms for s in rig.samples(second)),
                     "the second strap connects and its samples carry RR", timeout_s=2 * WAIT_S)
    assert source.listened == frozenset()
    assert source.assignments[second.strap_id] == "hci0"
    n = len(rig.samples(second))
    await wait_until(lambda: len(rig.samples(second)) >= n + 3, "more samples on the link")
    assert not any(s.broadcast for s in rig.samples(second)[n:])
    assert rig.note(second) is None and rig.state(second) is StrapState.STREAMING


async def test_a_strap_broadcasting_one_value_for_a_minute_is_not_shown_live(
        rig: PolarRig) -> None:
    await rig.add_polar(1)
    unworn, = await rig.add_polar(1)
    source = rig.source(max_per_adapter=1)
    await rig.start(source)
    await wait_until(lambda: len(rig.samples(unworn)) >= 2, "the strap streams by broadcast")

    await unworn.hold_polar_data(encode_polar_broadcast(71, counter=5))
    # One minute of strap time is 3 s real at 20x.
    await wait_until(lambda: rig.state(unworn) is StrapState.LOST, "the strap shows as lost",
                     timeout_s=2 * WAIT_S)
    assert rig.note(unworn) is StrapReason.UNCHANGING_BROADCAST
    assert "71 bpm" in rig.statuses(unworn)[-1].detail
    n = len(rig.samples(unworn))
    lost_at_s = rig.statuses(unworn)[-1].t_mono_s
    held = [s for s in rig.samples(unworn) if s.bpm == 71]
    assert held and held[-1].t_mono_s < lost_at_s  # nothing of the held value after that

    await unworn.hold_polar_data(None)  # put on again: the value moves
    await wait_until(lambda: rig.state(unworn) is StrapState.STREAMING
                     and len(rig.samples(unworn)) > n, "the strap streams again")


async def test_malformed_polar_data_is_counted_and_dropped(rig: PolarRig) -> None:
    await rig.add_polar(1)
    strap, = await rig.add_polar(1)
    source = rig.source(max_per_adapter=1)
    await rig.start(source)
    await wait_until(lambda: len(rig.samples(strap)) >= 2, "the strap streams by broadcast")

    await strap.hold_polar_data(bytes.fromhex("3300003838"))  # 5 bytes: no known frame
    await wait_until(lambda: len(rig.dropped(strap)) >= 3, "malformed broadcasts dropped")
    assert "only 3 or 4" in rig.dropped(strap)[0].reason
    assert rig.dropped(strap)[0].data == bytes.fromhex("3300003838")

    await strap.hold_polar_data(None)
    n = len(rig.samples(strap))
    await wait_until(lambda: len(rig.samples(strap)) > n + 1, "it streams again")


async def test_a_non_polar_strap_beyond_capacity_still_says_there_is_no_connection(
        rig: PolarRig) -> None:
    await rig.add_polar(1)
    plain, = await rig.add_straps(1)  # "Sim HR 0002": no broadcast
    source = rig.source(max_per_adapter=1)
    await rig.start(source)
    await wait_until(lambda: rig.state(plain) is StrapState.FAILED, "the plain strap fails")
    assert rig.note(plain) is StrapReason.NO_FREE_CONNECTION
    # Listened to until its advertisements show it broadcasts no heart rate; then the scan
    # it needed stops, and its status stays what it was.
    await wait_until(lambda: source.listened == frozenset(), "the plain strap is let go")
    await wait_until(lambda: not rig.world.adapter().device.is_scanning, "the scan stops")
    assert rig.states(plain) == [StrapState.FAILED]
