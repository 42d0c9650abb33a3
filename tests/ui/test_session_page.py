"""The session page as the physiotherapist meets it: started from the setup page with the
Start button, steered with real key presses wherever the focus is (control window or wall),
showing what the setup page knew about the straps, and frozen once the session is over.
A real SQLite store in tmp_path; a clock the test steps; no sensor thread."""

import queue
from datetime import date

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from drivers.ble_errors import NOT_ADVERTISING
from hiaim_monitor import i18n
from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import BatteryReading, StrapState, StrapStatus, sample_from_notification
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.schema import EventRow
from ui.control_window import ControlWindow, Wiring
from ui.session_panel import COLUMNS

TODAY = date(2026, 3, 2)


class Studio:
    """Anna (strap A, battery at 10 %) and Bo (strap B) set up for the Norwegian 4x4; the
    straps connected during set-up and said their battery then."""

    def __init__(self, tmp_path):
        self.db = open_database(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        add_participant(self.db, "HA-001", "Anna", hrmax_bpm=160, today=TODAY)
        add_participant(self.db, "HA-002", "Bo", hrmax_bpm=180, today=TODAY)
        self.clock = SimulatedClock()
        self.events = queue.SimpleQueue()
        self.setup = ClassSetup(list_participants(self.db), load_protocol("norwegian-4x4"),
                                today=TODAY, started_mono_s=self.clock.monotonic())
        self.setup.assign("A", "HA-001")
        self.setup.assign("B", "HA-002")
        t = self.clock.monotonic()
        self.setup.ingest([StrapStatus("A", t, StrapState.CONNECTING),
                           StrapStatus("A", t, StrapState.STREAMING),
                           BatteryReading("A", t, 10),
                           StrapStatus("B", t, StrapState.STREAMING),
                           BatteryReading("B", t, 80)], t)
        self.clock.advance(30)  # the operator checks the class before pressing Start
        self.window = ControlWindow(wiring=Wiring(self.setup, self.db, None, self.clock,
                                                  self.start))

    def start(self, plan):
        return RecordedSession.start(self.db, plan.protocol, plan.participants, self.clock,
                                     self.events)

    def beats(self, seconds, **bpm_by_strap):
        for _ in range(seconds):
            for strap, bpm in bpm_by_strap.items():
                data = encode_heart_rate_measurement(bpm, rr_raw=[int(61440 / bpm)])
                self.events.put(sample_from_notification(strap, data, self.clock))
            self.clock.advance(1)
        self.window.loop.tick()


@pytest.fixture
def studio(tmp_path, qtbot):
    studio = Studio(tmp_path)
    window = studio.window
    qtbot.addWidget(window)
    window.loop.tick()
    with qtbot.waitExposed(window):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    yield studio
    window.close()
    studio.db.close()


def start(studio, qtbot):
    """Press Start as the operator does: with the mouse."""
    page = studio.window.setup_page
    assert page.start_button.isEnabled()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert studio.window.in_session
    studio.window.loop.tick()


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key press where the keyboard is now: the focused widget, else the active window."""
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "no window has the keyboard"
    qtbot.keyClick(target, key, modifier)


def row_of(window, name):
    table = window.table
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == name:
            return dict(zip(COLUMNS, table.cell_texts(row), strict=True))
    raise AssertionError(f"{name} has no row")


def typed_notes(window):
    notes = window.session_panel.notes
    session_note, per_participant = notes.notes()
    return session_note + "".join(per_participant.values())


# -- item 1: the keys ---------------------------------------------------------------------
def test_after_start_space_n_and_w_steer_the_session_and_nothing_is_typed_in_the_notes(
        studio, qtbot):
    start(studio, qtbot)
    window, session = studio.window, studio.window.session
    studio.beats(5, A=100, B=110)
    assert not isinstance(QApplication.focusWidget(), QPlainTextEdit)

    press(qtbot, Qt.Key.Key_Space)
    assert session.schedule.paused
    assert window.header.paused.isVisible()
    press(qtbot, Qt.Key.Key_Space)
    assert not session.schedule.paused
    press(qtbot, Qt.Key.Key_N)
    assert window.header.phase.text() == "Interval 1/4 (high)"
    press(qtbot, Qt.Key.Key_W)
    assert window.wall is not None and window.wall.isVisible()
    assert typed_notes(window) == ""


def test_space_n_and_w_on_the_wall_steer_the_session(studio, qtbot):
    start(studio, qtbot)
    window, session = studio.window, studio.window.session
    press(qtbot, Qt.Key.Key_W)
    wall = window.wall
    wall.activateWindow()  # one screen: the wall covers the control window
    qtbot.waitUntil(wall.isActiveWindow)

    press(qtbot, Qt.Key.Key_Space)
    assert session.schedule.paused
    press(qtbot, Qt.Key.Key_Space)
    assert not session.schedule.paused
    press(qtbot, Qt.Key.Key_N)
    assert session.schedule.index_at(session.engine.session_time()) == 1
    press(qtbot, Qt.Key.Key_W)
    assert not wall.isVisible()
    assert typed_notes(window) == ""


def test_a_clicked_note_takes_every_key_and_escape_gives_the_keys_back(studio, qtbot):
    start(studio, qtbot)
    window, session = studio.window, studio.window.session
    note = window.session_panel.notes.session_note
    qtbot.mouseClick(note.viewport(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(note.hasFocus)
    qtbot.keyClicks(note, "Now we walk")
    assert note.toPlainText() == "Now we walk"
    assert not session.schedule.paused
    assert window.header.phase.text().startswith("Warm-up")
    assert window.wall is None

    press(qtbot, Qt.Key.Key_Escape)
    assert not note.hasFocus()
    press(qtbot, Qt.Key.Key_Space)
    assert session.schedule.paused
    assert note.toPlainText() == "Now we walk"


def test_choosing_whose_note_to_write_leaves_the_keys_to_the_session(studio, qtbot):
    start(studio, qtbot)
    who = studio.window.session_panel.notes.who
    qtbot.mouseClick(who, Qt.MouseButton.LeftButton)
    who.hidePopup()
    press(qtbot, Qt.Key.Key_N)
    assert studio.window.header.phase.text() == "Interval 1/4 (high)"


def test_tab_never_walks_into_the_notes(studio, qtbot):
    start(studio, qtbot)
    for _ in range(6):
        press(qtbot, Qt.Key.Key_Tab)
        assert not isinstance(QApplication.focusWidget(), QPlainTextEdit)
    press(qtbot, Qt.Key.Key_Space)
    assert studio.window.session.schedule.paused


def test_space_on_the_setup_page_ticks_the_roster_and_steers_nothing(studio, qtbot):
    roster = studio.window.setup_page.roster.table
    roster.setFocus()
    roster.setCurrentCell(roster.row_of("HA-001"), 0)
    qtbot.waitUntil(roster.hasFocus)
    press(qtbot, Qt.Key.Key_Space)
    assert not studio.setup.entry("HA-001").attending  # Anna is not here today after all
    press(qtbot, Qt.Key.Key_Space)
    assert studio.setup.entry("HA-001").attending


def test_the_keys_steer_the_next_class_too(studio, qtbot):
    start(studio, qtbot)
    window = studio.window
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.session_panel.new_button, Qt.MouseButton.LeftButton)
    assert not window.in_session
    start(studio, qtbot)
    press(qtbot, Qt.Key.Key_Space)
    assert window.session.schedule.paused
    assert typed_notes(window) == ""


def test_keys_typed_in_the_participant_dialog_stay_there(studio, qtbot):
    roster = studio.window.setup_page.roster
    qtbot.mouseClick(roster.add_button, Qt.MouseButton.LeftButton)
    dialog = roster.dialog
    qtbot.waitUntil(dialog.isActiveWindow)
    box = dialog.beta_blocker
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    press(qtbot, Qt.Key.Key_Space)
    assert box.isChecked()  # Space ticked the box ...
    press(qtbot, Qt.Key.Key_W)
    assert studio.window.wall is None  # ... and W did not open the wall behind the dialog
    dialog.reject()


# -- item 6: what set-up knew, and the target ----------------------------------------------
def test_session_page_shows_strap_state_and_battery_read_during_setup(studio, qtbot):
    start(studio, qtbot)
    window = studio.window
    assert row_of(window, "Anna")["Strap"] == "streaming · 10 %"
    assert row_of(window, "Bo")["Strap"] == "streaming · 80 %"
    assert "Anna: battery low" in window.banner.text()
    assert "Bo" not in window.banner.text()
    assert window.session_panel.ack_button.isVisible()


def test_battery_and_state_from_setup_are_stored_at_the_start(studio, qtbot):
    start(studio, qtbot)
    studio.beats(3, A=100, B=110)
    recorded = studio.window.recorded
    studio.window.finish_recording()
    with studio.db.session() as s:
        details = [(e.t_s, e.detail) for e in s.scalars(
            sa.select(EventRow).where(EventRow.session_id == recorded.session_id,
                                      EventRow.kind == "connection-change"))]
    assert (0.0, {"battery_pct": 10}) in details
    assert any(t == 0.0 and "STREAMING" in d.get("state", "") for t, d in details)


def test_a_newer_strap_report_wins_over_what_setup_knew(studio, qtbot):
    start(studio, qtbot)
    studio.events.put(StrapStatus("A", studio.clock.monotonic(), StrapState.LOST))
    studio.window.loop.tick()
    assert row_of(studio.window, "Anna")["Strap"] == "lost · 10 %"


def test_a_lost_strap_says_why_in_danish_on_the_session_page(studio, qtbot):
    i18n.set_language("da")
    try:
        start(studio, qtbot)
        cell = studio.window.table.item(0, COLUMNS.index("Strap"))
        assert studio.window.table.item(0, 0).text() == "Anna"
        assert (cell.text(), cell.toolTip()) == ("sender · 10 %", "")
        studio.events.put(StrapStatus("A", studio.clock.monotonic(), StrapState.LOST,
                                      note=NOT_ADVERTISING))
        studio.window.loop.tick()
        assert cell.text() == "tabt · 10 %"
        assert cell.toolTip().startswith("Bæltet kan ikke findes — er det taget på")
        studio.events.put(StrapStatus("A", studio.clock.monotonic(), StrapState.STREAMING))
        studio.window.loop.tick()
        assert cell.toolTip() == ""  # streaming again: nothing to say
    finally:
        i18n.set_language("en")


def test_header_shows_the_target_band_of_the_phase_running(studio, qtbot):
    start(studio, qtbot)
    header = studio.window.header
    assert header.target.text() == "target 60–70 % HRmax"
    press(qtbot, Qt.Key.Key_N)
    assert header.target.text() == "target 85–95 % HRmax"
    press(qtbot, Qt.Key.Key_N)
    assert header.target.text() == "target 60–70 % HRmax"


# -- item 7: after Stop, and the timeline ---------------------------------------------------
def test_after_stop_the_clock_rows_and_controls_stand_still(studio, qtbot):
    start(studio, qtbot)
    window = studio.window
    studio.beats(40, A=100, B=110)
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert window.header.session_time.text() == "session time 0:40"
    rows = {name: row_of(window, name) for name in ("Anna", "Bo")}
    assert rows["Anna"]["bpm"] == "100"

    studio.beats(90, A=150, B=170)  # the straps go on sending while notes are written
    assert window.header.session_time.text() == "session time 0:40"
    assert window.header.phase.text() == "Session finished"
    assert {name: row_of(window, name) for name in ("Anna", "Bo")} == rows
    for button in (window.pause_button, window.next_button, window.extend_button,
                   window.stop_button):
        assert not button.isEnabled()
    press(qtbot, Qt.Key.Key_Space)
    assert window.header.session_time.text() == "session time 0:40"


def test_a_disabled_stop_button_does_not_look_like_one_to_press(studio, qtbot):
    start(studio, qtbot)
    window = studio.window

    def red_pixels():
        image = window.stop_button.grab().toImage()
        return sum(QColor(image.pixel(x, y)).red() > 150 and QColor(image.pixel(x, y)).green()
                   < 80 for x in range(image.width()) for y in range(image.height()))

    assert red_pixels() > 0  # the live Stop button says "Stop" in red
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert red_pixels() == 0


def test_the_timeline_follows_plus_one_minute_and_skips(studio, qtbot):
    start(studio, qtbot)
    window = studio.window
    timeline = window.session_panel.timeline

    def ratio():  # warm-up block width over the first interval's
        return timeline.block_rect(0).width() / timeline.block_rect(1).width()

    assert ratio() == pytest.approx(600 / 240, rel=0.02)
    qtbot.mouseClick(window.extend_button, Qt.MouseButton.LeftButton)
    assert ratio() == pytest.approx(660 / 240, rel=0.02)
    studio.beats(30, A=100, B=110)
    cursor_before_skip = timeline.cursor_s
    press(qtbot, Qt.Key.Key_N)  # 30 s into a warm-up of 11 minutes
    assert ratio() == pytest.approx(30 / 240, rel=0.05)
    # The cursor stands where the interval starts: at the end of the cut warm-up.
    assert timeline.cursor_s == pytest.approx(cursor_before_skip, abs=0.5)
    assert timeline.block_rect(1).left() == pytest.approx(timeline.block_rect(0).right(),
                                                          abs=1)


def test_the_timeline_cursor_stands_still_while_paused(studio, qtbot):
    start(studio, qtbot)
    timeline = studio.window.session_panel.timeline
    studio.beats(20, A=100, B=110)
    assert timeline.cursor_s == pytest.approx(20)
    press(qtbot, Qt.Key.Key_Space)
    studio.beats(45, A=100, B=110)
    assert timeline.cursor_s == pytest.approx(20)
    assert timeline.total_s == studio.window.session.protocol.total_s
    press(qtbot, Qt.Key.Key_Space)
    studio.beats(10, A=100, B=110)
    assert timeline.cursor_s == pytest.approx(30)


def test_ctrl_q_while_running_is_stored_as_the_operator_stopping(studio, qtbot):
    start(studio, qtbot)
    studio.beats(20, A=100, B=110)
    recorded = studio.window.recorded
    press(qtbot, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not studio.window.isVisible()
    with studio.db.session() as s:
        actions = [e.detail for e in s.scalars(
            sa.select(EventRow).where(EventRow.session_id == recorded.session_id,
                                      EventRow.kind == "phase-change"))
            if e.detail.get("action")]
    assert actions[-1]["action"] == "stop"
    assert actions[-1]["reason"] == "quit"
    assert actions[-1]["phase_name"] == "Warm-up"
