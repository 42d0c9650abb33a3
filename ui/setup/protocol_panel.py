"""Choosing today's protocol: the presets by name, or a file, with the phases drawn on a
timeline. A file that cannot be used is refused with its sentence; the previous choice
stays."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.display import mmss
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import ProtocolError, TrainingProtocol, list_presets, load_protocol
from ui.setup.timeline import PhaseTimeline


class ProtocolPanel(QWidget):
    """``protocol_chosen(key)`` after the operator picked a protocol (a preset name or the
    path of a file): the page remembers it."""

    message = Signal(str)
    changed = Signal()
    protocol_chosen = Signal(str)

    def __init__(self, model: ClassSetup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel(tr("Protocol"))
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(24)
        self.open_button = QPushButton(tr("Open file…"))
        self.open_button.clicked.connect(self.open_file)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.timeline = PhaseTimeline()
        for key in list_presets():
            try:
                self._add(key, load_protocol(key))
            except ProtocolError as err:  # a broken preset must not hide the others
                self.message.emit(str(err))
        self._show(model.protocol)
        self.combo.currentIndexChanged.connect(self._picked)
        row = QHBoxLayout()
        row.addWidget(self.title)
        row.addWidget(self.combo, 1)
        row.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.description)
        layout.addWidget(self.timeline, 1)

    def _add(self, key: str, protocol: TrainingProtocol) -> int:
        """The combo's index for ``key``, added when new."""
        index = self.combo.findData(key)
        name = protocol.display_name
        label = name if key in list_presets() else f"{name} ({Path(key).name})"
        if index < 0:
            self.combo.addItem(label, key)
            index = self.combo.count() - 1
        else:
            self.combo.setItemText(index, label)
        return index

    def _show(self, protocol: TrainingProtocol) -> None:
        """Select ``protocol`` in the combo (adding it if it came from elsewhere) and draw
        it, without telling anyone."""
        self.combo.blockSignals(True)
        try:
            self.combo.setCurrentIndex(self._add(self._key(protocol), protocol))
        finally:
            self.combo.blockSignals(False)
        self.timeline.set_protocol(protocol)
        # The file's own description, else what the phases say (the timeline shows the
        # total either way).
        self.description.setText(protocol.display_description or tr(
            "{n} work intervals, {total} in all").format(n=len(protocol.work_phases),
                                                         total=mmss(protocol.total_s)))

    def _key(self, protocol: TrainingProtocol) -> str:
        # A file protocol's key is its stem; the combo knows it by path when it was opened
        # here. Find it by name as well, so a protocol set by the composition root shows.
        for i in range(self.combo.count()):
            data = self.combo.itemData(i)
            if data == protocol.key or (Path(str(data)).stem == protocol.key
                                        and data not in list_presets()):
                return str(data)
        return protocol.key

    def current_key(self) -> str:
        return str(self.combo.currentData())

    def render(self) -> None:
        """Follow the model (its protocol may be set from outside)."""
        if self.timeline.protocol is not self.model.protocol:
            self._show(self.model.protocol)

    # -- what the operator does ---------------------------------------------------------
    def choose(self, key: str) -> bool:
        """Load ``key`` (a preset or a file path) and make it today's protocol; on a
        refusal say why and keep the previous one."""
        try:
            protocol = load_protocol(key)
        except ProtocolError as err:
            self.message.emit(str(err))
            self._show(self.model.protocol)
            return False
        self.model.set_protocol(protocol)
        self.combo.blockSignals(True)
        try:
            self.combo.setCurrentIndex(self._add(key, protocol))
        finally:
            self.combo.blockSignals(False)
        self._show(protocol)
        self.protocol_chosen.emit(key)
        self.changed.emit()
        return True

    def _picked(self, index: int) -> None:
        if index >= 0:
            self.choose(str(self.combo.itemData(index)))

    def open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Open a protocol file"), "", tr("Protocol files (*.toml)"))
        if path:
            self.choose(path)
