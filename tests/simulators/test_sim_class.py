"""A simulated class with every strap watched (as the headless path runs it): the
``SimulatedStrapHub`` streaming virtual straps, on any clock."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from hiaim_monitor.clock import RealClock, SimulatedClock
from hiaim_monitor.engine.engine import ZoneEngine
from hiaim_monitor.engine.snapshot import SignalState
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    PacketDropped,
    SourceEvent,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.strap_hub import EventSink
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from simulators.fleet import RECONNECTING_AFTER_S, make_strap
from simulators.hub import SimulatedStrapHub
from simulators.roster import make_virtual_class
from tests.conftest import people_wearing, run_until, wait_until

PROTOCOL = load_protocol("hi-aim")


class WatchedClass:
    """A simulated hub watching every strap, discovery off: what the headless path runs."""

    def __init__(self, hub: SimulatedStrapHub) -> None:
        self.hub = hub
        self.participants = hub.participants
        self.straps = list(hub.nearby)  # strap ids, in participant order
        self.assignments = hub.assignments

    async def start(self, sink: EventSink) -> None:
        await self.hub.set_discovery(False)
        for strap_id, name in self.hub.nearby.items():
            await self.hub.watch(strap_id, name)
        await self.hub.start(sink)

    async def stop(self) -> None:
        await self.hub.stop()


def source(n: int = 8, clock: SimulatedClock | None = None, **kwargs: object) -> WatchedClass:
    return WatchedClass(SimulatedStrapHub(
        make_virtual_class(n, seed=4),
        clock or SimulatedClock(),
        protocol=PROTOCOL,
        session_start_s=kwargs.pop("session_start_s", 0.0),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    ))


def samples(events: list[SourceEvent], strap_id: str | None = None) -> list[HeartRateSample]:
    return [
        e
        for e in events
        if isinstance(e, HeartRateSample) and (strap_id is None or e.strap_id == strap_id)
    ]


def states(events: list[SourceEvent], strap_id: str) -> list[StrapState]:
    return [e.state for e in events if isinstance(e, StrapStatus) and e.strap_id == strap_id]


def test_straps_have_ids_that_say_they_are_simulated() -> None:
    src = source(3)
    assert src.hub.nearby == {"sim:0001": "Sim HR 0001", "sim:0002": "Sim HR 0002",
                              "sim:0003": "Sim HR 0003"}
    assert src.assignments == {"SIM-001": "sim:0001", "SIM-002": "sim:0002",
                               "SIM-003": "sim:0003"}


async def test_start_announces_connecting_and_battery_then_streaming_per_strap() -> None:
    clock = SimulatedClock()
    src = source(4, clock)
    events: list[SourceEvent] = []
    await src.start(events.append)
    for strap_id in src.straps:
        mine = [e for e in events if e.strap_id == strap_id]
        assert [type(e) for e in mine] == [StrapStatus, BatteryReading]
    await run_until(clock, 2.0)
    await src.stop()
    for strap_id in src.straps:
        assert states(events, strap_id) == [StrapState.CONNECTING, StrapState.STREAMING,
                                            StrapState.STOPPED]


async def test_eight_participants_deliver_a_sample_a_second_for_120_s() -> None:
    clock = SimulatedClock()
    src = source(8, clock)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 120.0)
    await src.stop()
    per_strap = Counter(s.strap_id for s in samples(events))
    assert set(per_strap) == set(src.straps)
    assert all(118 <= n <= 120 for n in per_strap.values()), per_strap
    for strap_id in src.straps:
        mine = samples(events, strap_id)
        assert all(s.contact is SensorContact.DETECTED and s.bpm > 40 for s in mine)
        rr_s = sum(sum(s.rr_ms) for s in mine) / 1000
        assert rr_s == pytest.approx(mine[-1].t_mono_s, abs=2.0)  # every beat is there


async def test_sample_times_are_the_notifications_nominal_times() -> None:
    clock = SimulatedClock(start_mono_s=500.0)
    src = source(2, clock, session_start_s=530.0, seed=9)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 560.0)
    await src.stop()
    for i, (p, strap_id) in enumerate(zip(src.participants, src.straps, strict=True),
                                      start=1):
        twin = make_strap(p, i, protocol=PROTOCOL, session_start_s=530.0, start_t_s=500.0, seed=9)
        notes = twin.notifications_until(560.0)
        got = samples(events, strap_id)
        assert [s.t_mono_s for s in got] == pytest.approx([n.t_s for n in notes], abs=1e-5)
        for sample in got:  # wall time runs with the monotonic clock
            wall_s = (sample.wall_utc - got[0].wall_utc).total_seconds()
            assert wall_s == pytest.approx(sample.t_mono_s - got[0].t_mono_s, abs=1e-5)


async def test_a_long_dropout_reports_reconnecting_then_streaming() -> None:
    faults = FaultConfig().with_scheduled(
        ScheduledFault(FaultKind.DROPOUT, 100.0, 12.0, target="SIM-002")
    )
    clock = SimulatedClock()
    src = source(3, clock, faults=faults)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 150.0)
    await src.stop()
    strap_id = src.assignments["SIM-002"]
    assert not [s for s in samples(events, strap_id) if 100.0 <= s.t_mono_s < 112.0]
    assert states(events, strap_id) == [
        StrapState.CONNECTING,
        StrapState.STREAMING,
        StrapState.RECONNECTING,
        StrapState.STREAMING,
        StrapState.STOPPED,
    ]
    status = {e.state: e for e in events if isinstance(e, StrapStatus) and e.strap_id == strap_id}
    # As the BLE driver: silent for RECONNECTING_AFTER_S after the last notification (~99 s).
    reconnecting_s = status[StrapState.RECONNECTING].t_mono_s
    assert 99.0 < reconnecting_s - RECONNECTING_AFTER_S < 101.1
    assert 112.0 <= status[StrapState.STREAMING].t_mono_s < 113.1
    assert "reconnecting" in status[StrapState.RECONNECTING].detail
    other = src.assignments["SIM-001"]
    assert StrapState.RECONNECTING not in states(events, other)


async def test_a_stalled_strap_is_back_before_its_tile_shows_signal_lost() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.STALL, 100.0, target="SIM-002"))
    clock = SimulatedClock()
    src = source(2, clock, faults=faults)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 150.0)
    await src.stop()
    strap_id = src.assignments["SIM-002"]
    assert states(events, strap_id)[2:4] == [StrapState.RECONNECTING, StrapState.STREAMING]

    # The monitor's view, tick by tick: stale while silent, live again, never lost.
    people = people_wearing(src.participants, src.straps)
    view_clock = SimulatedClock()
    engine = ZoneEngine(PROTOCOL, people, view_clock, start_mono_s=0.0)
    seen = []
    for event in sorted(events, key=lambda e: e.t_mono_s):
        view_clock.advance(max(0.0, event.t_mono_s - view_clock.monotonic()))
        engine.ingest([event])
        seen.append(engine.snapshot().participants[1].signal)
    assert SignalState.STALE in seen and seen[-1] is SignalState.LIVE
    assert SignalState.LOST not in seen
    assert not engine.alarms.history


async def test_a_short_dropout_is_only_a_gap() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.DROPOUT, 30.0, 4.0))
    clock = SimulatedClock()
    src = source(1, clock, faults=faults)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 60.0)
    await src.stop()
    assert StrapState.RECONNECTING not in states(events, src.straps[0])


async def test_contact_loss_arrives_as_not_detected_samples() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.CONTACT_LOSS, 40.0, 10.0))
    clock = SimulatedClock()
    src = source(2, clock, faults=faults)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 70.0)
    await src.stop()
    for strap_id in src.straps:
        lost = [
            s for s in samples(events, strap_id) if s.contact is SensorContact.NOT_DETECTED
        ]
        assert len(lost) == pytest.approx(10, abs=1)
        assert all(40.0 <= s.t_mono_s < 50.1 and s.rr_ms == () and s.bpm > 0 for s in lost)


async def test_malformed_packets_arrive_as_dropped_or_malformed_tail() -> None:
    faults = FaultConfig().with_scheduled(
        ScheduledFault(FaultKind.TRUNCATED, 20.0), ScheduledFault(FaultKind.ODD_BYTE, 30.0)
    )
    clock = SimulatedClock()
    src = source(2, clock, faults=faults)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 40.0)
    await src.stop()
    for strap_id in src.straps:
        dropped = [
            e for e in events if isinstance(e, PacketDropped) and e.strap_id == strap_id
        ]
        tails = [s for s in samples(events, strap_id) if s.malformed_tail]
        assert len(dropped) == 1 and 20.0 <= dropped[0].t_mono_s < 20.1
        assert "too short" in dropped[0].reason
        assert len(tails) == 1 and 30.0 <= tails[0].t_mono_s < 30.1


async def test_battery_readings_follow_the_drain_and_an_empty_strap_is_lost() -> None:
    faults = FaultConfig(battery_start_pct=(3, 3), battery_drain_pct_per_h=360.0)
    clock = SimulatedClock()
    src = source(1, clock, faults=faults)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 60.0)
    await src.stop()
    strap_id = src.straps[0]
    levels = [e.level_pct for e in events if isinstance(e, BatteryReading)]
    assert levels == [3, 2, 1, 0]
    assert states(events, strap_id)[-2:] == [StrapState.LOST, StrapState.STOPPED]
    assert not [s for s in samples(events) if s.t_mono_s > 30.1]


async def test_stop_emits_stopped_and_ends_the_task() -> None:
    clock = SimulatedClock()
    src = source(3, clock)
    events: list[SourceEvent] = []
    await src.start(events.append)
    await run_until(clock, 10.0)
    task = src.hub.task
    await src.stop()
    assert task is not None and task.done()
    for strap_id in src.straps:
        assert states(events, strap_id)[-1] is StrapState.STOPPED
    count = len(events)
    await asyncio.sleep(0)  # a turn of the loop in which nothing may run on
    await src.stop()  # stopping twice is harmless
    assert len(events) == count


async def test_starting_twice_is_refused() -> None:
    src = source(1)
    await src.start(lambda e: None)
    with pytest.raises(RuntimeError, match="already running"):
        await src.start(lambda e: None)
    await src.stop()


async def test_runs_on_a_scaled_clock() -> None:
    clock = SimulatedClock(speed=200.0)
    src = source(4, clock)
    events: list[SourceEvent] = []
    await src.start(events.append)
    # Fifteen seconds of samples from each strap: 75 ms of real time at 200x, far beyond the
    # wait's timeout at 1x.
    await wait_until(lambda: len(samples(events)) >= 4 * 15, "four straps' first 15 s")
    await src.stop()
    elapsed_s = clock.monotonic()  # at least 15, more on a busy machine
    got = samples(events)
    assert 4 * 15 <= len(got) <= 4 * (elapsed_s + 1)
    times = [s.t_mono_s for s in got]
    assert times == sorted(times)
    # No gap-size check: at 200x a few ms of event-loop lateness is a simulated second.


async def test_runs_on_the_real_clock() -> None:
    clock = RealClock()
    src = WatchedClass(SimulatedStrapHub(
        make_virtual_class(2, seed=1),
        clock,
        protocol=PROTOCOL,
        session_start_s=clock.monotonic(),
        period_s=0.05,
        jitter_s=0.01,
    ))
    events: list[SourceEvent] = []
    await src.start(events.append)

    def two_each() -> bool:
        per_strap = Counter(s.strap_id for s in samples(events))
        return len(per_strap) == 2 and all(n >= 2 for n in per_strap.values())

    await wait_until(two_each, "two samples from each strap, 50 ms apart in real time")
    await src.stop()


def test_a_class_without_participants_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one participant"):
        SimulatedStrapHub([], SimulatedClock(), protocol=PROTOCOL)
