"""Crash recovery: a session left running is found at the next start, marked interrupted,
and then closed at its last stored sample; a session still recording is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import (
    SampleRecord,
    SessionStatus,
    StorageError,
    finish_session,
    recovery,
    start_session,
)
from hiaim_monitor.storage.schema import SessionRow
from tests.storage.helpers import START_UTC, as_crashed, fast_writer, roster

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
    as_crashed(db, stored.session_id)
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


def test_close_ends_the_session_at_its_last_stored_sample(db):
    crashed = crashed_session(db)
    recovery.mark_interrupted(db, [crashed.session_id])

    ended = recovery.close(db, crashed.session_id)

    assert ended == START_UTC + timedelta(seconds=LAST_T_S)
    assert status_of(db, crashed.session_id) == (SessionStatus.FINISHED, ended)
    assert recovery.recover_at_start(db, host="test-host") == []


def test_a_finished_session_cannot_be_closed_again(db):
    crashed = crashed_session(db)
    recovery.close(db, crashed.session_id)
    with pytest.raises(StorageError, match=r"^Session \d+ is already finished; .*\.$"):
        recovery.close(db, crashed.session_id)
    with pytest.raises(StorageError, match="no session 424242"):
        recovery.close(db, 424242)


def test_a_second_instance_leaves_a_session_still_recording_alone(db, backend):
    """This process records a session; another instance on this host starts up (here the
    recovery command, as a separate process): the live session is not marked interrupted,
    even when its heartbeat is old (a database outage stops it). Once its process is gone,
    it is."""
    live = start_session(db, load_protocol("hi-aim"), roster(2), started_utc=START_UTC)
    with fast_writer(db, live) as writer:
        writer.submit_samples([SampleRecord(live.session_participant_ids["HIAIM-001"], 1.0,
                                            START_UTC, 120, 65.0, 0, 0)])
    other = subprocess.run(
        [sys.executable, "-m", "hiaim_monitor", "sessions", "recover", "--db", backend.url],
        capture_output=True, text=True, timeout=60)
    assert other.returncode == 0, other.stderr
    assert "No unfinished sessions" in other.stdout, other.stdout
    assert status_of(db, live.session_id) == (SessionStatus.RUNNING, None)

    # The database was out for an hour: no heartbeat since just after this process started.
    started = recovery._process_started_utc(os.getpid())
    assert started is not None
    with db.session() as s, s.begin():
        s.get(SessionRow, live.session_id).heartbeat_utc = started + timedelta(seconds=0.5)
    later = datetime.now(UTC) + timedelta(hours=1)
    assert recovery.recover_at_start(db, now_utc=later) == []
    assert status_of(db, live.session_id) == (SessionStatus.RUNNING, None)

    as_crashed(db, live.session_id)  # now its recorder is gone
    assert [u.session_id for u in recovery.recover_at_start(db)] == [live.session_id]
    assert status_of(db, live.session_id)[0] is SessionStatus.INTERRUPTED
