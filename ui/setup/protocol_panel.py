"""Choosing today's protocol: the presets by name, the user's own (made in the protocol
editor: New, Duplicate, Edit), or a file, with the phases drawn on a timeline. A file that
cannot be used is refused with its sentence; the previous choice stays. Presets are
read-only: Edit is offered for the user's own, Duplicate for any."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
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
from hiaim_monitor.protocols import (
    ProtocolError,
    TrainingProtocol,
    list_presets,
    list_user_protocols,
    load_protocol,
)
from hiaim_monitor.protocols.document import ProtocolDocument, new_document
from ui.setup.protocol_editor import ProtocolEditor
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
        self.new_button = QPushButton(tr("New…"))
        self.new_button.clicked.connect(self.new_protocol)
        self.duplicate_button = QPushButton(tr("Duplicate…"))
        self.duplicate_button.clicked.connect(self.duplicate_protocol)
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.clicked.connect(self.edit_protocol)
        self.editor: ProtocolEditor | None = None  # the one open
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.timeline = PhaseTimeline()
        for key in list_presets():
            try:
                self._add(key, load_protocol(key))
            except ProtocolError as err:  # a broken preset must not hide the others
                self.message.emit(str(err))
        self._add_user_protocols()
        self._show(model.protocol)
        self.combo.currentIndexChanged.connect(self._picked)
        row = QHBoxLayout()
        row.addWidget(self.title)
        row.addWidget(self.combo, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.new_button, self.duplicate_button, self.edit_button,
                       self.open_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(buttons)
        layout.addWidget(self.description)
        layout.addWidget(self.timeline, 1)

    def _add_user_protocols(self) -> None:
        """The user's own protocols, after the presets (a line between)."""
        for key in list_user_protocols():
            try:
                self._add(key, load_protocol(key))
            except ProtocolError as err:
                self.message.emit(str(err))

    def _add(self, key: str, protocol: TrainingProtocol) -> int:
        """The combo's index for ``key``, added when new: a user protocol after the presets
        and the other user protocols, a file at the end."""
        index = self.combo.findData(key)
        name = protocol.display_name
        if key in list_presets():
            label = name
        elif key in list_user_protocols():
            label = tr("{name} (own)").format(name=name)
        else:
            label = f"{name} ({Path(key).name})"
        if index < 0:
            index = self.combo.count()
            if key in list_user_protocols():
                if self.combo.findData(None) < 0:  # the line between presets and the own
                    presets = list_presets()
                    self.combo.insertSeparator(next(
                        (i for i in range(self.combo.count())
                         if self.combo.itemData(i) not in presets), self.combo.count()))
                index = next((i for i in range(self.combo.count())
                              if _is_file(self.combo.itemData(i))), self.combo.count())
            self.combo.insertItem(index, label, key)
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
        self.edit_button.setEnabled(self.current_key() in list_user_protocols())
        self.edit_button.setToolTip("" if self.edit_button.isEnabled() else tr(
            "Presets and opened files are not changed here: duplicate one to change it"))
        self.timeline.set_protocol(protocol)
        # The file's own description, else what the phases say (the timeline shows the
        # total either way).
        self.description.setText(protocol.display_description or tr(
            "{n} work intervals, {total} in all").format(n=len(protocol.work_phases),
                                                         total=mmss(protocol.total_s)))

    def _key(self, protocol: TrainingProtocol) -> str:
        # A file protocol's key is its stem; the combo knows it by path when it was opened
        # here. Find it by name as well, so a protocol set by the composition root shows.
        keys = [self.combo.itemData(i) for i in range(self.combo.count())]
        if protocol.key in keys:
            return protocol.key
        for data in keys:
            if _is_file(data) and Path(str(data)).stem == protocol.key:
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

    # -- the protocol editor ------------------------------------------------------------
    def new_protocol(self) -> None:
        self._open_editor(new_document(), None)

    def duplicate_protocol(self) -> None:
        """A copy of the protocol chosen (a preset, one's own or a file) to change."""
        try:
            document = ProtocolDocument.load(self.current_key()).duplicate()
        except ProtocolError as err:
            self.message.emit(str(err))
            return
        self._open_editor(document, None)

    def edit_protocol(self) -> None:
        """Change the user's own protocol chosen; it keeps its key (and file)."""
        key = self.current_key()
        if key not in list_user_protocols():
            return
        try:
            document = ProtocolDocument.load(key)
        except ProtocolError as err:
            self.message.emit(str(err))
            return
        self._open_editor(document, key)

    def _open_editor(self, document: ProtocolDocument, key: str | None) -> None:
        self.editor = ProtocolEditor(document, key=key, parent=self)
        self.editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editor.saved.connect(self._saved)
        self.editor.finished.connect(lambda _: setattr(self, "editor", None))
        self.editor.open()  # window-modal; the app's timer keeps the straps' list live

    def _saved(self, key: str) -> None:
        """The editor wrote ``key``: list it, and make it today's protocol."""
        try:
            self._add(key, load_protocol(key))
        except ProtocolError as err:
            self.message.emit(str(err))
            return
        self.choose(key)
        self.message.emit(tr("Protocol saved: {name}.").format(name=self.model.protocol.name))


def _is_file(data: object) -> bool:
    """A combo entry opened from a file (by path): neither a preset nor one's own."""
    return isinstance(data, str) and data not in list_presets() \
        and data not in list_user_protocols()
