"""The programme in the control window: the setup page's programme choice, the roster's due
sessions, attendance stored at the start, the reasons for a missed session filled in after,
and RPE and adverse events recorded from the session page while the class runs. A real
SQLite store in tmp_path, a clock the test steps, real clicks and keys."""

import os
import queue
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.programme.model import Attendance, MissedReason, Relatedness
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import StrapState, StrapStatus, sample_from_notification
from hiaim_monitor.storage import StorageError, open_database
from hiaim_monitor.storage.programme_records import list_adverse_events, list_rpe
from hiaim_monitor.storage.programmes import (
    create_programme,
    enrol,
    list_planned_sessions,
    plan_sessions,
)
from hiaim_monitor.storage.registry import add_participant, list_participants
from ui.control_window import ControlWindow, Wiring
from ui.setup.roster_panel import COLUMNS as ROSTER_COLUMNS

TODAY = date(2026, 3, 2)  # a Monday: session 1 of week 1 (Mon / Wed / Fri)
PROGRAMME = "HI AIM pilot"
SHOTS = os.environ.get("HIAIM_SHOTS_DIR", "/tmp")


class Clinic:
    """Anna, Bo and Cy enrolled in the programme, Dorte not; each with a strap."""

    def __init__(self, tmp_path, *, simulated=False, programme=PROGRAMME, today=TODAY,
                 default_programme=None):
        """``programme``: the choice remembered from before (None: none yet)."""
        settings = QSettings("hiaim-monitor", "control")
        key = "setup/programme-simulated" if simulated else "setup/programme"
        settings.remove(key)
        if programme is not None:
            settings.setValue(key, programme)
        self.db = open_database(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        for code, name in (("HA-001", "Anna"), ("HA-002", "Bo"), ("HA-003", "Cy"),
                           ("HA-004", "Dorte")):
            add_participant(self.db, code, name, hrmax_bpm=170, today=TODAY)
        create_programme(self.db, PROGRAMME, start_date=TODAY, site="Herlev")
        create_programme(self.db, "Demo (simulated)", start_date=TODAY, simulated=True)
        for code in ("HA-001", "HA-002", "HA-003"):
            enrol(self.db, PROGRAMME, code, enrolled_on=TODAY)
        plan_sessions(self.db, PROGRAMME)
        self.clock = SimulatedClock(start_utc=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self.events = queue.SimpleQueue()
        self.setup = ClassSetup(list_participants(self.db), load_protocol("intermediate-high"),
                                today=today, started_mono_s=self.clock.monotonic(),
                                simulated=simulated, default_programme=default_programme)
        for strap, code in zip("ABCD", ("HA-001", "HA-002", "HA-003", "HA-004"),
                               strict=True):
            self.setup.assign(strap, code)
        t = self.clock.monotonic()
        self.setup.ingest([StrapStatus(s, t, StrapState.STREAMING) for s in "ABCD"], t)
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
def make_clinic(tmp_path, qtbot):
    made = []

    def make(**kwargs):
        clinic = Clinic(tmp_path, **kwargs)
        window = clinic.window
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.loop.tick()
        with qtbot.waitExposed(window):
            window.show()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        made.append(clinic)
        return clinic

    yield make
    for clinic in made:
        clinic.window.close()
        clinic.db.close()


def roster(window):
    table = window.setup_page.roster.table
    rows = {}
    for row in range(table.rowCount()):
        texts = dict(zip(ROSTER_COLUMNS, (table.item(row, c).text()
                                          for c in range(len(ROSTER_COLUMNS))), strict=True))
        rows[texts["Name"]] = texts
    return rows


def click(qtbot, widget):
    assert widget.isEnabled() and widget.isVisible(), widget.text()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def untick(qtbot, window, name):
    table = window.setup_page.roster.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 1).text() == name)
    table.setCurrentCell(row, 0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Space)  # Space ticks and unticks the roster


def start(clinic, qtbot):
    click(qtbot, clinic.window.setup_page.start_button)
    assert clinic.window.in_session
    clinic.window.loop.tick()


def stored(clinic, qtbot):
    qtbot.waitUntil(lambda: not clinic.window.jobs.busy, timeout=5_000)


def planned(clinic, code):
    return {(p.week, p.number): p for p in list_planned_sessions(clinic.db, PROGRAMME, code)}


def test_the_programme_choice_lists_real_programmes_and_the_roster_shows_who_is_due(
        make_clinic):
    clinic = make_clinic()
    picker = clinic.window.setup_page.roster.programme
    choices = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    assert choices == ["No programme", PROGRAMME]  # the simulated one is not offered
    assert picker.combo.currentText() == PROGRAMME
    assert picker.summary.text() == "3 enrolled, 3 due today"
    rows = roster(clinic.window)
    assert {n: r["Session"] for n, r in rows.items()} == {
        "Anna": "week 1, session 1", "Bo": "week 1, session 1", "Cy": "week 1, session 1",
        "Dorte": "—"}
    table = clinic.window.setup_page.roster.table
    assert table.horizontalHeaderItem(0).text() == "Here"
    assert not table.isColumnHidden(ROSTER_COLUMNS.index("Session"))

    picker.choose(None)  # "No programme": no session column
    assert table.isColumnHidden(ROSTER_COLUMNS.index("Session"))
    assert clinic.setup.programme is None


def test_a_simulation_is_offered_only_simulated_programmes(make_clinic):
    clinic = make_clinic(simulated=True, programme="Demo (simulated)")
    picker = clinic.window.setup_page.roster.programme
    assert [picker.combo.itemText(i) for i in range(picker.combo.count())] == [
        "No programme", "Demo (simulated)"]
    assert picker.combo.currentText() == "Demo (simulated)"


def test_a_simulation_starts_on_its_own_programme_and_remembers_apart_from_real_classes(
        make_clinic):
    """`make demo` on a fresh machine: its class's programme is chosen; what a real class
    chose before is not a simulation's choice, nor the other way round."""
    QSettings("hiaim-monitor", "control").setValue("setup/programme", PROGRAMME)
    clinic = make_clinic(simulated=True, programme=None, default_programme="Demo (simulated)")
    picker = clinic.window.setup_page.roster.programme
    assert picker.combo.currentText() == "Demo (simulated)"
    picker.choose(None)
    assert QSettings("hiaim-monitor", "control").value("setup/programme") == PROGRAMME


def test_starting_stores_attendance_and_the_reason_for_a_miss_is_filled_in_later(
        make_clinic, qtbot):
    clinic = make_clinic()
    window = clinic.window
    untick(qtbot, window, "Cy")
    assert roster(window)["Cy"]["Session"] == "week 1, session 1"
    start(clinic, qtbot)
    stored(clinic, qtbot)
    session_id = window.recorded.session_id
    for code in ("HA-001", "HA-002"):
        p = planned(clinic, code)[(1, 1)]
        assert (p.attendance, p.session_id) == (Attendance.ATTENDED, session_id)
    cy = planned(clinic, "HA-003")[(1, 1)]
    assert (cy.attendance, cy.missed_reason, cy.session_id) == (
        Attendance.MISSED, MissedReason.UNKNOWN, None)
    assert "2 here, 1 missed" in window.statusBar().currentMessage()

    # After the class, on the setup page: why Cy was not here.
    window.session_panel.act(window.session.stop)
    click(qtbot, window.session_panel.new_button)
    stored(clinic, qtbot)
    assert roster(window)["Anna"]["Session"] == "week 1, session 1 · attended"
    assert roster(window)["Cy"]["Session"] == "week 1, session 1 · missed"
    page = window.setup_page
    page.roster.select("HA-003")
    click(qtbot, page.roster.missed_button)
    dialog = page.roster.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.session.currentText() == "week 1, session 1 (2026-03-02)"
    assert dialog.reason.currentText() == "unknown"
    dialog.choose_reason(MissedReason.TREATMENT_SIDE_EFFECTS)
    qtbot.mouseClick(dialog.note, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.note, "nausea after chemo")
    click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Save))
    cy = planned(clinic, "HA-003")[(1, 1)]
    assert (cy.attendance, cy.missed_reason, cy.attendance_note) == (
        Attendance.MISSED, MissedReason.TREATMENT_SIDE_EFFECTS, "nausea after chemo")
    assert page.message.text() == "Cy missed week 1, session 1: treatment side effects."


def click_row(qtbot, window, name):
    table = window.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def click_tab(qtbot, records, title):
    bar = records.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert records.tabs.currentIndex() == index


def test_rpe_and_an_adverse_event_are_recorded_from_the_session_page(make_clinic, qtbot):
    clinic = make_clinic()
    window = clinic.window
    start(clinic, qtbot)
    records = window.session_panel.records
    qtbot.keyClick(window, Qt.Key.Key_N)  # warm-up skipped: Intermediate 1/4 (phase 1)
    qtbot.keyClick(window, Qt.Key.Key_N)  # and that one: High 1/4 (phase 2)
    clinic.beats(30, A=150, B=155, C=160, D=140)
    click_row(qtbot, window, "Bo")
    assert records.who.currentText() == "Bo"
    assert window.session_panel.notes.who.currentText() == "Bo"  # her note too
    qtbot.waitUntil(lambda: records.planned.text() == f"{PROGRAMME}: week 1, session 1")
    assert records.rpe_after.currentText() == "High 1/4"

    click(qtbot, records.borg_buttons[15])
    qtbot.waitUntil(lambda: records.log.count() == 1)
    assert records.log.item(0).text().endswith("Bo: RPE 15 after High 1/4")
    [rpe] = list_rpe(clinic.db, PROGRAMME, "HA-002")
    assert (rpe.borg, rpe.phase_index, rpe.week, rpe.number) == (15, 2, 1, 1)
    assert window.session.schedule.paused is False  # the class went on

    # An adverse event for Anna, typed and clicked.
    click_row(qtbot, window, "Anna")
    click_tab(qtbot, records, "Adverse event")
    qtbot.mouseClick(records.event_what, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(records.event_what, "dizzy, sat down")
    click(qtbot, records.grade_buttons[3])
    qtbot.mouseClick(records.event_action, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(records.event_action, "rested 5 min")
    click(qtbot, records.event_button)
    qtbot.waitUntil(lambda: records.log.count() == 2)
    [event] = list_adverse_events(clinic.db, PROGRAMME, "HA-001")
    assert (event.description, event.grade, event.related, event.action) == (
        "dizzy, sat down", 3, Relatedness.POSSIBLE, "rested 5 min")
    assert records.log.item(0).text().endswith("Anna: adverse event, grade 3: "
                                               "dizzy, sat down")
    records.leave()
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the session's keys still steer it
    assert window.session.schedule.paused

    # After the session: RPE for the session as a whole.
    window.session_panel.act(window.session.stop)
    assert records.rpe_after.currentText() == "the end of the session"
    # Only the work phases the session reached are offered (it stopped in High 1/4).
    assert [records.rpe_after.itemText(i) for i in range(records.rpe_after.count())] == [
        "Intermediate 1/4", "High 1/4", "the end of the session"]
    click_row(qtbot, window, "Bo")
    click_tab(qtbot, records, "Borg RPE")
    click(qtbot, records.borg_buttons[13])
    qtbot.waitUntil(lambda: records.log.count() == 3)
    assert {(r.borg, r.phase_index) for r in list_rpe(clinic.db, PROGRAMME, "HA-002")} == {
        (15, 2), (13, None)}
    assert records.log.item(0).text().endswith("Bo: RPE 13 at the end")

    window.grab().save(f"{SHOTS}/uiprog_session.png")


def test_nothing_can_be_recorded_without_a_programme(make_clinic, qtbot):
    clinic = make_clinic(programme="")
    window = clinic.window
    assert window.setup_page.roster.programme.combo.currentText() == "No programme"
    assert not window.setup_page.roster.missed_button.isEnabled()
    start(clinic, qtbot)
    stored(clinic, qtbot)
    records = window.session_panel.records
    click_row(qtbot, window, "Dorte")
    assert records.planned.text().startswith("Dorte has no planned session in a programme")
    assert not any(b.isEnabled() for b in records.borg_buttons.values())
    assert not records.event_button.isEnabled()
    assert all(p.attendance is None for p in planned(clinic, "HA-001").values())


def test_a_not_enrolled_participant_gets_nothing_recorded(make_clinic, qtbot):
    clinic = make_clinic()
    start(clinic, qtbot)
    stored(clinic, qtbot)
    records = clinic.window.session_panel.records
    click_row(qtbot, clinic.window, "Dorte")
    assert "has no planned session" in records.planned.text()
    assert not records.borg_buttons[15].isEnabled()
    click_row(qtbot, clinic.window, "Anna")
    assert records.borg_buttons[15].isEnabled()


def test_setup_page_screenshot_with_a_programme(make_clinic, qtbot):
    clinic = make_clinic()
    untick(qtbot, clinic.window, "Cy")
    assert clinic.window.grab().save(f"{SHOTS}/uiprog_setup.png")



def test_a_database_refusing_the_attendance_is_said_and_the_class_goes_on(
        make_clinic, qtbot, monkeypatch):
    def refuse(*_args):
        raise StorageError("The database server does not answer.")

    monkeypatch.setattr("ui.control_window.record_class_attendance", refuse)
    clinic = make_clinic()
    start(clinic, qtbot)
    stored(clinic, qtbot)
    window = clinic.window
    assert window.statusBar().currentMessage().startswith(
        "Attendance not stored: The database server does not answer.")
    clinic.beats(5, A=120, B=125, C=130, D=110)
    assert window.running and window.session.schedule.paused is False


def test_a_class_on_another_day_counts_for_the_next_session_and_misses_nobody_yet(
        make_clinic, qtbot):
    clinic = make_clinic(today=date(2026, 3, 3))  # a Tuesday; session 2 is on Wednesday
    window = clinic.window
    assert roster(window)["Anna"]["Session"] == "week 1, session 2 (2026-03-04)"
    untick(qtbot, window, "Cy")
    start(clinic, qtbot)
    stored(clinic, qtbot)
    assert planned(clinic, "HA-001")[(1, 2)].attendance is Attendance.ATTENDED
    assert planned(clinic, "HA-003")[(1, 2)].attendance is None  # may still come tomorrow


def test_a_second_class_the_same_day_keeps_who_came_to_the_first(make_clinic, qtbot):
    clinic = make_clinic()
    window = clinic.window
    start(clinic, qtbot)
    first = window.recorded.session_id
    window.session_panel.act(window.session.stop)
    click(qtbot, window.session_panel.new_button)
    stored(clinic, qtbot)
    untick(qtbot, window, "Anna")
    start(clinic, qtbot)
    stored(clinic, qtbot)
    second = window.recorded.session_id
    anna, bo = planned(clinic, "HA-001")[(1, 1)], planned(clinic, "HA-002")[(1, 1)]
    assert (anna.attendance, anna.session_id) == (Attendance.ATTENDED, first)
    assert (bo.attendance, bo.session_id) == (Attendance.ATTENDED, second)


def test_a_programme_made_meanwhile_is_listed_when_the_choice_opens(make_clinic):
    clinic = make_clinic()
    create_programme(clinic.db, "Autumn group", start_date=TODAY)
    combo = clinic.window.setup_page.roster.programme.combo
    combo.showPopup()
    combo.hidePopup()
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "No programme", "Autumn group", PROGRAMME]
    assert combo.currentText() == PROGRAMME
