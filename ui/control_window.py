"""The operator's window. Before the class: the setup page (roster, straps, protocol,
Start). During it: the session panel. ``W`` shows the wall screen for the participants.
Space (pause / resume), N (next phase) and W work in every window of the app, the wall
included, unless a text box that was clicked has the keyboard.

It never ticks a session: the app's ``SessionLoop`` (beaten by the one timer ui/app.py
owns) hands each snapshot to ``show_snapshot``, which passes that same snapshot to the
session page and the wall; between sessions each beat lets the setup page take in what the
straps send. Everything that reaches the sensor side or the database comes in through
``Wiring``; the window never builds a driver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QScreen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
)

from hiaim_monitor import config
from hiaim_monitor.class_setup import (
    ClassSetup,
    SessionPlan,
    SetupError,
    record_class_attendance,
)
from hiaim_monitor.clock import Clock
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import language, tr
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.schedule import OperatorAction
from hiaim_monitor.session import LiveSession
from hiaim_monitor.session_loop import SessionLoop, Tickable
from hiaim_monitor.storage import Database, StorageError
from ui.alarm_sound import AlarmSound
from ui.bridge import SensorBridge
from ui.cue_sound import CueSound
from ui.report_action import SessionReportWriter, ask_report_path
from ui.session_panel import COLUMNS, SessionPanel
from ui.setup.setup_page import SetupPage
from ui.store_jobs import StoreJobs

if TYPE_CHECKING:
    from ui.wall import WallScreen

__all__ = ["COLUMNS", "ControlWindow", "Wiring"]
LANGUAGE_NAMES = {"en": "English", "da": "Dansk"}  # each in its own language


@dataclass
class Wiring:
    """What the composition root hands the window for a class set up on screen."""

    setup: ClassSetup
    db: Database
    bridge: SensorBridge | None  # None: nothing to connect (a screenshot)
    clock: Clock
    start: Callable[[SessionPlan], RecordedSession]  # StorageError when the database refuses
    storage_notice: str = ""  # e.g. recording locally because the central server is down


class ControlWindow(QMainWindow):
    tick_wanted = Signal()  # something changed that should show now: a beat, please

    def __init__(self, session: LiveSession | None = None, *, wiring: Wiring | None = None,
                 sound: AlarmSound | None = None, loop: SessionLoop | None = None,
                 cues: CueSound | None = None) -> None:
        """``session``: an unrecorded session to show (a screenshot); ``wiring``: what sets
        a class up and starts it. ``loop``: the app's heartbeat, which ui/app.py beats
        (without one the window makes its own, and whoever made the window beats it)."""
        super().__init__()
        if (session is None) == (wiring is None):
            raise ValueError("give the window a running session or the wiring to set one up")
        self.wiring = wiring
        self.loop = loop if loop is not None else SessionLoop()
        self.loop.show_on(self.show_snapshot)
        self.loop.when_idle(self._between_sessions)
        self.tick_wanted.connect(self.loop.tick)
        self.recorded: RecordedSession | None = None
        # Finished sessions whose rows still wait for the database (the writer keeps trying).
        self.saving: list[RecordedSession] = []
        self._quit_confirmed = False
        # Programme records (attendance, RPE, events) go to the database off the UI thread.
        self.jobs = StoreJobs(self)
        self.wall: WallScreen | None = None
        self.setWindowTitle("HI AIM Monitor")

        self.stack = QStackedWidget()
        self.session_panel = SessionPanel(sound, cues=cues)
        self.session_panel.status.connect(self.say)
        self.session_panel.finished.connect(self.finish_recording)
        self.session_panel.new_session.connect(self.back_to_setup)
        self.session_panel.report_wanted.connect(self.write_report)
        self.report_writer = SessionReportWriter(self)
        self.report_writer.written.connect(self._report_written)
        self.report_button = self.session_panel.report_button
        self.session_panel.late_note.connect(self._store_late_notes)
        self.session_panel.tick_wanted.connect(self.tick_wanted)
        self.session_panel.can_start_again = wiring is not None
        self.setup_page: SetupPage | None = None
        if wiring is not None:
            page = SetupPage(wiring.setup, wiring.db)
            page.start_requested.connect(self.start_session)
            self.setup_page = page
            self.stack.addWidget(page)
        self.stack.addWidget(self.session_panel)
        self.setCentralWidget(self.stack)
        self.statusBar()
        self.storage_notice = QLabel(wiring.storage_notice if wiring is not None else "")
        self.storage_notice.setWordWrap(True)
        self.storage_notice.setStyleSheet("color: white; background: #C00000; padding: 4px;")
        self.storage_notice.setVisible(bool(self.storage_notice.text()))
        self.statusBar().addPermanentWidget(self.storage_notice, 1)
        # The session panel's parts, where tests and the app reach them.
        panel = self.session_panel
        self.header, self.banner, self.table = panel.header, panel.banner, panel.table
        self.pause_button, self.next_button = panel.pause_button, panel.next_button
        self.extend_button, self.stop_button = panel.extend_button, panel.stop_button

        self._language_menu()
        self._wall_menu()
        # Space and N steer a session; on the setup page Space ticks a box in the tables.
        self.session_keys = (self._shortcut(Qt.Key.Key_Space, self._space),
                             self._shortcut(Qt.Key.Key_N, self._next))
        self._shortcut(Qt.Key.Key_W, self.toggle_wall)
        self._shortcut("Ctrl+Q", self.close)
        self._enable_session_keys(session is not None)
        self.resize(1100, 700)
        self._restore_geometry()
        if session is not None:
            self._show_session(session, session)

    def _language_menu(self) -> None:
        menu = self.menuBar().addMenu(tr("Language"))
        group = QActionGroup(self)
        for code, name in LANGUAGE_NAMES.items():
            action = QAction(name, self, checkable=True)
            action.setChecked(code == language())
            action.triggered.connect(lambda _=False, c=code: self.choose_language(c))
            group.addAction(action)
            menu.addAction(action)

    def _wall_menu(self) -> None:
        menu = self.menuBar().addMenu(tr("Wall screen"))
        show = QAction(tr("Show / hide (W)"), self)
        show.triggered.connect(self.toggle_wall)
        menu.addAction(show)
        self.screens_menu = menu.addMenu(tr("Show it on"))
        self.screens_menu.aboutToShow.connect(self._fill_screens_menu)
        self._fill_screens_menu()

    def _fill_screens_menu(self) -> None:
        """One entry per connected screen (they come and go: a projector is plugged in)."""
        self.screens_menu.clear()
        chosen = self.wall_screen()
        group = QActionGroup(self.screens_menu)
        for screen in QGuiApplication.screens():
            name, size = screen.name(), screen.size()
            action = QAction(f"{name} ({size.width()}×{size.height()})",
                             self.screens_menu, checkable=True)
            action.setChecked(screen == chosen)
            action.triggered.connect(lambda _=False, n=name: self.choose_wall_screen(n))
            group.addAction(action)
            self.screens_menu.addAction(action)

    def wall_screen(self) -> QScreen:
        """The screen the operator chose for the wall, while it is connected; else the
        second screen when there is one, else the laptop's own."""
        from ui.wall import default_wall_screen

        name = self._settings().value("wall_screen")
        for screen in QGuiApplication.screens():
            if screen.name() == name:
                return screen
        return default_wall_screen(QGuiApplication.instance())  # type: ignore[arg-type]

    def choose_wall_screen(self, name: str) -> None:
        self._settings().setValue("wall_screen", name)
        if self.wall is not None and self.wall.isVisible():
            self.wall.place_on(self.wall_screen())

    def choose_language(self, code: str) -> None:
        """Remember the operator's language; the window speaks it from the next start."""
        self._settings().setValue("language", code)
        self.say(tr("The language changes when the app starts next time."))

    def _shortcut(self, key: object, slot: Callable[[], object]) -> QShortcut:
        # Application-wide: on a one-screen laptop the wall covers this window and is the
        # one with the keyboard. A text box with the focus still gets its letters first.
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    def _enable_session_keys(self, on: bool) -> None:
        for shortcut in self.session_keys:
            shortcut.setEnabled(on)

    def say(self, text: str) -> None:
        self.statusBar().showMessage(text, config.STATUS_MESSAGE_MS)

    @property
    def session(self) -> LiveSession | None:
        return self.session_panel.session

    @property
    def in_session(self) -> bool:
        return self.stack.currentWidget() is self.session_panel

    # -- what each beat of the loop brings ----------------------------------------------
    def show_snapshot(self, snap: SessionSnapshot) -> None:
        """One beat's snapshot: the session page and the wall show this same one."""
        self._report_saved()
        self._wall_shown_or_not()
        self.session_panel.show_snapshot(snap)
        if self.wall is not None and self.wall.isVisible():
            self.wall.show_snapshot(snap)

    def _between_sessions(self) -> None:
        """A beat while no session is ticked: the setup page takes in what the straps send
        (after a session too: that is for the next class's setup page)."""
        self._report_saved()
        w = self.wiring
        if w is None:
            return
        if w.bridge is not None:
            w.setup.ingest(w.bridge.drain(), w.clock.monotonic())
        if self.in_session or self.setup_page is None:
            return
        if w.bridge is not None:
            w.bridge.sync(w.setup.wanted_straps())
        self.setup_page.refresh()

    # -- the stages ---------------------------------------------------------------------
    def start_session(self) -> None:
        """Start button: the plan becomes a stored, running session."""
        w = self.wiring
        assert w is not None and self.setup_page is not None
        try:
            plan = w.setup.plan()
        except SetupError as err:
            self.setup_page.show_message(str(err))
            return
        if w.bridge is not None:
            # Connect only the straps that are worn; the rest are let go.
            names = w.setup.wanted_straps()
            w.bridge.sync({strap_id: names.get(strap_id, strap_id)
                           for p in plan.participants for strap_id in p.strap_ids})
            w.bridge.set_discovery(False)
            # What the straps sent during setup belongs to nobody's session.
            w.setup.ingest(w.bridge.drain(), w.clock.monotonic())
        try:
            recorded = w.start(plan)
        except StorageError as err:
            if w.bridge is not None:
                w.bridge.set_discovery(True)
            self.setup_page.show_message(str(err))
            return
        self._record_attendance(plan, recorded.session_id)
        session = recorded.session
        # What the straps said during setup (connected, battery) holds until they report
        # again: without it the Strap column is blank and a flat battery raises no alarm.
        session.carry_over(w.setup.strap_reports(
            [strap_id for p in plan.participants for strap_id in p.strap_ids],
            session.start_mono_s))
        self.show_recorded(recorded)

    def show_recorded(self, recorded: RecordedSession) -> None:
        """Show ``recorded`` on the session page; the loop ticks it (and so stores what the
        straps send) from now on."""
        self.recorded = recorded
        self.session_panel.can_report = True
        self._show_session(recorded.session, recorded)
        self.session_panel.records.use_store(self.jobs, recorded.db,
                                             recorded.session_id)
        self.say(tr("Session {id} started.").format(id=self.recorded.session_id))

    def _record_attendance(self, plan: SessionPlan, session_id: int) -> None:
        """The class started as ``session_id``: its programme's enrolled participants
        attended (those in the plan) or missed their due session. Stored on the store's
        thread; trouble is said on the status bar and the class goes on."""
        w = self.wiring
        assert w is not None
        day, marks = w.setup.programme, w.setup.attendance_marks(plan)
        if day is None or not marks:
            return
        db, name = w.db, day.name
        here = sum(m.attended for m in marks)

        def stored(problems: list[str]) -> None:
            if problems:
                self._attendance_failed(problems[0] + (
                    "" if len(problems) == 1
                    else " " + tr("({n} more not stored.)").format(n=len(problems) - 1)))
            else:
                self.say(tr("Attendance stored in programme {name}: {here} here, {away} "
                            "missed.").format(name=name, here=here, away=len(marks) - here))

        self.jobs.submit(lambda: record_class_attendance(db, name, marks, session_id),
                         stored, self._attendance_failed)

    def _attendance_failed(self, sentence: str) -> None:
        text = tr("Attendance not stored: {reason} Record it with the registry commands "
                  "later.").format(reason=sentence)
        self.say(text)
        self.session_panel.records.error.setText(text)

    def _store_late_notes(self) -> None:
        if self.recorded is None:
            return
        note, per_participant = self.session_panel.notes.notes()
        error = self.recorded.store_notes(note, per_participant)
        self.say(error or tr("Notes saved."))

    def back_to_setup(self) -> None:
        """After a session: the setup page again, with today's class as it was."""
        w = self.wiring
        if w is None or self.setup_page is None or self.running:
            return
        self.finish_recording()
        if w.bridge is not None:
            w.bridge.set_discovery(True)
        self.stack.setCurrentWidget(self.setup_page)
        # The due sessions have moved on; read them once the attendance is stored.
        picker = self.setup_page.roster.programme
        self.jobs.submit(lambda: None, lambda _: picker.load(), self.say)
        self._enable_session_keys(False)
        self.setWindowTitle("HI AIM Monitor")
        self.tick_wanted.emit()  # the setup page as the straps say now

    def _show_session(self, session: LiveSession, heartbeat: Tickable) -> None:
        """``session`` on the page, steered by its controls; ``heartbeat`` is what the loop
        ticks (the recording around it, or the session itself when unrecorded)."""
        self.session_panel.attach(session)
        self.stack.setCurrentWidget(self.session_panel)
        self._enable_session_keys(True)
        # The Start button that had the keyboard is gone; no box on this page takes it
        # unless clicked, so the window keeps it and Space, N and W steer the session.
        focused = QApplication.focusWidget()
        if focused is not None and self.isAncestorOf(focused):
            focused.clearFocus()
        self.setWindowTitle(f"HI AIM Monitor — {session.protocol.display_name}")
        self.loop.run(heartbeat)

    def finish_recording(self, stop_reason: str = "") -> None:
        """The session ended: the last data, the notes and its end go to the database.
        One still running is stopped first, the stop stored with ``stop_reason`` (how it
        ended, when not with Stop)."""
        if self.recorded is None:
            return
        session = self.session
        if stop_reason and self.running and session is not None:
            # Stopping finishes the recording too (the panel's finished signal).
            self.session_panel.act(lambda: session.stop(stop_reason))
        if self.recorded.finished is not None:
            self.session_panel.notes.save()  # notes written since, via _store_late_notes
            return
        self.session_panel.notes.save()
        note, per_participant = self.session_panel.notes.notes()
        # Waits only briefly: a database that does not answer must not freeze the window.
        result = self.recorded.finish(notes=note, participant_notes=per_participant,
                                      wait_s=config.WINDOW_FINISH_WAIT_S)
        # One more beat shows the recording closed (notes from now on are stored with the
        # finished session); after it the loop leaves the session standing.
        self.tick_wanted.emit()
        if result.stored:
            self.say(tr("Session {id} is stored.").format(id=self.recorded.session_id))
            return
        self.saving.append(self.recorded)
        self.say(tr("Saving session {id}: {n} rows wait for the database, which does not "
                    "answer yet; they are kept and stored when it does.").format(
                        id=self.recorded.session_id, n=result.pending_rows))

    def _report_saved(self) -> None:
        for recorded in [r for r in self.saving if r.progress().stored]:
            self.saving.remove(recorded)
            self.say(tr("Session {id} is stored.").format(id=recorded.session_id))

    # -- after a session: its report ----------------------------------------------------
    def write_report(self) -> None:
        """Report…: the finished session's PDF, built from the database once everything
        the session recorded is stored there, written where the operator says and opened."""
        recorded = self.recorded
        if recorded is None or recorded.finished is None:
            return
        if self.report_writer.busy:
            self.say(tr("The report is being written; it opens when it is ready."))
            return
        if not recorded.progress().stored:
            self.say(tr("Session {id} is still being saved; ask for the report again when "
                        "it is stored.").format(id=recorded.session_id))
            return
        path = ask_report_path(self, recorded.session_id)
        if path is None:
            return
        self.report_button.setEnabled(False)
        self.say(tr("Writing the report of session {id}…").format(id=recorded.session_id))
        self.report_writer.start(recorded.db, recorded.session_id, path)

    def _report_written(self, session_id: int, path: str, error: str) -> None:
        self.report_writer.busy = False
        self.report_button.setEnabled(True)
        if error:
            self.say(tr("The report was not written: {error}").format(error=error))
            return
        opened = self.report_writer.opener(Path(path))
        self.say((tr("Report of session {id} written to {path}.") if opened else
                  tr("Report of session {id} written to {path}; no PDF viewer opened it."))
                 .format(id=session_id, path=path))

    # -- keys ---------------------------------------------------------------------------
    def _space(self) -> None:
        if self.in_session:
            self.session_panel.toggle_pause()

    def _next(self) -> None:
        if self.in_session:
            self.session_panel.next_phase()

    def _act(self, action: Callable[[], OperatorAction]) -> None:
        self.session_panel.act(action)

    def toggle_wall(self) -> None:
        """W: show the wall screen on the participants' screen, or hide it."""
        if self.wall is not None and self.wall.isVisible():
            self.wall.hide()
            self._wall_shown_or_not()
            return
        from ui.wall import WallScreen

        if self.wall is None:
            self.wall = WallScreen()
        self.wall.place_on(self.wall_screen())
        self._wall_shown_or_not()
        snap = self.session_panel.snapshot
        if snap is not None:
            self.wall.show_snapshot(snap)

    def _wall_shown_or_not(self) -> None:
        # Sound cues are on by default while the wall is shown (it may also close itself).
        self.session_panel.cue_toggle.follow_wall(self.wall is not None
                                                  and self.wall.isVisible())

    # -- closing ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.in_session and self.session_panel.running

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running and not self._quit_confirmed:
            answer = QMessageBox.question(
                self, tr("Quit while the session runs?"),
                tr("The session is still running. Quit anyway? "
                   "Everything recorded so far is kept."),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self._quit_confirmed = True
        self.finish_recording(stop_reason="quit")
        self.jobs.close(wait=True)  # records given before the close are stored
        if self.wall is not None:
            self.wall.close()
        self._settings().setValue("geometry", self.saveGeometry())
        super().closeEvent(event)

    @staticmethod
    def _settings() -> QSettings:
        return QSettings("hiaim-monitor", "control")

    def _restore_geometry(self) -> None:
        geometry = self._settings().value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
