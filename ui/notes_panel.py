"""The operator's notes: one for the session, one per participant. Each is handed on a
couple of seconds after typing stops (and once more at the end), so a note survives a crash
without a write per key press.

The notes take the keyboard only when clicked (never by Tab, never because the page
changed), so the session's keys (Space, N, W) are not typed into them by accident; Esc
leaves a note and gives the keys back to the session."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor import config
from hiaim_monitor.i18n import tr
from hiaim_monitor.participants import Participant

NoteSink = Callable[[str, str | None], None]  # (text, participant id or None)


class NotesPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_note: NoteSink | None = None
        self.session_note = QPlainTextEdit()
        self.session_note.setPlaceholderText(tr("How did the session go?"))
        self.who = QComboBox()
        self.participant_note = QPlainTextEdit()
        self.participant_note.setPlaceholderText(tr("A note on this participant"))
        self._texts: dict[str, str] = {}  # participant id → note
        self._dirty: set[str | None] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(config.NOTE_SAVE_AFTER_MS)
        self._timer.timeout.connect(self.save)
        self.session_note.textChanged.connect(lambda: self._changed(None))
        self.participant_note.textChanged.connect(self._participant_changed)
        self.who.currentIndexChanged.connect(self._show_participant)
        for widget in (self.session_note, self.who, self.participant_note):
            widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        leave = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        leave.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        leave.activated.connect(self.leave)

        form = QFormLayout()
        form.addRow(QLabel(tr("Session")), self.session_note)
        form.addRow(QLabel(tr("Participant")), self.who)
        form.addRow(QLabel(""), self.participant_note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        self.setEnabled(False)

    def leave(self) -> None:
        """Give the keyboard back (Esc): the window's keys steer the session again."""
        focused = self.focusWidget()
        if focused is not None:
            focused.clearFocus()

    def set_participants(self, people: Sequence[Participant]) -> None:
        """A new session: its participants, and empty notes."""
        self._timer.stop()
        self._texts, self._dirty = {}, set()
        self.session_note.blockSignals(True)
        self.session_note.clear()
        self.session_note.blockSignals(False)
        self.who.blockSignals(True)
        self.who.clear()
        for p in people:
            self.who.addItem(p.display_name, p.study_code)
        self.who.blockSignals(False)
        self._show_participant()
        self.setEnabled(bool(people))

    def choose(self, study_code: str) -> None:
        """Show this participant's note (a click on their row of the table)."""
        index = self.who.findData(study_code)
        if index >= 0:
            self.who.setCurrentIndex(index)

    def _current(self) -> str | None:
        value = self.who.currentData()
        return str(value) if value is not None else None

    def _show_participant(self) -> None:
        who = self._current()
        self.participant_note.blockSignals(True)
        self.participant_note.setPlainText(self._texts.get(who, "") if who else "")
        self.participant_note.blockSignals(False)

    def _participant_changed(self) -> None:
        who = self._current()
        if who is not None:
            self._texts[who] = self.participant_note.toPlainText()
            self._changed(who)

    def _changed(self, who: str | None) -> None:
        self._dirty.add(who)
        self._timer.start()

    def save(self) -> None:
        """Hand every changed note to ``on_note`` now."""
        self._timer.stop()
        dirty, self._dirty = self._dirty, set()
        if self.on_note is None:
            return
        for who in sorted(dirty, key=lambda w: w or ""):
            text = self.session_note.toPlainText() if who is None else self._texts[who]
            self.on_note(text, who)

    def notes(self) -> tuple[str, dict[str, str]]:
        """The session's note and each participant's, as they read now."""
        return self.session_note.toPlainText(), dict(self._texts)
