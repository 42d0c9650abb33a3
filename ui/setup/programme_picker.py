"""Which programme today's class belongs to: a choice over the programmes in the database
(only simulated ones for a simulation, never them for a real class; "No programme" too).
For the chosen one the roster shows who is enrolled and the session each is due; starting
the class records their attendance (ControlWindow)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Final

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from hiaim_monitor.class_setup import ClassSetup, ProgrammeDay, load_programme_day
from hiaim_monitor.display import NO_VALUE
from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import Attendance
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.programmes import list_programmes
from hiaim_monitor.storage.registry import RegistryError
from ui.setup.missed_dialog import session_words

SETTINGS: Final = ("hiaim-monitor", "control")
PROGRAMME_KEY: Final = "setup/programme"
NO_PROGRAMME: Final = ""  # the item data of "No programme"
ATTENDANCE_WORD: Final = {Attendance.ATTENDED: "attended", Attendance.MISSED: "missed",
                          Attendance.CANCELLED: "cancelled"}


class _Combo(QComboBox):
    """A combo box that asks for its items again each time it opens."""

    def __init__(self, refill: Callable[[], None]) -> None:
        super().__init__()
        self._refill = refill

    def showPopup(self) -> None:
        self._refill()
        super().showPopup()


class ProgrammePicker(QWidget):
    message = Signal(str)
    changed = Signal()

    def __init__(self, model: ClassSetup, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.db = db
        # Opened, it lists the programmes anew (one made meanwhile with the registry
        # commands shows up without a restart).
        self.combo = _Combo(lambda: self.fill(self.chosen or NO_PROGRAMME, reload=False))
        self.combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Space stays the roster's
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #444444;")
        self._problem = ""  # why the programmes could not be listed
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(tr("Programme"))
        label.setBuddy(self.combo)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.summary, 1)
        # A simulation remembers its own choice: real programmes are not in its list.
        self._key = PROGRAMME_KEY + ("-simulated" if model.simulated else "")
        self.fill(QSettings(*SETTINGS).value(self._key)
                  or model.default_programme or NO_PROGRAMME)
        self.combo.currentIndexChanged.connect(self._chosen)

    def fill(self, wanted: str, *, reload: bool = True) -> None:
        """List the programmes again and choose ``wanted`` (by name) when it is there;
        ``reload``: read its enrolments again too (they are read anyway when the choice
        changes)."""
        try:
            names = [p.name for p in list_programmes(self.db)
                     if p.simulated == self.model.simulated]
        except StorageError as err:  # said beside the choice too: the page may not show
            names = []                # messages yet (this runs while it is being built)
            self._problem = str(err)
            self.message.emit(self._problem)
        else:
            self._problem = ""
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(tr("No programme"), NO_PROGRAMME)
        for name in names:
            self.combo.addItem(name, name)
        index = max(0, self.combo.findData(wanted))
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        if reload or self.chosen != (wanted or None):
            self.load()

    @property
    def chosen(self) -> str | None:
        data = self.combo.currentData()
        return str(data) if data else None

    def choose(self, name: str | None) -> None:
        index = self.combo.findData(name or NO_PROGRAMME)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def _chosen(self) -> None:
        QSettings(*SETTINGS).setValue(self._key, self.chosen or NO_PROGRAMME)
        self.load()

    def load(self) -> None:
        """Read the chosen programme's enrolments and due sessions again (after a class
        they have moved on)."""
        name = self.chosen
        day = None
        if name is not None:
            try:
                day = load_programme_day(self.db, name, self.model.today)
            except (StorageError, RegistryError) as err:
                self.message.emit(str(err))
        self.model.set_programme(day)
        if day is None:
            self.summary.setText(self._problem)
        else:
            due = sum(p is not None and p.planned_on == self.model.today
                      for p in day.due.values())
            self.summary.setText(tr("{n} enrolled, {due} due today").format(
                n=len(day.due), due=due))
        self.changed.emit()


def due_text(day: ProgrammeDay | None, study_code: str, today: date) -> tuple[str, str]:
    """What the roster's Session cell says of a participant, and its tooltip: the session
    they are due (with its date when not today, and its attendance once recorded)."""
    if day is None:
        return "", ""
    if study_code not in day.due:
        return NO_VALUE, tr("Not enrolled in programme {name}").format(name=day.name)
    if study_code in day.withdrawn:
        return tr("withdrawn"), tr("Withdrawn from programme {name}").format(name=day.name)
    due = day.due[study_code]
    if due is None:
        return tr("none planned"), tr("No session of programme {name} is planned for today "
                                      "or later").format(name=day.name)
    text = session_words(due)
    if due.planned_on != today:
        text += f" ({due.planned_on.isoformat()})"
    if due.attendance is not None:  # a class today has recorded it already
        text += f" · {tr(ATTENDANCE_WORD[due.attendance])}"
    return text, tr("Starting the class records it: attended if ticked Here, else missed")
