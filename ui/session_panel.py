"""The running session in the control window: where it stands, the controls that steer it,
the alarms (banner, sound, acknowledgement), one row per participant and the notes. It
shows the snapshots the app's session loop hands it (``show_snapshot``) and reads nothing
else; it never ticks the session. The controls call the session's operator actions and ask
the loop for a beat (``tick_wanted``), so that what they changed shows at once. Once the
session is over the loop stops handing out snapshots: the clock, the rows and the timeline
stand still."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor import config
from hiaim_monitor.alarm_watch import AlarmWatch, active_alarms
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import tr
from hiaim_monitor.schedule import OperatorAction
from hiaim_monitor.session import LiveSession
from ui.alarm_sound import AlarmSound
from ui.cue_sound import CueSound, CueToggle
from ui.notes_panel import NotesPanel
from ui.participant_table import ParticipantTable
from ui.records_panel import RecordsPanel
from ui.session_header import AlarmBanner, SessionHeader
from ui.setup.timeline import PhaseTimeline

COLUMNS = ("Name", "Signal", "Strap", "Radio", "bpm", "% HRmax", "Class", "In target",
           "Intervals", "Alarms")
RECORDS_MIN_PX = 24  # what a small window leaves the records (they scroll)
ACKNOWLEDGED_STYLE = "color: white; background: #7A2020; padding: 6px;"
RAISED_STYLE = "color: white; background: #C00000; padding: 6px;"
# Red while it can stop the session; a disabled Stop in red would still look pressable.
STOP_STYLE = ("QPushButton { color: #C00000; font-weight: bold; }"
              "QPushButton:disabled { color: #A0A0A0; }")


def _button(text: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    # Buttons never take focus, so Space always means pause/resume, never "click".
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.clicked.connect(slot)
    return button


class SessionPanel(QWidget):
    finished = Signal()  # the session ended (stopped, or the protocol ran out)
    status = Signal(str)  # a sentence for the status bar
    new_session = Signal()  # the operator wants to set up the next class
    report_wanted = Signal()  # the operator wants the finished session's PDF report
    late_note = Signal()  # a note changed after the session ended
    tick_wanted = Signal()  # an operator action changed the session: show it now

    def __init__(self, sound: AlarmSound | None = None, parent: QWidget | None = None,
                 cues: CueSound | None = None) -> None:
        super().__init__(parent)
        self.session: LiveSession | None = None
        self.snapshot: SessionSnapshot | None = None
        self.alarms = AlarmWatch()
        self.sound = sound or AlarmSound()
        self.cues = cues or CueSound()
        self._finished_sent = False

        self.header = SessionHeader()
        self.timeline = PhaseTimeline()
        self.timeline.setMaximumHeight(70)
        self.banner = AlarmBanner()
        self.ack_button = _button(tr("Acknowledge alarms"), self.acknowledge)
        self.ack_button.setVisible(False)
        self.pause_button = _button(tr("Pause"), self.toggle_pause)
        self.next_button = _button(tr("Next phase"), self.next_phase)
        self.extend_button = _button(tr("+1 min"), self.extend)
        self.stop_button = _button(tr("Stop"), self.confirm_stop)
        self.stop_button.setStyleSheet(STOP_STYLE)
        self.cue_toggle = CueToggle()
        self.new_button = _button(tr("New session…"), self.new_session.emit)
        self.new_button.setVisible(False)
        self.can_start_again = False  # set by a window that can set up another class
        self.report_button = _button(tr("Report…"), self.report_wanted.emit)
        self.report_button.setVisible(False)
        self.can_report = False  # set by the window for a session it records
        self.table = ParticipantTable(COLUMNS)
        self.table.stretch_last()
        self.notes = NotesPanel()
        self.notes.on_note = self._note
        self.records = RecordsPanel()
        # A click on a participant's row: the records are for them.
        self.table.cellClicked.connect(self._row_clicked)

        controls = QHBoxLayout()
        for button in (self.pause_button, self.next_button, self.extend_button):
            controls.addWidget(button)
        controls.addWidget(self.cue_toggle)
        controls.addStretch(1)
        controls.addWidget(self.report_button)
        controls.addWidget(self.new_button)
        controls.addWidget(self.stop_button)
        alarm_row = QHBoxLayout()
        alarm_row.addWidget(self.banner, 1)
        alarm_row.addWidget(self.ack_button)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.notes)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        # The records keep the height they need, the table takes the rest; in a small
        # window they scroll rather than set a minimum size for the whole window.
        records = QScrollArea()
        records.setWidget(self.records)
        records.setWidgetResizable(True)
        records.setFrameShape(QFrame.Shape.NoFrame)
        records.setMinimumHeight(RECORDS_MIN_PX)
        self.records_splitter = QSplitter(Qt.Orientation.Vertical)
        self.records_splitter.addWidget(self.splitter)
        self.records_splitter.addWidget(records)
        self.records_splitter.setStretchFactor(0, 1)
        self.records_splitter.setStretchFactor(1, 0)
        self.records_splitter.setChildrenCollapsible(False)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 4, 8, 4)
        self.layout_.addWidget(self.header)
        self.layout_.addWidget(self.timeline)
        self.layout_.addLayout(controls)
        self.layout_.addLayout(alarm_row)
        self.layout_.addWidget(self.records_splitter, 1)

    def attach(self, session: LiveSession) -> None:
        """A new session: the one the controls steer; its snapshots come from the loop."""
        self.session = session
        self.snapshot = None
        self._finished_sent = False
        self.alarms = AlarmWatch()
        self.cues.reset()
        self.timeline.set_protocol(session.protocol)
        self.notes.set_participants(session.participants)
        self.records.set_session(session.protocol, session.participants)

    # -- redraw -------------------------------------------------------------------------
    def show_snapshot(self, snap: SessionSnapshot) -> None:
        """Show where the session stands at this beat."""
        self.snapshot = snap
        self.header.show_snapshot(snap)
        self.timeline.set_durations(snap.planned_run_s)
        self.timeline.set_cursor(None if snap.finished
                                 else _running_time(snap, snap.planned_run_s))
        self.banner.show_snapshot(snap)
        self.table.show_participants(snap.participants)
        self.records.show_snapshot(snap)
        self.pause_button.setText(tr("Resume") if snap.paused else tr("Pause"))
        for button in (self.pause_button, self.next_button, self.extend_button,
                       self.stop_button):
            button.setEnabled(snap.running)
        self.new_button.setVisible(snap.finished and self.can_start_again)
        self.report_button.setVisible(snap.finished and self.can_report)
        self._sound_alarms(snap)
        if snap.finished and not self._finished_sent:
            self._finished_sent = True
            self.finished.emit()

    def _sound_alarms(self, snap: SessionSnapshot) -> None:
        raised = self.alarms.update(active_alarms(snap))
        waiting = bool(self.alarms.unacknowledged) and not snap.finished
        # The cues first: a cue still sounding is cut before the chime starts.
        self.cues.enabled = self.cue_toggle.isChecked()
        self.cues.update(snap, alarm_waiting=waiting)
        self.sound.update(waiting, bool(raised), time.monotonic())
        self.ack_button.setVisible(waiting)
        style = RAISED_STYLE if waiting else ACKNOWLEDGED_STYLE
        if self.banner.styleSheet() != style:  # a new style sheet re-polishes the widget
            self.banner.setStyleSheet(style)

    def _row_clicked(self, row: int, _col: int) -> None:
        if self.snapshot is not None and 0 <= row < len(self.snapshot.participants):
            code = self.snapshot.participants[row].study_code
            self.records.choose(code)
            self.notes.choose(code)

    @property
    def running(self) -> bool:
        """The session shown has not finished (as of the last beat)."""
        return self.snapshot is not None and self.snapshot.running

    # -- actions ------------------------------------------------------------------------
    def acknowledge(self) -> None:
        """The operator saw the alarms: silence them and log it."""
        if self.session is None:
            return
        seen = self.alarms.acknowledge()
        if seen:
            self.session.acknowledge(seen)
        if self.snapshot is not None:
            self._sound_alarms(self.snapshot)

    def _note(self, text: str, study_code: str | None) -> None:
        if self.session is None or self.snapshot is None:
            return
        if self.snapshot.recording:
            self.session.note(text, study_code)
        else:  # its recording is closed: the notes go with the stored session
            self.late_note.emit()

    def act(self, action: Callable[[], OperatorAction]) -> None:
        """Do one operator action; what the schedule refuses goes to the status bar."""
        if self.session is None:
            return
        try:
            action()
        except ValueError as err:
            self.status.emit(str(err))
        self.tick_wanted.emit()

    def toggle_pause(self) -> None:
        if self.session is None or self.snapshot is None:
            return
        self.act(self.session.resume if self.snapshot.paused else self.session.pause)

    def next_phase(self) -> None:
        if self.session is not None:
            self.act(self.session.skip)

    def extend(self) -> None:
        if self.session is not None:
            session = self.session
            self.act(lambda: session.extend(by_s=config.EXTEND_BY_S))

    def confirm_stop(self) -> None:
        if not self.running or self.session is None:
            return
        answer = QMessageBox.question(
            self, tr("Stop the session?"),
            tr("Stop the session now? The phase running is judged on the time it ran."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.act(self.session.stop)


def _running_time(snap: SessionSnapshot, run_s: tuple[float, ...]) -> float | None:
    """Where the session stands on the timeline drawn from ``run_s``: the running time of
    the phases before the current one plus the time the current one has run."""
    pos = snap.position
    if pos is None:
        return None
    return sum(run_s[:pos.index]) + min(pos.elapsed_s, run_s[pos.index])
