"""One heartbeat: the app's session loop ticks the recorded session once per beat and hands
that one snapshot to the session page and the wall alike; what they show (paused, the
countdown, whether notes still go with the recording) comes from it. A real SQLite store
in tmp_path, a clock the test steps, no sensor thread."""

import queue

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session_loop import SessionLoop
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.schema import SessionRow
from ui.control_window import ControlWindow, Wiring


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)


class Gym:
    """Anna and Bo on the Norwegian 4x4, recorded; the window fed by a loop as ui/app.py
    builds it. ``ticks`` counts the ticks of the recorded session."""

    def __init__(self, tmp_path):
        self.db = open_database(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        self.clock = SimulatedClock()
        self.events = queue.SimpleQueue()
        protocol = load_protocol("norwegian-4x4")
        people = [Participant("P1", "Anna", "A", measured_hrmax(160)),
                  Participant("P2", "Bo", "B", measured_hrmax(180))]
        self.recorded = RecordedSession.start(self.db, protocol, people, self.clock,
                                              self.events)
        self.ticks = 0
        tick = self.recorded.tick

        def counted():
            self.ticks += 1
            return tick()

        self.recorded.tick = counted
        setup = ClassSetup([], protocol, today=self.clock.now_utc().date(),
                           started_mono_s=0.0)
        self.loop = SessionLoop()
        self.window = ControlWindow(wiring=Wiring(setup, self.db, None, self.clock,
                                                  lambda plan: self.recorded),
                                    loop=self.loop)

    def beats(self, seconds):
        for _ in range(seconds):
            for strap, bpm in (("A", 120), ("B", 130)):
                data = encode_heart_rate_measurement(bpm, rr_raw=[int(61440 / bpm)])
                self.events.put(sample_from_notification(strap, data, self.clock))
            self.clock.advance(1)


@pytest.fixture
def gym(tmp_path, qtbot):
    gym = Gym(tmp_path)
    window = gym.window
    qtbot.addWidget(window)
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.show_recorded(gym.recorded)
    qtbot.keyClick(window, Qt.Key.Key_W)  # the wall, for the participants
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    yield gym
    window.close()
    gym.db.close()


def test_one_beat_ticks_once_and_the_page_and_the_wall_show_that_one_snapshot(gym):
    gym.beats(75)
    before = gym.ticks
    gym.loop.tick()
    assert gym.ticks == before + 1
    wall, page = gym.window.wall, gym.window.session_panel
    wall.frame()  # the wall's own timer would draw it within a frame
    assert wall.shown is page.snapshot is gym.loop.snapshot
    assert gym.window.header.session_time.text() == "session time 1:15"
    assert wall.header.texts()["clock"] == "session time 1:15"
    assert gym.window.header.countdown.text() == wall.header.texts()["countdown"] == "8:45"


def test_an_operator_action_shows_at_once_with_one_tick_and_no_view_ticks(gym, qtbot):
    gym.beats(10)
    gym.loop.tick()
    before = gym.ticks
    qtbot.keyClick(gym.window, Qt.Key.Key_N)
    assert gym.ticks == before + 1  # the loop's beat, asked for by the action
    assert gym.window.header.phase.text() == "Interval 1/4 (high)"
    gym.window.wall.frame()
    assert gym.window.wall.header.texts()["phase"].startswith("Interval 1/4")


def test_pausing_shows_paused_in_the_header_and_on_the_wall(gym, qtbot):
    gym.beats(100)
    gym.loop.tick()
    qtbot.keyClick(gym.window, Qt.Key.Key_Space)
    gym.beats(30)
    gym.loop.tick()
    wall, header = gym.window.wall, gym.window.header
    wall.frame()
    assert gym.loop.snapshot.paused
    assert header.paused.isVisible() and header.countdown.text() == "8:20"
    assert wall.header.texts()["paused"] == "PAUSED"
    assert wall.header.texts()["countdown"] == "8:20"
    assert gym.window.pause_button.text() == "Resume"

    qtbot.keyClick(gym.window, Qt.Key.Key_Space)
    wall.frame()
    assert not header.paused.isVisible()
    assert "paused" not in wall.header.texts()


def test_notes_go_with_the_recording_while_it_runs_and_to_the_stored_session_after(
        gym, qtbot):
    window, panel = gym.window, gym.window.session_panel
    late = []
    panel.late_note.connect(lambda: late.append(True))
    gym.beats(20)
    gym.loop.tick()
    panel.notes.session_note.setPlainText("Warm-up went well.")
    panel.notes.save()
    assert late == []  # recording: the note is stored with the session as it runs

    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert not gym.loop.snapshot.recording and gym.loop.snapshot.finished
    assert panel.snapshot is gym.loop.snapshot
    ticks = gym.ticks
    gym.beats(30)
    gym.loop.tick()
    assert gym.ticks == ticks  # over and stored: the session stands still
    assert window.header.session_time.text() == "session time 0:20"

    panel.notes.session_note.setPlainText("Warm-up went well. Bo was dizzy.")
    panel.notes.save()
    assert late == [True]
    assert window.statusBar().currentMessage() == "Notes saved."
    with gym.db.session() as s:
        notes = s.scalars(sa.select(SessionRow.notes)).one()
    assert notes == "Warm-up went well. Bo was dizzy."
