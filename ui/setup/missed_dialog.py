"""Why a participant missed a planned session: the reason from the programme's short list
and a free-text note, filled in after the class (the start records a missed session with
the reason unknown). Opened from the roster ("Why missed…")."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import Attendance, MissedReason
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.programmes import (
    PlannedSessionInfo,
    list_planned_sessions,
    record_attendance,
)
from hiaim_monitor.storage.registry import RegistryError

REASON_WORD: Final = {
    MissedReason.ILLNESS: "illness",
    MissedReason.TREATMENT_SIDE_EFFECTS: "treatment side effects",
    MissedReason.HOSPITAL_ADMISSION: "hospital admission",
    MissedReason.TRANSPORT: "transport",
    MissedReason.PERSONAL: "personal",
    MissedReason.UNKNOWN: "unknown",
}
ERROR_COLOUR: Final = "#C00000"


def missed_sessions(db: Database, programme: str, study_code: str) -> list[PlannedSessionInfo]:
    """The participant's missed sessions in ``programme``, the latest first."""
    return sorted((p for p in list_planned_sessions(db, programme, study_code)
                   if p.attendance is Attendance.MISSED),
                  key=lambda p: (p.planned_on, p.week, p.number), reverse=True)


def session_words(p: PlannedSessionInfo) -> str:
    return tr("week {week}, session {number}").format(week=p.week, number=p.number)


class MissedDialog(QDialog):
    saved = Signal(str)  # a sentence saying what was stored

    def __init__(self, db: Database, programme: str, study_code: str, name: str,
                 missed: list[PlannedSessionInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Saved while the last session's rows may still be going in: wait for the lock.
        self.db = db
        self.programme, self.study_code, self.name = programme, study_code, name
        self.missed = missed
        self.setWindowTitle(tr("Why was {name} not here?").format(name=name))
        self.session = QComboBox()
        for p in missed:
            self.session.addItem(f"{session_words(p)} ({p.planned_on.isoformat()})")
        self.reason = QComboBox()
        for reason, word in REASON_WORD.items():
            self.reason.addItem(tr(word), reason)
        self.note = QLineEdit()
        self.note.setPlaceholderText(tr("What the participant or staff said (optional)"))
        self.note.setMinimumWidth(  # the whole hint readable, in every language
            self.note.fontMetrics().horizontalAdvance(self.note.placeholderText()) + 24)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.error.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.session.currentIndexChanged.connect(self._show_current)
        form = QFormLayout()
        form.addRow(tr("Missed session"), self.session)
        form.addRow(tr("Reason"), self.reason)
        form.addRow(tr("Note"), self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._show_current()

    def _show_current(self) -> None:
        """The reason and note stored for the session chosen (unknown until filled in)."""
        p = self.missed[self.session.currentIndex()]
        self.reason.setCurrentIndex(max(0, self.reason.findData(
            p.missed_reason or MissedReason.UNKNOWN)))
        self.note.setText(p.attendance_note)

    def choose_reason(self, reason: MissedReason) -> None:
        self.reason.setCurrentIndex(self.reason.findData(reason))

    def save(self) -> None:
        p = self.missed[self.session.currentIndex()]
        reason = self.reason.currentData()
        try:
            record_attendance(self.db, self.programme, self.study_code, p.week, p.number,
                              Attendance.MISSED, reason=reason, note=self.note.text().strip())
        except (StorageError, RegistryError) as err:
            self.error.setText(str(err))
            self.error.setVisible(True)
            return
        self.saved.emit(tr("{name} missed {session}: {reason}.").format(
            name=self.name, session=session_words(p), reason=tr(REASON_WORD[reason])))
        self.accept()
