"""Stop while the database does not answer: the window stays responsive, says the rows are
kept, and says the session is stored once the database is back."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import time

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from hiaim_monitor import config
from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.schema import EventRow
from tests.conftest import people
from ui.control_window import ControlWindow, Wiring


def test_stop_during_a_database_outage_keeps_the_window_responsive(qtbot, tmp_path):
    path = tmp_path / "class.sqlite3"
    db = open_database(f"sqlite:///{path}", busy_timeout_s=0.2)
    protocol = load_protocol("norwegian-4x4")
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    recorded = RecordedSession.start(db, protocol, people(170), clock, events)
    setup = ClassSetup([], protocol, today=clock.now_utc().date(), started_mono_s=0.0)
    window = ControlWindow(wiring=Wiring(setup, db, None, clock, lambda plan: recorded))
    qtbot.addWidget(window)
    window.show_recorded(recorded)
    timer = QTimer()
    timer.setInterval(int(config.TICK_INTERVAL_S * 1000))
    timer.timeout.connect(window.loop.tick)
    timer.start()
    for _ in range(20):
        events.put(sample_from_notification("A", encode_heart_rate_measurement(120), clock))
        clock.advance(1)
    window.loop.tick()

    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the database
    began = time.monotonic()
    window.finish_recording()
    blocked_s = time.monotonic() - began
    assert blocked_s < 1.5, f"the window froze for {blocked_s:.1f} s"
    assert "rows wait for the database" in window.statusBar().currentMessage()
    other.execute("ROLLBACK")
    other.close()

    qtbot.waitUntil(lambda: f"Session {recorded.session_id} is stored"
                    in window.statusBar().currentMessage(), timeout=15_000)
    timer.stop()
    with db.engine.connect() as conn:
        status = conn.execute(sa.text("select status from sessions")).scalar_one()
        samples = conn.execute(sa.text("select count(*) from samples")).scalar_one()
    assert (status, samples) == ("finished", 20)
    db.close()


@pytest.mark.parametrize(("sig", "reason"), [(signal.SIGTERM, "terminated"),
                                           (signal.SIGINT, "interrupted")])
def test_sigterm_ends_the_window_app_and_finishes_the_session(qtbot, tmp_path, monkeypatch,
                                                              sig, reason):
    """Logout or shutdown sends SIGTERM, Ctrl+C in the terminal SIGINT: the app quits at
    once, asking nobody (no one may be there to answer), and the session is stored as
    finished with the stop and its reason (it used to die on the spot, leaving it
    'running', or to wait for an answer to 'Quit while the session runs?')."""
    from PySide6.QtWidgets import QApplication

    from ui.app import run_app

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[1]) or
                        QMessageBox.StandardButton.No)

    db = open_database(f"sqlite:///{tmp_path / 'term.sqlite3'}")
    protocol = load_protocol("norwegian-4x4")
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    recorded = RecordedSession.start(db, protocol, people(170), clock, events)
    for _ in range(10):
        events.put(sample_from_notification("A", encode_heart_rate_measurement(120), clock))
        clock.advance(1)
    setup = ClassSetup([], protocol, today=clock.now_utc().date(), started_mono_s=0.0)

    def running() -> None:
        window = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, ControlWindow) and w.isVisible())
        window.show_recorded(recorded)
        QTimer.singleShot(300, lambda: os.kill(os.getpid(), sig))
        give_up.start()

    # Should the app wait for an answer instead, end it anyway so the test can say so.
    give_up = QTimer(singleShot=True, interval=8000)
    give_up.timeout.connect(lambda: QApplication.exit(3))
    QTimer.singleShot(200, running)
    returned = run_app(Wiring(setup, db, None, clock, lambda plan: recorded))
    give_up.stop()

    assert asked == []
    assert returned is recorded
    assert recorded.settle(5.0).stored
    with db.engine.connect() as conn:
        status = conn.execute(sa.text("select status from sessions")).scalar_one()
        samples = conn.execute(sa.text("select count(*) from samples")).scalar_one()
    assert (status, samples) == ("finished", 10)
    with db.session() as s:
        actions = [e.detail for e in s.scalars(sa.select(EventRow).where(
            EventRow.kind == "phase-change").order_by(EventRow.id)) if e.detail.get("action")]
    assert (actions[-1]["action"], actions[-1]["reason"]) == ("stop", reason)
    db.close()
