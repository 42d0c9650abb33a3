import json
import queue
from datetime import timedelta

import pytest

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.hrm import SensorContact, encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session import LiveSession
from tests.conftest import people


def make(duration_s=None):
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    session = LiveSession(load_protocol("norwegian-4x4"), people(160, 180), clock, events,
                          duration_s=duration_s)
    return clock, events, session


def send(clock, events, strap, bpm, contact=SensorContact.DETECTED):
    data = encode_heart_rate_measurement(bpm, sensor_contact=contact, rr_raw=[int(61440 / bpm)])
    events.put(sample_from_notification(strap, data, clock))


def test_tick_drains_the_queue_and_classifies_by_each_persons_own_hrmax():
    clock, events, session = make()
    for _ in range(10):
        send(clock, events, "A", 144)  # 90 % of 160
        send(clock, events, "B", 144)  # 80 % of 180
        clock.advance(1)
    snap = session.tick()
    anna, bo = snap.participants
    assert anna.level is Level.HIGH and anna.pct_hrmax == pytest.approx(90, abs=0.5)
    assert bo.level is Level.INTERMEDIATE and bo.pct_hrmax == pytest.approx(80, abs=0.5)
    assert events.empty()


def test_summary_names_people_and_is_plain_json_with_rounded_figures():
    clock, events, session = make(duration_s=30)
    for _ in range(40):
        send(clock, events, "A", 120)
        clock.advance(1)
    session.tick()
    summary = json.loads(json.dumps(session.summary()))
    assert summary["duration_s"] == 30
    anna = summary["participants"][0]
    assert anna["display_name"] == "Anna" and anna["hrmax_method"] == "measured"
    assert anna["samples_received"] == 40
    assert anna["seconds_in_level"]["intermediate"] == pytest.approx(29, abs=1)
    assert anna["mean_bpm"] == 120
    text = json.dumps(summary)
    assert "0000000" not in text  # floats are rounded for people


def test_snapshot_follows_the_protocol_clock():
    clock, _, session = make()
    clock.advance(600 + 60)
    snap = session.tick()
    assert snap.position.phase.name == "Interval 1/4"
    assert snap.position.remaining_s == pytest.approx(180)


def test_operator_actions_apply_at_the_current_session_time():
    clock, _, session = make()
    clock.advance(600 + 60)  # a minute into interval 1 (4 min)
    session.pause()
    clock.advance(30)
    assert session.tick().position.remaining_s == pytest.approx(180)  # stood still
    session.resume()
    clock.advance(10)
    session.extend()
    assert session.tick().position.remaining_s == pytest.approx(230)
    session.skip()
    snap = session.tick()
    assert snap.position.phase.name == "Active recovery 1/4" and snap.position.elapsed_s == 0
    with pytest.raises(ValueError, match="not paused"):
        session.resume()
    session.stop()
    assert session.tick().finished
    assert [a.kind.value for a in session.schedule.actions] == [
        "pause", "resume", "extend", "skip", "stop"]
    assert session.summary()["duration_s"] == 700


def test_without_a_cap_an_extended_session_runs_past_the_protocol_total():
    clock, _, session = make()
    session.extend(by_s=120)
    clock.advance(session.protocol.total_s + 60)
    assert not session.tick().finished
    assert session.duration_s == session.protocol.total_s + 120


def test_acknowledgements_notes_and_actions_come_out_of_the_next_tick_in_time_order():
    clock, _, session = make()
    clock.advance(30)
    session.acknowledge([("P01", "signal-lost"), (None, "storage")])
    session.note("felt dizzy", "P02")
    clock.advance(5)
    session.pause()
    out, snap = session.advance()
    assert [(type(e).__name__, e.t_s) for e in out.operator] == [
        ("Acknowledgement", 30.0), ("Acknowledgement", 30.0), ("Note", 30.0),
        ("PlanChange", 35.0)]
    assert out.operator[2].study_code == "P02" and out.operator[2].text == "felt dizzy"
    assert out.operator[0].wall_utc == session.started_utc + timedelta(seconds=30)
    assert snap.paused and not snap.recording and snap.storage is None  # nothing records it
    again, _ = session.advance()
    assert again.operator == ()  # each goes out once


def test_an_unrecorded_tick_fills_the_snapshot_but_lets_the_output_go():
    clock, events, session = make()
    send(clock, events, "A", 120)
    snap = session.tick()
    assert snap.planned_run_s == tuple(session.schedule.planned_run_s())
    assert not snap.recording and snap.storage is None
