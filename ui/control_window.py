"""The operator's window for a running session: where the session stands, the controls that
steer it, the alarms, and one row per participant. It redraws when ``refresh`` is called
(by the timer ui/app.py sets up)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import tr
from hiaim_monitor.schedule import OperatorAction
from hiaim_monitor.session import LiveSession
from ui.participant_table import ParticipantTable
from ui.session_header import AlarmBanner, SessionHeader

COLUMNS = ("Name", "Signal", "Strap", "bpm", "% HRmax", "Class", "In target", "Intervals",
           "Alarms")
EXTEND_BY_S = 60.0
STATUS_MESSAGE_MS = 8000


class ControlWindow(QMainWindow):
    def __init__(self, session: LiveSession) -> None:
        super().__init__()
        self.session = session
        self.snapshot: SessionSnapshot | None = None
        self._quit_confirmed = False
        self.setWindowTitle(f"HI AIM Monitor — {session.protocol.name}")

        self.header = SessionHeader()
        self.banner = AlarmBanner()
        self.pause_button = self._button(tr("Pause"), self.toggle_pause)
        self.next_button = self._button(tr("Next phase"), self.next_phase)
        self.extend_button = self._button(tr("+1 min"), self.extend)
        self.stop_button = self._button(tr("Stop"), self.confirm_stop)
        self.stop_button.setStyleSheet("color: #C00000; font-weight: bold;")
        self.table = ParticipantTable(COLUMNS)
        self.table.stretch_last()

        controls = QHBoxLayout()
        for button in (self.pause_button, self.next_button, self.extend_button):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.stop_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.header)
        layout.addLayout(controls)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(body)
        self.statusBar()

        self._shortcut(Qt.Key.Key_Space, self.toggle_pause)
        self._shortcut(Qt.Key.Key_N, self.next_phase)
        self._shortcut("Ctrl+Q", self.close)
        self.resize(960, 560)
        self._restore_geometry()

    # -- building -----------------------------------------------------------------------
    def _button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        # Buttons never take focus, so Space always means pause/resume, never "click".
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _shortcut(self, key: object, slot: Callable[[], object]) -> None:
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.activated.connect(slot)

    # -- redraw -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Drain the session's queue and redraw (the timer calls this 10 times a second)."""
        self.show_snapshot(self.session.tick())

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        self.snapshot = snap
        paused = self.session.schedule.paused
        self.header.show_snapshot(snap, paused)
        self.banner.show_snapshot(snap)
        self.table.show_participants(snap.participants)
        running = not snap.finished
        self.pause_button.setText(tr("Resume") if paused else tr("Pause"))
        for button in (self.pause_button, self.next_button, self.extend_button,
                       self.stop_button):
            button.setEnabled(running)

    @property
    def running(self) -> bool:
        return not self.session.schedule.finished_at(self.session.engine.session_time())

    # -- actions ------------------------------------------------------------------------
    def _act(self, action: Callable[[], OperatorAction]) -> None:
        """Do one operator action; what the schedule refuses goes to the status bar."""
        try:
            action()
        except ValueError as err:
            self.statusBar().showMessage(str(err), STATUS_MESSAGE_MS)
        self.refresh()

    def toggle_pause(self) -> None:
        if self.session.schedule.paused:
            self._act(self.session.resume)
        else:
            self._act(self.session.pause)

    def next_phase(self) -> None:
        self._act(self.session.skip)

    def extend(self) -> None:
        self._act(lambda: self.session.extend(by_s=EXTEND_BY_S))

    def confirm_stop(self) -> None:
        if not self.running:
            return
        answer = QMessageBox.question(
            self, tr("Stop the session?"),
            tr("Stop the session now? The phase running is judged on the time it ran."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self._act(self.session.stop)

    # -- closing ------------------------------------------------------------------------
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
        self._settings().setValue("geometry", self.saveGeometry())
        super().closeEvent(event)

    @staticmethod
    def _settings() -> QSettings:
        return QSettings("hiaim-monitor", "control")

    def _restore_geometry(self) -> None:
        geometry = self._settings().value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
