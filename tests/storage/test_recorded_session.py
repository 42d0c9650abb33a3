"""A session started from a plan and finished once: notes, acknowledgements and the
remembered straps end up in the database (SQLite and PostgreSQL)."""

import queue

import sqlalchemy as sa

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.storage import StorageState
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.schema import EventRow, SessionParticipantRow, SessionRow
from tests.storage.helpers import START_UTC, roster


def start(db, cue=None):
    people = roster(2)
    for p in people:
        add_participant(db, p.study_code, p.display_name, hrmax_bpm=p.hrmax.bpm)
    clock = SimulatedClock(start_utc=START_UTC)
    events = queue.SimpleQueue()
    recorded = RecordedSession.start(db, load_protocol("norwegian-4x4"), people, clock, events,
                                     cue=cue, remember_straps=True)
    return recorded, clock, events, people


def test_notes_and_acknowledged_alarms_are_stored(db):
    recorded, clock, events, people = start(db)
    session = recorded.session
    for _ in range(20):
        data = encode_heart_rate_measurement(120, rr_raw=[512])
        events.put(sample_from_notification(people[0].strap_id, data, clock))
        clock.advance(1)
        recorded.tick()
    session.acknowledge([(people[1].study_code, "signal-lost"), (None, "storage")])
    session.note("first draft", people[0].study_code)
    result = recorded.finish(notes="Went well.",
                             participant_notes={people[0].study_code: "Knee pain."})
    assert result.unwritten_rows == 0 and result.error == ""
    assert recorded.finish() is result  # only the first call does anything
    with db.session() as s:
        row = s.get(SessionRow, recorded.session_id)
        assert row.notes == "Went well." and str(row.status) == "finished"
        notes = dict(s.execute(sa.select(SessionParticipantRow.id, SessionParticipantRow.notes)
                               .where(SessionParticipantRow.session_id == row.id)).all())
        events_ = s.execute(sa.select(EventRow.kind, EventRow.session_participant_id,
                                      EventRow.detail)
                            .where(EventRow.session_id == row.id)).all()
    ids = recorded.stored.session_participant_ids
    assert notes == {ids[people[0].study_code]: "Knee pain.",
                     ids[people[1].study_code]: ""}
    acks = [(sp, d["alarm"]) for k, sp, d in events_ if str(k) == "alarm-acknowledged"]
    assert acks == [(ids[people[1].study_code], "signal-lost"), (None, "storage")]
    assert [d["text"] for k, _, d in events_ if str(k) == "note"] == ["first draft"]


def test_the_snapshot_says_recording_until_finished_with_the_storage_state(db):
    recorded, clock, events, people = start(db)
    events.put(sample_from_notification(people[0].strap_id,
                                        encode_heart_rate_measurement(120), clock))
    snap = recorded.tick()
    assert snap.recording and snap.storage is not None
    assert snap.storage.state is StorageState.OK and snap.storage.dropped_rows == 0
    assert recorded.finish().stored
    clock.advance(1)
    events.put(sample_from_notification(people[0].strap_id,
                                        encode_heart_rate_measurement(121), clock))
    after = recorded.tick()  # the window goes on showing what the straps send
    assert not after.recording and after.storage is not None
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("select bpm from samples")).scalars().all() == [120]


def test_todays_straps_are_remembered_for_next_time(db):
    recorded, *_ , people = start(db)
    recorded.finish()
    straps = {p.study_code: p.strap_key for p in list_participants(db)}
    assert straps == {p.study_code: p.strap_id for p in people}


def test_a_strap_heard_on_two_radios_today_is_remembered_with_both_ids(db):
    """Paired once: next time the registry gives the participant both ids of the strap."""
    import dataclasses

    (anna,) = roster(1)
    anna = dataclasses.replace(anna, strap_id="ble:AA:BB:CC:DD:EE:01",
                               other_strap_ids=("ant:4242",))
    add_participant(db, anna.study_code, anna.display_name, hrmax_bpm=anna.hrmax.bpm)
    clock = SimulatedClock(start_utc=START_UTC)
    recorded = RecordedSession.start(db, load_protocol("norwegian-4x4"), [anna], clock,
                                     queue.SimpleQueue(), remember_straps=True)
    recorded.finish()
    (info,) = list_participants(db)
    assert info.strap_ids == ("ble:AA:BB:CC:DD:EE:01", "ant:4242")


def test_operator_actions_are_published_to_the_cue_and_cleared_at_the_end(db):
    cue = SessionCue()
    recorded, clock, *_ = start(db, cue)
    first = cue.phase_at(clock.monotonic())
    assert first is not None and first.index == 0
    clock.advance(30)
    recorded.session.skip()
    now = cue.phase_at(clock.monotonic())
    assert now is not None and now.index == 1 and now.start_s == 30.0  # the skip, 30 s in
    recorded.session.pause()
    assert cue.phase_at(clock.monotonic() + 3600).index == 1  # a pause holds the phase
    recorded.finish()
    assert cue.phase_at(clock.monotonic()) is None


def test_a_finished_session_can_still_be_ticked_without_storing_anything(db):
    from hiaim_monitor.samples import StrapState, StrapStatus

    recorded, clock, events, people = start(db)
    recorded.finish()
    # The window keeps showing it, and a strap still reports going away.
    events.put(StrapStatus(people[0].strap_id, clock.monotonic(), StrapState.RECONNECTING))
    clock.advance(1)
    snap = recorded.tick()
    assert not snap.recording
    assert snap.participants[0].strap_state is StrapState.RECONNECTING
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from events where kind = "
                                    "'connection-change'")).scalar_one() == 0
