"""Which programme today's class belongs to: a choice over the programmes in the database
(only simulated ones for a simulation, never them for a real class; "No programme" too).
For the chosen one the roster shows who is enrolled and the session each is due; starting
the class records their attendance (ControlWindow)."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from hiaim_monitor.class_setup import ClassSetup, load_programme_day
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.programmes import list_programmes
from hiaim_monitor.storage.registry import RegistryError

SETTINGS: Final = ("hiaim-monitor", "control")
PROGRAMME_KEY: Final = "setup/programme"
NO_PROGRAMME: Final = ""  # the item data of "No programme"


class ProgrammePicker(QWidget):
    message = Signal(str)
    changed = Signal()

    def __init__(self, model: ClassSetup, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.db = db
        self.combo = QComboBox()
        self.combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Space stays the roster's
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #444444;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(tr("Programme"))
        label.setBuddy(self.combo)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.summary, 1)
        self.fill(QSettings(*SETTINGS).value(PROGRAMME_KEY) or NO_PROGRAMME)
        self.combo.currentIndexChanged.connect(self._chosen)

    def fill(self, wanted: str) -> None:
        """List the programmes again and choose ``wanted`` (by name) when it is there."""
        try:
            names = [p.name for p in list_programmes(self.db)
                     if p.simulated == self.model.simulated]
        except StorageError as err:
            names = []
            self.message.emit(str(err))
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(tr("No programme"), NO_PROGRAMME)
        for name in names:
            self.combo.addItem(name, name)
        index = max(0, self.combo.findData(wanted))
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
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
        QSettings(*SETTINGS).setValue(PROGRAMME_KEY, self.chosen or NO_PROGRAMME)
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
            self.summary.setText("")
        else:
            due = sum(p is not None and p.planned_on == self.model.today
                      for p in day.due.values())
            self.summary.setText(tr("{n} enrolled, {due} due today").format(
                n=len(day.due), due=due))
        self.changed.emit()
