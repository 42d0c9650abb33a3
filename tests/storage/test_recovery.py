"""Crash recovery: a session left running is found at the next start, marked interrupted,
and then resumed with a recorded gap or closed at its last stored sample."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import (
    EventKind,
    SampleRecord,
    SessionStatus,
    StorageError,
    finish_session,
    recovery,
    start_session,
    stored_protocol,
)
from hiaim_monitor.storage.schema import EventRow, SessionRow
from tests.storage.helpers import START_UTC, fast_writer, roster

LAST_T_S = 754.25


def crashed_session(db, host="test-host"):
    """A session that stored samples up to LAST_T_S and was never finished."""
    stored = start_session(db, load_protocol("hi-aim"), roster(2), started_utc=START_UTC,
                           host=host)
    sp_a, sp_b = stored.session_participant_ids.values()
    with fast_writer(db, stored) as writer:
        writer.submit_samples(
            SampleRecord(sp, t, START_UTC + timedelta(seconds=t), 130, 70.0, 1, 0,
                         SensorContact.DETECTED)
            for t in (1.0, 500.0, LAST_T_S) for sp in (sp_a, sp_b) if (sp, t) != (sp_b, LAST_T_S))
    return stored


def status_of(db, session_id):
    with db.session() as s:
        row = s.get(SessionRow, session_id)
        return row.status, row.ended_utc


def test_start_up_marks_a_session_left_running_as_interrupted(db):
    crashed = crashed_session(db)
    elsewhere = crashed_session(db, host="other-site-laptop")
    done = crashed_session(db)
    finish_session(db, done.session_id, ended_utc=START_UTC + timedelta(hours=1))

    found = recovery.recover_at_start(db, host="test-host")

    assert [u.session_id for u in found] == [crashed.session_id]
    assert found[0].status is SessionStatus.INTERRUPTED
    assert found[0].last_sample_t_s == LAST_T_S
    assert found[0].last_sample_utc == START_UTC + timedelta(seconds=LAST_T_S)
    assert found[0].participants == 2
    assert status_of(db, crashed.session_id) == (SessionStatus.INTERRUPTED, None)
    # Another machine's session may well be running right now: left alone.
    assert status_of(db, elsewhere.session_id)[0] is SessionStatus.RUNNING
    assert status_of(db, done.session_id)[0] is SessionStatus.FINISHED
    # A second start finds it still waiting for the operator's decision.
    assert [u.session_id for u in recovery.recover_at_start(db, host="test-host")] == [
        crashed.session_id]


def test_resume_records_a_gap_from_the_last_sample_to_now(db):
    crashed = crashed_session(db)
    recovery.mark_interrupted(db, [crashed.session_id])
    now = START_UTC + timedelta(seconds=LAST_T_S + 95.5)

    resumed = recovery.resume(db, crashed.session_id, now_utc=now)

    assert resumed == crashed
    assert status_of(db, crashed.session_id) == (SessionStatus.RUNNING, None)
    with db.session() as s:
        gap = s.scalars(sa.select(EventRow).where(EventRow.kind == EventKind.GAP)).one()
    assert gap.session_id == crashed.session_id and gap.session_participant_id is None
    assert gap.t_s == LAST_T_S
    assert gap.wall_utc == START_UTC + timedelta(seconds=LAST_T_S)
    assert gap.detail["until_t_s"] == LAST_T_S + 95.5
    assert gap.detail["duration_s"] == 95.5
    assert gap.detail["until_utc"] == now.isoformat()
    assert stored_protocol(db, crashed.session_id) == load_protocol("hi-aim")


def test_close_ends_the_session_at_its_last_stored_sample(db):
    crashed = crashed_session(db)
    recovery.mark_interrupted(db, [crashed.session_id])

    ended = recovery.close(db, crashed.session_id)

    assert ended == START_UTC + timedelta(seconds=LAST_T_S)
    assert status_of(db, crashed.session_id) == (SessionStatus.FINISHED, ended)
    assert recovery.recover_at_start(db, host="test-host") == []


def test_a_finished_session_cannot_be_resumed_or_closed(db):
    crashed = crashed_session(db)
    recovery.close(db, crashed.session_id)
    for action in (recovery.resume, recovery.close):
        with pytest.raises(StorageError, match=r"^Session \d+ is already finished; .*\.$"):
            action(db, crashed.session_id)
    with pytest.raises(StorageError, match="no session 424242"):
        recovery.resume(db, 424242)
