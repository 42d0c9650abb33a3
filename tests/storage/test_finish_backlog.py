"""Finishing a session while the database is down: the caller is not kept waiting, the
writer goes on trying, and rows the database never took are kept in a spill file and stored
at the next start, exactly once. SIGTERM finishes a session like Ctrl+C."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import sqlalchemy as sa

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.schema import EventRow, SessionRow
from hiaim_monitor.storage.spill import pending_spills, replay_spills
from tests.conftest import people, poll_until
from tests.storage.helpers import Backend

PEOPLE = people(180, 175)


def counts(db, session_id: int) -> tuple[int, str, str]:
    """(samples stored, status, notes) of one session."""
    with db.engine.connect() as conn:
        n = conn.execute(sa.text(
            "select count(*) from samples s join session_participants sp "
            "on sp.id = s.session_participant_id where sp.session_id = :id"),
            {"id": session_id}).scalar_one()
    with db.session() as s:
        row = s.get(SessionRow, session_id)
        return n, str(row.status), row.notes


def recorded_class(db, seconds: int) -> RecordedSession:
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    recorded = RecordedSession.start(db, load_protocol("hi-aim"), PEOPLE, clock, events)
    for i in range(seconds):
        for strap in ("A", "B"):
            events.put(sample_from_notification(
                strap, encode_heart_rate_measurement(110 + i % 7), clock))
        recorded.tick()
        clock.advance(1)
    return recorded


def test_finishing_during_an_outage_returns_at_once_and_stores_everything_later(
        db, backend: Backend):
    recorded = recorded_class(db, 30)
    with backend.unwritable():
        recorded.tick()
        began = time.monotonic()
        result = recorded.finish(notes="Good class.", wait_s=0.3)
        assert time.monotonic() - began < 1.5  # the window stays responsive
        assert result.pending and not result.stored
    poll_until(lambda: recorded.progress().stored, "the backlog is stored", timeout_s=30)
    assert counts(db, recorded.session_id) == (60, "finished", "Good class.")


def test_a_backlog_the_database_never_took_is_spilled_and_stored_once_at_the_next_start(
        db, backend: Backend):
    recorded = recorded_class(db, 30)
    with backend.unwritable():
        recorded.finish(notes="Written during the outage.", wait_s=0.2)
        recorded.store_notes("Written later, still during the outage.", {"P1": "knee"})
        result = recorded.settle(wait_s=0.5)
        assert result.spill_path is not None and result.spill_path.exists()
        assert result.unwritten_rows == 0 and not result.error
        assert oct(result.spill_path.stat().st_mode & 0o777) == "0o600"  # health data
    assert counts(db, recorded.session_id)[1] == "running"
    stored_before = counts(db, recorded.session_id)[0]
    assert stored_before < 60  # some rows really waited in the spill file
    copy = result.spill_path.with_name("copy.bak")
    shutil.copy(result.spill_path, copy)

    replayed = replay_spills(db)

    assert [(r.session_id, r.finished) for r in replayed] == [(recorded.session_id, True)]
    assert not result.spill_path.exists()
    assert counts(db, recorded.session_id) == (
        60, "finished", "Written later, still during the outage.")
    # The same file stored again (a replay cut short, then run again): nothing twice.
    shutil.move(copy, result.spill_path)
    replay_spills(db)
    assert counts(db, recorded.session_id)[0] == 60
    assert result.spill_path not in pending_spills()


def test_a_spill_file_of_another_database_is_left_for_it(db, backend: Backend, tmp_path):
    recorded = recorded_class(db, 5)
    with backend.unwritable():
        result = recorded.finish(wait_s=0.1)
        result = recorded.settle(wait_s=0.2)
    other = open_database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        assert replay_spills(other) == []
    finally:
        other.close()
    assert result.spill_path is not None and result.spill_path.exists()
    replay_spills(db)
    assert counts(db, recorded.session_id) == (10, "finished", "")


def app_env() -> dict[str, str]:
    """The app's environment without a display: the terminal table runs."""
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def test_the_terminal_app_keeps_its_backlog_when_the_database_stays_locked(tmp_path):
    path = tmp_path / "locked.sqlite3"
    url = f"sqlite:///{path}"
    app = subprocess.Popen(
        [sys.executable, "-m", "hiaim_monitor", "--simulate", "2", "--headless", "--speed",
         "10", "--duration", "60", "--faults", "none", "--summary-json",
         str(tmp_path / "summary.json"), "--db", url], env=app_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    db = open_database(url)
    try:
        poll_until(lambda: path.exists() and _has_session(db) and counts(db, 1)[0] > 4,
                   "the app stores its first samples", timeout_s=60, interval_s=0.05)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # held until the app has ended
        try:
            _, err = app.communicate(timeout=120)
        finally:
            other.execute("ROLLBACK")
            other.close()
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err
    kept = [line for line in err.splitlines() if "did not answer" in line]
    assert len(kept) == 1 and "session 1 are kept in" in kept[0], err
    assert counts(db, 1)[1] == "running"

    after = subprocess.run(
        [sys.executable, "-m", "hiaim_monitor", "--simulate", "1", "--headless", "--speed",
         "200", "--duration", "5", "--db", url], env=app_env(), capture_output=True, text=True,
        timeout=120)
    assert after.returncode == 0, after.stderr
    assert "rows of session 1 kept in" in after.stderr, after.stderr
    samples, status, _ = counts(db, 1)
    assert status == "finished"
    summary = json.loads((tmp_path / "summary.json").read_text())
    received = sum(p["samples_received"] for p in summary["participants"])
    assert samples == received > 2 * 50  # every sample the app received, once
    db.close()


def _has_session(db) -> bool:
    try:
        with db.session() as s:
            return s.get(SessionRow, 1) is not None
    except sa.exc.OperationalError:
        return False


def test_sigterm_finishes_the_session_with_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'term.sqlite3'}"
    app = subprocess.Popen(
        [sys.executable, "-m", "hiaim_monitor", "--simulate", "2", "--headless",
         "--faults", "none", "--db", url], env=app_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    db = open_database(url)
    try:
        poll_until(lambda: _has_session(db) and counts(db, 1)[0] >= 6,
                   "the app stores its first samples", timeout_s=60, interval_s=0.05)
        seen = counts(db, 1)[0]
        app.send_signal(signal.SIGTERM)  # logout or shutdown
        _, err = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, err
    assert "SIGTERM" in err
    samples, status, _ = counts(db, 1)
    assert status == "finished"
    assert samples >= seen
    # Stopped as with the window's Stop: the phase running is judged on what it ran.
    with db.session() as s:
        actions = [e.detail for e in s.scalars(
            sa.select(EventRow).where(EventRow.session_id == 1,
                                      EventRow.kind == "phase-change"))
            if e.detail.get("action")]
    assert actions and actions[-1]["action"] == "stop"
    assert actions[-1]["reason"] == "terminated"
    db.close()


def test_a_spill_file_whose_session_is_gone_is_kept_and_named(tmp_path):
    """The database file was replaced since (a new, empty one at the same path): the rows
    are not filed under a stranger's session; the file stays and one sentence says why."""
    path = tmp_path / "replaced.sqlite3"
    url = f"sqlite:///{path}"
    db = open_database(url, busy_timeout_s=0.2)
    recorded = recorded_class(db, 5)
    with Backend("sqlite", url, sqlite_path=path).unwritable():
        recorded.finish(wait_s=0.1)
        result = recorded.settle(wait_s=0.2)
    db.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    fresh = open_database(url)
    try:
        problems: list[str] = []
        assert replay_spills(fresh, problems=problems) == []
        assert len(problems) == 1 and "has no such session" in problems[0]
        assert result.spill_path is not None and result.spill_path.exists()
    finally:
        fresh.close()
        result.spill_path.unlink()
