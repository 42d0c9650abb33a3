"""Report… after a class: the finished session's PDF, built from the database, written
where the operator picks and opened; while the class runs there is no such button, and a
report that cannot be written says why in one line."""

from __future__ import annotations

import queue

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.storage import open_database
from tests.conftest import people
from ui import control_window
from ui.control_window import ControlWindow, Wiring


@pytest.fixture
def finished_class(qtbot, tmp_path, monkeypatch):
    """A recorded class of two that trained two minutes and was stopped; the window shows
    it, its viewer only noted (``opened``)."""
    db = open_database(f"sqlite:///{tmp_path / 'class.sqlite3'}")
    protocol = load_protocol("hi-aim")
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    recorded = RecordedSession.start(db, protocol, people(175, 165), clock, events)
    setup = ClassSetup([], protocol, today=clock.now_utc().date(), started_mono_s=0.0)
    window = ControlWindow(wiring=Wiring(setup, db, None, clock, lambda plan: recorded))
    qtbot.addWidget(window)
    window.show_recorded(recorded)
    assert not window.report_button.isVisible()
    for second in range(120):
        for strap, bpm in (("A", 100 + second // 4), ("B", 110 + second // 5)):
            events.put(sample_from_notification(
                strap, encode_heart_rate_measurement(bpm, rr_raw=[int(61440 / bpm)]), clock))
        clock.advance(1)
        if second % 10 == 0:
            window.loop.tick()
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.show()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: f"Session {recorded.session_id} is stored"
                    in window.statusBar().currentMessage(), timeout=15_000)
    window.loop.tick()
    opened = []
    window.report_writer.opener = lambda path: opened.append(path) or True
    yield window, recorded, opened
    db.close()


def test_report_writes_the_session_pdf_from_the_database_and_opens_it(finished_class, qtbot,
                                                                     monkeypatch, tmp_path):
    window, recorded, opened = finished_class
    out = tmp_path / "reports" / "monday.pdf"
    out.parent.mkdir()
    monkeypatch.setattr(control_window, "ask_report_path", lambda parent, sid: out)
    assert window.report_button.isVisible() and window.report_button.isEnabled()

    qtbot.mouseClick(window.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened), timeout=30_000)
    assert opened == [out]
    assert window.statusBar().currentMessage() == (
        f"Report of session {recorded.session_id} written to {out}.")
    pages = PdfReader(out).pages
    assert len(pages) == 3  # the group page, then P1 and P2
    assert all(code in pages[0].extract_text() for code in ("P1", "P2"))
    assert "P2" in pages[2].extract_text()
    assert window.report_button.isEnabled()


def test_a_report_that_cannot_be_written_says_why_and_cancel_writes_nothing(
        finished_class, qtbot, monkeypatch, tmp_path):
    window, _recorded, opened = finished_class
    monkeypatch.setattr(control_window, "ask_report_path", lambda parent, sid: None)
    qtbot.mouseClick(window.report_button, Qt.MouseButton.LeftButton)
    assert not window.report_writer.busy and list(tmp_path.glob("*.pdf")) == []

    missing = tmp_path / "no such folder" / "r.pdf"
    monkeypatch.setattr(control_window, "ask_report_path", lambda parent, sid: missing)
    qtbot.mouseClick(window.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith(
        "The report was not written: "), timeout=30_000)
    assert "no such folder" in window.statusBar().currentMessage()
    assert opened == [] and not missing.parent.exists()
    assert window.report_button.isEnabled()
