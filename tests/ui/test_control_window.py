import dataclasses
import queue

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QMessageBox

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import StorageState, StorageView
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session import LiveSession
from tests.conftest import people
from ui.control_window import COLUMNS, ControlWindow
from ui.participant_table import CLASS_COLOUR

SCREENSHOT = "/tmp/control.png"


class Class:
    """A session of three on the Norwegian 4x4, on a clock the test steps."""

    def __init__(self):
        self.clock = SimulatedClock()
        self.events = queue.SimpleQueue()
        self.session = LiveSession(load_protocol("norwegian-4x4"), people(160, 180, 170),
                                   self.clock, self.events)

    def beats(self, seconds, **bpm_by_strap):
        """Each strap named sends once a second for ``seconds``; the others stay silent."""
        for _ in range(seconds):
            for strap, bpm in bpm_by_strap.items():
                data = encode_heart_rate_measurement(bpm, rr_raw=[int(61440 / bpm)])
                self.events.put(sample_from_notification(strap, data, self.clock))
            self.clock.advance(1)


@pytest.fixture
def gym(qtbot):
    gym = Class()
    window = ControlWindow(gym.session)
    qtbot.addWidget(window)
    window.loop.tick()
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    gym.window = window
    return gym


def row_of(window, name):
    table = window.table
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == name:
            return dict(zip(COLUMNS, table.cell_texts(row), strict=True))
    raise AssertionError(f"{name} has no row")


def test_header_shows_phase_and_countdown_of_the_session_clock(gym):
    gym.beats(620, A=144, B=150, C=130)
    gym.window.loop.tick()
    header = gym.window.header
    assert header.phase.text() == "Interval 1/4 (high)"
    assert header.countdown.text() == "3:40"
    assert header.next_phase.text() == "next: Active recovery 1/4"
    assert header.session_time.text() == "session time 10:20"
    assert header.protocol.text() == "Norwegian 4x4"
    assert not header.paused.isVisible()


def test_space_pauses_the_countdown_and_space_again_resumes(gym, qtbot):
    gym.beats(100, A=110, B=120, C=115)
    gym.window.loop.tick()
    assert gym.window.header.countdown.text() == "8:20"

    qtbot.keyClick(gym.window, Qt.Key.Key_Space)
    assert gym.session.schedule.paused
    gym.beats(30, A=110, B=120, C=115)
    gym.window.loop.tick()
    assert gym.window.header.countdown.text() == "8:20"
    assert gym.window.header.paused.isVisible()
    assert gym.window.header.paused.text() == "PAUSED"
    assert gym.window.pause_button.text() == "Resume"

    qtbot.keyClick(gym.window, Qt.Key.Key_Space)
    gym.beats(20, A=110, B=120, C=115)
    gym.window.loop.tick()
    assert gym.window.header.countdown.text() == "8:00"
    assert not gym.window.header.paused.isVisible()
    assert gym.window.pause_button.text() == "Pause"


def test_n_skips_to_the_next_phase(gym, qtbot):
    gym.beats(5, A=110, B=120, C=115)
    gym.window.loop.tick()
    qtbot.keyClick(gym.window, Qt.Key.Key_N)
    assert gym.window.header.phase.text() == "Interval 1/4 (high)"
    assert gym.window.header.countdown.text() == "4:00"


def test_plus_one_minute_adds_sixty_seconds_to_the_countdown(gym, qtbot):
    gym.beats(30, A=110, B=120, C=115)
    gym.window.loop.tick()
    assert gym.window.header.countdown.text() == "9:30"
    qtbot.mouseClick(gym.window.extend_button, Qt.MouseButton.LeftButton)
    assert gym.window.header.countdown.text() == "10:30"


def test_stop_after_confirmation_finishes_the_session_and_disables_controls(gym, qtbot,
                                                                           monkeypatch):
    asked = []

    def yes(*args, **kwargs):
        asked.append(args)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    gym.beats(30, A=110, B=120, C=115)
    gym.window.loop.tick()
    qtbot.mouseClick(gym.window.stop_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    assert gym.window.header.phase.text() == "Session finished"
    buttons = (gym.window.pause_button, gym.window.next_button, gym.window.extend_button,
               gym.window.stop_button)
    assert not any(b.isEnabled() for b in buttons)
    # Keys do nothing harmful once it is over: the refusal is a status message.
    qtbot.keyClick(gym.window, Qt.Key.Key_N)
    assert "session ended" in gym.window.statusBar().currentMessage()


def test_stop_refused_in_the_dialog_keeps_the_session_running(gym, qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(gym.window.stop_button, Qt.MouseButton.LeftButton)
    assert gym.window.stop_button.isEnabled()
    assert gym.window.header.phase.text().startswith("Warm-up")


def test_action_the_schedule_refuses_becomes_a_status_message(gym):
    gym.session.pause()
    gym.window.loop.tick()
    gym.window._act(gym.session.pause)
    assert "already paused" in gym.window.statusBar().currentMessage()


def test_ctrl_q_asks_while_running_and_closes_when_confirmed(gym, qtbot, monkeypatch):
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    qtbot.keyClick(gym.window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert gym.window.isVisible()
    qtbot.keyClick(gym.window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not gym.window.isVisible()
    assert not answers


def test_window_size_is_remembered(gym, qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    gym.window.resize(700, 500)  # inside the offscreen screen
    gym.window.close()
    again = ControlWindow(gym.session)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)


def test_silent_strap_shows_signal_lost_and_no_number(gym):
    gym.beats(20, A=120, B=130, C=125)
    gym.beats(12, A=120, B=130)
    gym.window.loop.tick()
    cy = row_of(gym.window, "Cy")
    assert cy["Signal"] == "signal lost"
    assert cy["bpm"] == "—" and cy["% HRmax"] == "—"
    assert not any(ch.isdigit() for ch in cy["bpm"] + cy["% HRmax"])
    assert row_of(gym.window, "Anna")["bpm"] == "120"
    assert "Cy: signal lost" in gym.window.banner.text()


def test_above_ceiling_participant_appears_in_the_alarm_banner(gym):
    gym.beats(30, A=120, B=130, C=125)
    gym.window.loop.tick()
    assert not gym.window.banner.isVisible()
    gym.beats(20, A=165, B=130, C=125)  # 103 % of Anna's 160
    gym.window.loop.tick()
    assert gym.window.banner.isVisible()
    assert "Anna: above ceiling" in gym.window.banner.text()
    assert "Bo" not in gym.window.banner.text()
    assert "above ceiling" in row_of(gym.window, "Anna")["Alarms"]


def test_storage_trouble_shows_in_the_banner(gym):
    snap = dataclasses.replace(gym.session.tick(), storage=StorageView(
        StorageState.FAILING, "the disk is full", 0.25, 0))
    gym.window.show_snapshot(snap)
    assert gym.window.banner.isVisible()
    assert "Storage trouble: the disk is full" in gym.window.banner.text()


def test_rows_are_coloured_by_class_and_lost_rows_grey(gym, qtbot):
    gym.beats(620, A=144, B=150, C=130)  # into Interval 1/4
    gym.beats(12, A=144, B=150)  # Cy's strap goes silent
    gym.window.loop.tick()
    window, table = gym.window, gym.window.table
    qtbot.wait(50)  # let the layout settle, as it does between timer ticks
    window.grab().save(SCREENSHOT)
    image = window.grab().toImage()
    col = COLUMNS.index("Class")
    for row, level in ((0, Level.HIGH), (1, Level.INTERMEDIATE)):
        rect = table.visualItemRect(table.item(row, col))
        # Just inside the cell's corner, clear of the word's glyphs.
        origin = table.viewport().mapTo(window, rect.topLeft() + QPoint(2, 2))
        assert QColor(image.pixel(origin.x(), origin.y())) == QColor(CLASS_COLOUR[level])
    assert table.item(2, 0).foreground().color() == QColor("gray")
    assert table.item(0, 0).foreground().color() == QColor("black")


def test_window_speaks_danish_when_asked(qtbot):
    from hiaim_monitor import i18n

    i18n.set_language("da")
    try:
        gym = Class()
        gym.session.pause()
        window = ControlWindow(gym.session)
        qtbot.addWidget(window)
        window.loop.tick()
        texts = [window.pause_button.text(), window.next_button.text(),
                 window.stop_button.text(), window.header.paused.text(),
                 window.table.horizontalHeaderItem(COLUMNS.index("Strap")).text()]
        assert texts == ["Fortsæt", "Næste fase", "Stop", "PAUSE", "Bælte"]
        # The protocol file's Danish names, not the English ones.
        assert window.header.phase.text() == "Opvarmning (opvarmning)"
        assert window.header.protocol.text() == "Norsk 4x4"
        assert window.header.next_phase.text() == "næste: Interval 1/4"
    finally:
        i18n.set_language("en")


def test_language_chosen_in_the_menu_is_used_at_the_next_start(gym):
    from ui.app import saved_language

    assert saved_language() is None
    menu = gym.window.menuBar().actions()[0].menu()
    dansk = next(a for a in menu.actions() if a.text() == "Dansk")
    dansk.trigger()
    assert saved_language() == "da"
    assert "next time" in gym.window.statusBar().currentMessage()


def test_w_shows_the_wall_screen_and_w_again_hides_it(gym, qtbot):
    gym.beats(30, A=120, B=130, C=125)
    gym.window.loop.tick()
    qtbot.keyClick(gym.window, Qt.Key.Key_W)
    wall = gym.window.wall
    assert wall is not None and wall.isVisible()
    gym.beats(2, A=121, B=130, C=125)
    gym.window.loop.tick()
    wall.frame()  # the wall's own timer would draw it within a frame
    assert wall.shown is gym.window.session_panel.snapshot  # fed on every tick
    qtbot.keyClick(gym.window, Qt.Key.Key_W)
    assert not wall.isVisible()


def test_the_operator_picks_the_wall_screen_and_the_choice_is_remembered(gym, qtbot):
    screen = QGuiApplication.primaryScreen()
    wall_menu = gym.window.menuBar().actions()[1].menu()
    assert wall_menu.title() == "Wall screen"
    gym.window._fill_screens_menu()
    entries = gym.window.screens_menu.actions()
    assert [a.text().split(" (")[0] for a in entries] == [s.name() for s in
                                                           QGuiApplication.screens()]
    entries[0].trigger()
    assert QSettings("hiaim-monitor", "control").value("wall_screen") == screen.name()
    qtbot.keyClick(gym.window, Qt.Key.Key_W)
    assert gym.window.wall.screen() == screen
    assert gym.window.wall.geometry() == screen.geometry()


def test_a_remembered_screen_that_is_gone_falls_back_to_the_default(gym):
    QSettings("hiaim-monitor", "control").setValue("wall_screen", "HDMI-unplugged")
    assert gym.window.wall_screen() == QGuiApplication.primaryScreen()


def test_typing_a_note_with_spaces_n_and_w_does_not_steer_the_session(gym, qtbot):
    notes = gym.window.session_panel.notes.session_note
    notes.setFocus()
    qtbot.waitUntil(notes.hasFocus)
    qtbot.keyClicks(notes, "Now we walk")
    assert notes.toPlainText() == "Now we walk"
    assert not gym.session.schedule.paused
    assert gym.window.header.phase.text().startswith("Warm-up")  # N did not skip
    assert gym.window.wall is None  # W did not open the wall


def test_a_participant_heard_by_broadcast_says_no_rr_in_the_strap_column(gym, tmp_path):
    for _ in range(20):
        for strap, bpm in (("A", 144), ("B", 150)):
            data = encode_heart_rate_measurement(bpm, rr_raw=[int(61440 / bpm)])
            sample = sample_from_notification(strap, data, gym.clock)
            if strap == "B":  # a Polar strap listened to: heart rate only
                sample = dataclasses.replace(sample, rr_ms=(), broadcast=True)
            gym.events.put(sample)
        gym.clock.advance(1)
    gym.window.loop.tick()
    a, b = row_of(gym.window, "Anna"), row_of(gym.window, "Bo")
    assert "no RR" not in a["Strap"]
    assert "no RR" in b["Strap"] and b["bpm"] != "—"
    gym.window.grab().save(str(tmp_path / "control_no_rr.png"))


def test_the_radio_column_names_the_radio_a_dual_mode_strap_is_heard_by(qtbot):
    """Anna's strap is heard over ANT+ and BLE: the row names the radio her data comes by
    (the first heard), and it is counted once."""
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    anna, bo = people(160, 180)
    anna = dataclasses.replace(anna, strap_id="ble:AA:BB:CC:DD:EE:01",
                               other_strap_ids=("ant:4242",))
    bo = dataclasses.replace(bo, strap_id="ble:AA:BB:CC:DD:EE:02")
    session = LiveSession(load_protocol("norwegian-4x4"), [anna, bo], clock, events)
    window = ControlWindow(session)
    qtbot.addWidget(window)
    for _ in range(5):
        for strap in ("ant:4242", "ble:AA:BB:CC:DD:EE:01", "ble:AA:BB:CC:DD:EE:02"):
            data = encode_heart_rate_measurement(120, rr_raw=[512])
            events.put(sample_from_notification(strap, data, clock))
        clock.advance(1)
    window.loop.tick()
    assert row_of(window, "Anna")["Radio"] == "ANT+"
    assert row_of(window, "Bo")["Radio"] == "Bluetooth"
    assert row_of(window, "Anna")["bpm"] == "120"
