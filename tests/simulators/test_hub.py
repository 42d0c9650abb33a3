"""SimulatedStrapHub: the pairing stage with virtual participants, and hearts that follow the
operator's cue (simulated clock, stepped: sleeping moves it)."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import Counter

import pytest

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.protocols import PhaseKind, load_protocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    SourceEvent,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.schedule import PhaseWindow
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.strap_hub import StrapHub
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from simulators.fleet import RECONNECTING_AFTER_S
from simulators.hub import RSSI_RANGE_DBM, SimulatedStrapHub
from simulators.physiology import cue_target, phase_target_bpm
from simulators.roster import make_virtual_class
from simulators.strap import strap_id_for, strap_name_for
from tests.conftest import run_until

PROTOCOL = load_protocol("hi-aim")
HIGH = next(p for p in PROTOCOL.phases if p.kind is PhaseKind.HIGH)
RECOVERY = next(p for p in PROTOCOL.phases if p.kind is PhaseKind.RECOVERY)
HIGH_INDEX = PROTOCOL.phases.index(HIGH)
RECOVERY_INDEX = PROTOCOL.phases.index(RECOVERY)


class Rig:
    def __init__(self, n: int = 4, cue: SessionCue | None = None, **kwargs: object) -> None:
        self.clock = SimulatedClock()
        self.people = make_virtual_class(n, seed=4)
        self.hub = SimulatedStrapHub(self.people, self.clock, cue=cue, **kwargs)  # type: ignore[arg-type]
        self.events: list[SourceEvent] = []

    def sightings(self, strap_id: str | None = None) -> list[StrapSighting]:
        return [
            e
            for e in self.events
            if isinstance(e, StrapSighting) and strap_id in (None, e.strap_id)
        ]

    def samples(self, strap_id: str | None = None) -> list[HeartRateSample]:
        return [
            e
            for e in self.events
            if isinstance(e, HeartRateSample) and strap_id in (None, e.strap_id)
        ]

    def states(self, strap_id: str) -> list[StrapState]:
        return [
            e.state for e in self.events if isinstance(e, StrapStatus) and e.strap_id == strap_id
        ]


def plan(*phases: tuple[int, float, float]) -> tuple[PhaseWindow, ...]:
    """(protocol index, start s, end s) → a cue plan of hi-aim phases."""
    return tuple(PhaseWindow(i, PROTOCOL.phases[i], start, end, (), False, start, end)
                 for i, start, end in phases)


def mean_bpm(samples: list[HeartRateSample], from_s: float, to_s: float) -> float:
    return statistics.fmean(s.bpm for s in samples if from_s <= s.t_mono_s < to_s)


async def test_every_strap_of_the_class_is_sighted_nearby_with_a_wavering_signal() -> None:
    rig = Rig(6)
    hub: StrapHub = rig.hub  # what the window holds
    await hub.start(rig.events.append)
    await run_until(rig.clock, 20.0)
    await hub.stop()

    ids = [strap_id_for(i) for i in range(1, 7)]
    assert {s.strap_id for s in rig.sightings()} == set(ids)
    for i, strap_id in enumerate(ids, start=1):
        mine = rig.sightings(strap_id)
        assert len(mine) >= 5  # about every SIGHTING_EVERY_S (2 s) for 20 s
        assert {s.name for s in mine} == {strap_name_for(i)}
        levels = [s.rssi_dbm or 0 for s in mine]
        assert all(RSSI_RANGE_DBM[0] <= dbm <= RSSI_RANGE_DBM[1] for dbm in levels)
        assert len(set(levels)) > 1  # a live signal, not a constant
        assert max(levels) - min(levels) <= 15  # ...that wavers, not jumps about the room
    # Straps sit at different distances.
    centres = {round(statistics.fmean(s.rssi_dbm or 0 for s in rig.sightings(i))) for i in ids}
    assert len(centres) >= 4
    # Nothing is connected, so nothing streams.
    assert not rig.samples()
    assert not [e for e in rig.events if isinstance(e, StrapStatus | BatteryReading)]
    assert rig.hub.watched == {}


async def test_only_a_watched_strap_streams_and_unwatching_stops_it() -> None:
    rig = Rig(3)
    watched, other = strap_id_for(2), strap_id_for(3)
    await rig.hub.start(rig.events.append)
    await run_until(rig.clock, 5.0)
    assert not rig.samples()

    await rig.hub.watch(watched, "Sim HR 0002")
    watched_at_s = rig.clock.monotonic()
    await run_until(rig.clock, 25.0)
    assert list(rig.hub.watched) == [watched]
    assert rig.states(watched) == [StrapState.CONNECTING, StrapState.STREAMING]
    assert any(isinstance(e, BatteryReading) and e.strap_id == watched for e in rig.events)
    got = rig.samples(watched)
    assert 17 <= len(got) <= 21  # one a second since the watch
    assert all(s.t_mono_s >= watched_at_s for s in got)  # no backlog from before
    assert all(40 < s.bpm < 120 and s.rr_ms for s in got)  # at rest, beats present
    assert not rig.samples(other)
    # A connected strap no longer advertises; the others still do.
    assert not [s for s in rig.sightings(watched) if s.t_mono_s > watched_at_s + 0.5]
    assert [s for s in rig.sightings(other) if s.t_mono_s > watched_at_s + 0.5]

    await rig.hub.unwatch(watched)
    unwatched_at_s = rig.clock.monotonic()
    await rig.hub.unwatch(watched)  # unwatching twice is harmless
    await run_until(rig.clock, 40.0)
    await rig.hub.stop()
    assert rig.states(watched) == [
        StrapState.CONNECTING,
        StrapState.STREAMING,
        StrapState.STOPPED,
    ]
    assert not [s for s in rig.samples(watched) if s.t_mono_s > unwatched_at_s]
    assert [s for s in rig.sightings(watched) if s.t_mono_s > unwatched_at_s]  # nearby again
    assert rig.hub.watched == {}


async def test_a_watched_strap_that_stalls_goes_reconnecting_then_streams_again() -> None:
    stalled = strap_id_for(2)
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.STALL, 30.0, target=stalled))
    rig = Rig(3, faults=faults)
    await rig.hub.start(rig.events.append)
    await rig.hub.watch(stalled, "Sim HR 0002")
    await rig.hub.watch(strap_id_for(3), "Sim HR 0003")
    await run_until(rig.clock, 60.0)
    await rig.hub.stop()

    assert rig.states(stalled) == [
        StrapState.CONNECTING,
        StrapState.STREAMING,
        StrapState.RECONNECTING,
        StrapState.STREAMING,
        StrapState.STOPPED,
    ]
    reconnecting = next(e for e in rig.events if isinstance(e, StrapStatus)
                        and e.state is StrapState.RECONNECTING)
    times = [s.t_mono_s for s in rig.samples(stalled)]
    before = [t for t in times if t < reconnecting.t_mono_s]
    after = [t for t in times if t >= reconnecting.t_mono_s]
    # Silent from the stall (arrival stamps on this stepped clock lag by up to 2 s) until
    # the reconnect, which comes once the silence is long enough; then data again.
    assert 29.0 <= before[-1] < 32.0
    assert before[-1] + RECONNECTING_AFTER_S < reconnecting.t_mono_s
    assert reconnecting.t_mono_s < 33.0 + RECONNECTING_AFTER_S
    assert after[0] - reconnecting.t_mono_s < 3.0 and len(after) >= 15
    assert rig.states(strap_id_for(3)) == [
        StrapState.CONNECTING, StrapState.STREAMING, StrapState.STOPPED]


async def test_stop_reports_stopped_for_watched_straps_and_ends_everything() -> None:
    rig = Rig(3)
    await rig.hub.watch(strap_id_for(1), "")  # before start: connects at start
    await rig.hub.start(rig.events.append)
    await rig.hub.watch(strap_id_for(1), "")  # idempotent
    await run_until(rig.clock, 10.0)
    await rig.hub.stop()
    assert rig.states(strap_id_for(1)) == [
        StrapState.CONNECTING,
        StrapState.STREAMING,
        StrapState.STOPPED,
    ]
    assert list(rig.hub.watched.values()) == [strap_name_for(1)]
    count = len(rig.events)
    for _ in range(50):  # what is tested: fifty turns of the loop in which nothing runs on
        await asyncio.sleep(0)
    assert len(rig.events) == count


async def test_discovery_off_stops_sightings_but_not_streaming() -> None:
    rig = Rig(3)
    await rig.hub.start(rig.events.append)
    await rig.hub.watch(strap_id_for(1), "Sim HR 0001")
    await run_until(rig.clock, 6.0)
    await rig.hub.set_discovery(False)
    off_at_s = rig.clock.monotonic()
    await run_until(rig.clock, 20.0)
    assert not [s for s in rig.sightings() if s.t_mono_s > off_at_s]
    assert [s for s in rig.samples(strap_id_for(1)) if s.t_mono_s > off_at_s + 10]

    await rig.hub.set_discovery(True)
    on_at_s = rig.clock.monotonic()
    await run_until(rig.clock, 24.0)
    await rig.hub.stop()
    again = {s.strap_id for s in rig.sightings() if s.t_mono_s >= on_at_s}
    assert again == {strap_id_for(2), strap_id_for(3)}


async def test_watching_a_strap_that_is_not_simulated_fails_with_a_reason() -> None:
    rig = Rig(2)
    await rig.hub.start(rig.events.append)
    await rig.hub.watch("AA:BB:CC:DD:EE:FF", "Polar H10 1234")
    await rig.hub.stop()
    (status,) = [e for e in rig.events if isinstance(e, StrapStatus)]
    assert status.state is StrapState.FAILED and "not one of the simulated" in status.detail
    assert rig.hub.watched == {}


async def test_an_empty_strap_is_not_nearby() -> None:
    faults = FaultConfig(battery_start_pct=(0, 0))
    rig = Rig(2, faults=faults)
    await rig.hub.start(rig.events.append)
    await run_until(rig.clock, 6.0)
    await rig.hub.stop()
    assert not rig.sightings()


async def test_the_heart_rests_without_a_session_and_works_in_a_cued_high_phase() -> None:
    cue = SessionCue()
    rig = Rig(1, cue=cue)  # one participant: a NORMAL responder
    (person,) = rig.people
    strap_id = strap_id_for(1)
    await rig.hub.start(rig.events.append)
    await rig.hub.watch(strap_id, "")
    await run_until(rig.clock, 120.0)
    resting = mean_bpm(rig.samples(strap_id), 60.0, 120.0)
    assert resting == pytest.approx(person.at_rest_bpm, abs=6.0)

    # The operator starts: a high bout from now, open-ended as while paused.
    cue.publish(plan((HIGH_INDEX, 120.0, math.inf)))
    await run_until(rig.clock, 360.0)
    high = mean_bpm(rig.samples(strap_id), 300.0, 360.0)
    assert high >= 0.83 * person.hrmax_bpm
    assert high > resting + 40

    # Skip to recovery: the heart eases off at once, not when the printed bout would end.
    cue.publish(plan((HIGH_INDEX, 120.0, 360.0), (RECOVERY_INDEX, 360.0, 540.0)))
    await run_until(rig.clock, 420.0)
    await rig.hub.stop()
    assert mean_bpm(rig.samples(strap_id), 400.0, 420.0) < high - 15


async def test_a_cue_target_changes_the_moment_a_new_plan_is_published() -> None:
    (person,) = make_virtual_class(1, seed=8)
    cue = SessionCue()
    target = cue_target(person, cue)
    assert target(50.0) == person.at_rest_bpm  # no session running

    cue.publish(plan((HIGH_INDEX, 0.0, 180.0), (RECOVERY_INDEX, 180.0, 360.0)))
    high_bpm = phase_target_bpm(person, HIGH, HIGH_INDEX)
    assert target(50.0) == high_bpm
    assert target(200.0) == phase_target_bpm(person, RECOVERY, RECOVERY_INDEX) < high_bpm
    assert target(400.0) == person.at_rest_bpm  # after the end

    cue.publish(plan((HIGH_INDEX, 0.0, 40.0), (RECOVERY_INDEX, 40.0, 220.0)))  # skip at 40 s
    assert target(50.0) < high_bpm
    cue.publish(())  # stop
    assert target(50.0) == person.at_rest_bpm


async def test_a_watched_class_with_a_cue_follows_the_operator_not_the_protocol() -> None:
    clock = SimulatedClock()
    cue = SessionCue()
    people = make_virtual_class(2, seed=4)
    # Given a protocol starting at 0 too: the cue wins, and no session has started.
    hub = SimulatedStrapHub(people, clock, protocol=PROTOCOL, session_start_s=0.0, cue=cue)
    events: list[SourceEvent] = []
    await hub.set_discovery(False)  # as the headless path runs it
    for strap_id, name in hub.nearby.items():
        await hub.watch(strap_id, name)
    await hub.start(events.append)
    await run_until(clock, 900.0)  # the printed protocol would be well into its bouts
    await hub.stop()
    for person, strap_id in zip(people, hub.nearby, strict=True):
        got = [e for e in events if isinstance(e, HeartRateSample) and e.strap_id == strap_id]
        assert len(got) >= 890
        assert mean_bpm(got, 600.0, 900.0) == pytest.approx(person.at_rest_bpm, abs=6.0)
    assert Counter(type(e) for e in events)[StrapSighting] == 0
