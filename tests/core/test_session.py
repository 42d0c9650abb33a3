import queue

import pytest

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import SensorContact, encode_heart_rate_measurement
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import (
    BatteryReading,
    PacketDropped,
    StrapState,
    StrapStatus,
    sample_from_notification,
)
from hiaim_monitor.session import IntensityClass, LiveSession, SignalState


@pytest.fixture
def setup():
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    people = [
        Participant("P01", "Anna", "A", measured_hrmax(160)),
        Participant("P02", "Bo", "B", measured_hrmax(180)),
    ]
    session = LiveSession(load_protocol("norwegian-4x4"), people, clock, events)
    return clock, events, session


def send(clock, events, strap, bpm, contact=SensorContact.DETECTED):
    data = encode_heart_rate_measurement(bpm, sensor_contact=contact, rr_raw=[int(61440 / bpm)])
    events.put(sample_from_notification(strap, data, clock))


def view(snap, name):
    return next(p for p in snap.participants if p.display_name == name)


def test_tick_classifies_each_participant_by_percent_of_their_own_hrmax(setup):
    clock, events, session = setup
    send(clock, events, "A", 144)  # 90 % of 160
    send(clock, events, "B", 144)  # 80 % of 180
    snap = session.tick()
    anna, bo = view(snap, "Anna"), view(snap, "Bo")
    assert anna.pct_hrmax == pytest.approx(90) and anna.intensity is IntensityClass.HIGH
    assert bo.pct_hrmax == pytest.approx(80) and bo.intensity is IntensityClass.INTERMEDIATE
    assert anna.signal is SignalState.LIVE and anna.bpm == 144


def test_silent_strap_turns_stale_then_lost_and_never_shows_a_number_when_lost(setup):
    clock, events, session = setup
    send(clock, events, "A", 150)
    session.tick()
    clock.advance(5)
    stale = view(session.tick(), "Anna")
    assert stale.signal is SignalState.STALE
    assert stale.bpm == 150 and stale.age_s == pytest.approx(5)
    assert stale.intensity is None  # an old value is not a live class
    clock.advance(7)
    lost = view(session.tick(), "Anna")
    assert lost.signal is SignalState.LOST
    assert lost.bpm is None and lost.pct_hrmax is None and lost.intensity is None


def test_never_seen_strap_is_waiting_with_no_number(setup):
    _, _, session = setup
    bo = view(session.tick(), "Bo")
    assert bo.signal is SignalState.WAITING and bo.bpm is None


def test_no_contact_samples_show_check_strap_and_do_not_count(setup):
    clock, events, session = setup
    for _ in range(10):
        send(clock, events, "A", 150, SensorContact.NOT_DETECTED)
        clock.advance(1)
    anna = view(session.tick(), "Anna")
    assert anna.signal is SignalState.NO_CONTACT and anna.bpm is None
    person = session.summary()["participants"][0]
    assert sum(person["seconds_in_class"].values()) == 0
    assert person["seconds_without_contact"] == pytest.approx(9)
    assert person["mean_bpm"] is None


def test_summary_credits_time_in_each_class_and_counts_dropped_packets(setup):
    clock, events, session = setup
    for bpm in [100] * 11 + [120] * 10 + [140] * 10:  # 62 %, 75 %, 87.5 % of 160
        send(clock, events, "A", bpm)
        clock.advance(1)
    events.put(PacketDropped("A", clock.monotonic(), "too short", b"\x16"))
    events.put(BatteryReading("A", clock.monotonic(), 42))
    events.put(StrapStatus("A", clock.monotonic(), StrapState.STREAMING))
    snap = session.tick()
    assert view(snap, "Anna").battery_pct == 42
    assert view(snap, "Anna").strap_state is StrapState.STREAMING
    anna = session.summary()["participants"][0]
    assert anna["samples_received"] == 31
    assert anna["packets_dropped"] == 1
    assert anna["peak_bpm"] == 140
    # Each sample stands for the time since the one before it (the first for none).
    assert anna["seconds_in_class"] == {"below": 10.0, "intermediate": 10.0, "high": 10.0}
    assert anna["mean_bpm"] == pytest.approx((100 * 11 + 1200 + 1400) / 31, abs=0.1)


def test_samples_after_the_session_end_are_not_counted():
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    session = LiveSession(load_protocol("norwegian-4x4"),
                          [Participant("P01", "Anna", "A", measured_hrmax(160))],
                          clock, events, duration_s=10)
    for _ in range(30):
        send(clock, events, "A", 150)
        clock.advance(1)
    snap = session.tick()
    assert snap.finished
    summary = session.summary()
    assert summary["duration_s"] == 10
    assert summary["participants"][0]["samples_received"] == 30
    assert sum(summary["participants"][0]["seconds_in_class"].values()) == pytest.approx(10)


def test_implausible_heart_rate_is_not_classified(setup):
    clock, events, session = setup
    send(clock, events, "A", 20)
    clock.advance(1)
    send(clock, events, "A", 250)
    session.tick()
    anna = session.summary()["participants"][0]
    assert anna["peak_bpm"] is None and anna["samples_received"] == 2


def test_events_from_unknown_straps_are_counted_not_fatal(setup):
    clock, events, session = setup
    send(clock, events, "Z", 120)
    session.tick()
    assert session.unknown_events == 1


def test_two_participants_on_one_strap_are_refused():
    people = [Participant("P1", "A", "S", measured_hrmax(160)),
              Participant("P2", "B", "S", measured_hrmax(170))]
    with pytest.raises(ValueError, match="share one strap"):
        LiveSession(load_protocol("hi-aim"), people, SimulatedClock(), queue.SimpleQueue())


def test_snapshot_follows_the_protocol_clock(setup):
    clock, _, session = setup
    clock.advance(600 + 60)
    snap = session.tick()
    assert snap.position.phase.name == "Interval 1/4"
    assert snap.position.remaining_s == pytest.approx(180)
