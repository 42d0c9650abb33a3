"""The control window before Start: the straps nearby next to today's class, the protocol,
and a big Start button that stays disabled, with the reasons listed under it, until the
class can start. The composition root calls ``refresh`` from its timer and answers
``start_requested``."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor import config
from hiaim_monitor.class_setup import ClassSetup, SetupError
from hiaim_monitor.display import radio_word
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import list_presets, list_user_protocols
from hiaim_monitor.storage.database import Database
from ui.setup.pairing_panel import PairingPanel
from ui.setup.protocol_panel import ProtocolPanel
from ui.setup.roster_panel import RosterPanel

SETTINGS: Final = ("hiaim-monitor", "control")
PROTOCOL_KEY: Final = "setup/protocol"
SPLITTER_KEYS: Final = ("setup/splitter_main", "setup/splitter_top", "setup/splitter_bottom")
START_PT: Final = 20
ROSTER_MIN_PX: Final = 480  # what the straps' side leaves the roster when it widens
START_COLOUR: Final = "#009E73"  # Okabe–Ito bluish green
PROBLEM_COLOUR: Final = "#C00000"


class SetupPage(QWidget):
    start_requested = Signal()

    def __init__(self, model: ClassSetup, db: Database, parent: QWidget | None = None, *,
                 restore_protocol: bool = True) -> None:
        """``restore_protocol``: switch to the protocol chosen last time (False when the
        operator named one on the command line)."""
        super().__init__(parent)
        self.model = model
        self.db = db
        self._drawn_revision: int | None = None
        self.pairing = PairingPanel(model)
        self.roster = RosterPanel(model, db)
        self.protocols = ProtocolPanel(model)
        self.start_button = QPushButton(tr("Start"))
        font = QFont(self.start_button.font())
        font.setPointSize(START_PT)
        font.setBold(True)
        self.start_button.setFont(font)
        self.start_button.setMinimumHeight(64)
        self.start_button.setStyleSheet(
            f"QPushButton {{ background: {START_COLOUR}; color: white; border-radius: 6px; }}"
            "QPushButton:disabled { background: #BBBBBB; color: #F4F4F4; }")
        self.start_button.clicked.connect(self._start)
        self.problems_title = QLabel()
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.problems.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("background: #FFF4CC; padding: 4px;")
        self.message.setVisible(False)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.message.setVisible(False))

        for panel in (self.pairing, self.roster, self.protocols):
            panel.message.connect(self.show_message)
            panel.changed.connect(self.refresh)
        self.pairing.assign_requested.connect(self._assign_to_selected)
        self.roster.strap_dropped.connect(self.assign)
        self.protocols.protocol_chosen.connect(self._remember_protocol)

        start_box = QWidget()
        start_layout = QVBoxLayout(start_box)
        start_layout.setContentsMargins(0, 0, 0, 0)
        start_layout.addWidget(self.start_button)
        start_layout.addWidget(self.problems_title)
        start_layout.addWidget(self.problems, 1)
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.addWidget(self.pairing)
        self.top.addWidget(self.roster)
        self.top.setStretchFactor(0, 4)
        self.top.setStretchFactor(1, 6)
        self.bottom = QSplitter(Qt.Orientation.Horizontal)
        self.bottom.addWidget(self.protocols)
        self.bottom.addWidget(start_box)
        self.bottom.setStretchFactor(0, 3)
        self.bottom.setStretchFactor(1, 2)
        self.main = QSplitter(Qt.Orientation.Vertical)
        self.main.addWidget(self.top)
        self.main.addWidget(self.bottom)
        self.main.setStretchFactor(0, 3)
        self.main.setStretchFactor(1, 1)
        # First use: room for every column of the straps; the roster's last one wraps.
        self.top.setSizes([560, 720])
        self.main.setSizes([520, 200])
        for splitter in (self.top, self.bottom, self.main):
            splitter.setChildrenCollapsible(False)
            splitter.splitterMoved.connect(lambda *_: self.save_settings())
        # Until the operator moves the divider, the straps' side widens to show all its
        # columns (Danish titles are longer; straps heard later bring longer names), also
        # from a divider position remembered from an earlier day.
        self._fit_straps = True
        self.top.splitterMoved.connect(lambda *_: setattr(self, "_fit_straps", False))
        layout = QVBoxLayout(self)
        layout.addWidget(self.main, 1)
        layout.addWidget(self.message)
        self._restore(restore_protocol)
        self.refresh()

    # -- redraw -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw when the model changed since the last time (cheap otherwise)."""
        if self.model.revision == self._drawn_revision:
            return
        self._drawn_revision = self.model.revision
        self.pairing.render()
        if self._fit_straps:
            self._widen_straps()
        self.roster.render()
        self.protocols.render()
        problems = self.model.problems()
        if self._texts(self.problems) != problems:
            self.problems.clear()
            self.problems.addItems(problems)
        self.problems.setVisible(bool(problems))
        attending = sum(e.attending for e in self.model.entries)
        if problems:
            self.problems_title.setText(tr("Before the start:"))
            self.problems_title.setStyleSheet(f"color: {PROBLEM_COLOUR}; font-weight: bold;")
        else:
            self.problems_title.setText(tr("Ready: {n} participants, {protocol}.").format(
                n=attending, protocol=self.model.protocol.name))
            self.problems_title.setStyleSheet(f"color: {START_COLOUR}; font-weight: bold;")
        self.start_button.setEnabled(not problems)

    def _widen_straps(self) -> None:
        """Give the straps' side what its columns need, leaving the roster at least
        ROSTER_MIN_PX; it only grows, so rows coming and going do not make it jump."""
        sizes = self.top.sizes()
        total = sum(sizes)
        want = min(self.pairing.needed_width(), total - ROSTER_MIN_PX)
        if total > 0 and want > sizes[0]:
            self.top.setSizes([want, total - want])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fit_straps:
            self._widen_straps()  # now that the splitter has its real width

    @staticmethod
    def _texts(widget: QListWidget) -> list[str]:
        return [widget.item(i).text() for i in range(widget.count())]

    def show_message(self, text: str) -> None:
        """A sentence for the operator under the page, for a while."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self._message_timer.start(config.SETUP_MESSAGE_MS)

    # -- actions ------------------------------------------------------------------------
    def assign(self, strap_id: str, study_code: str) -> None:
        """Put ``strap_id`` on participant ``code``, saying whom it was taken from. When
        they wear a strap of another radio already, ask whether this is the same strap (a
        dual-mode strap heard on both) or one in its place."""
        same = False
        if self.model.could_be_same_strap(strap_id, study_code):
            answer = self._ask_same_strap(strap_id, study_code)
            if answer is None:
                return
            same = answer
        try:
            previous = self.model.assign(strap_id, study_code, same_strap=same)
        except SetupError as err:
            self.show_message(str(err))
            return
        strap = self.model.strap_name(strap_id)
        name = self.model.entry(study_code).info.display_name
        if same:
            self.show_message(tr("{strap} is {name}'s strap heard on {radio} too: one strap, "
                                 "counted once.").format(strap=strap, name=name,
                                                         radio=radio_word(strap_id)))
        elif previous is not None:
            before = self.model.entry(previous).info.display_name
            self.show_message(tr("{strap} moved from {before} to {name}; {before} has no "
                                 "strap now.").format(strap=strap, before=before, name=name))
        else:
            self.show_message(tr("{strap} is now worn by {name}.").format(strap=strap,
                                                                            name=name))
        self.refresh()

    def _ask_same_strap(self, strap_id: str, study_code: str) -> bool | None:
        """True: the same strap on another radio; False: another strap in its place; None:
        the operator cancelled."""
        entry = self.model.entry(study_code)
        assert entry.strap_id is not None
        box = QMessageBox(QMessageBox.Icon.Question, tr("Same strap?"), tr(
            "{name} wears {worn} already. Is {strap} that strap heard on {radio} (a strap "
            "that sends on both radios), or another strap in its place?").format(
                name=entry.info.display_name, worn=self.model.strap_name(entry.strap_id),
                strap=self.model.strap_name(strap_id), radio=radio_word(strap_id)),
            QMessageBox.StandardButton.Cancel, self)
        same = box.addButton(tr("Same strap"), QMessageBox.ButtonRole.YesRole)
        other = box.addButton(tr("Another strap"), QMessageBox.ButtonRole.NoRole)
        box.setDefaultButton(same)
        box.exec()
        clicked = box.clickedButton()
        return True if clicked is same else False if clicked is other else None

    def _assign_to_selected(self, strap_id: str) -> None:
        study_code = self.roster.selected_code()
        if study_code is None:
            self.show_message(tr("Select a participant in the roster, then assign the "
                                 "strap."))
            return
        self.assign(strap_id, study_code)
        # On to the next one still without a strap: pairing a class is a run of these.
        entries = self.model.entries
        start = next(i for i, e in enumerate(entries) if e.study_code == study_code)
        for e in entries[start + 1:] + entries[:start]:
            if e.attending and e.strap_id is None:
                self.roster.select(e.study_code)
                break

    def _start(self) -> None:
        if not self.model.problems():
            self.start_requested.emit()

    # -- remembered choices -------------------------------------------------------------
    @staticmethod
    def _settings() -> QSettings:
        return QSettings(*SETTINGS)

    def _remember_protocol(self, key: str) -> None:
        self._settings().setValue(PROTOCOL_KEY, key)

    def save_settings(self) -> None:
        settings = self._settings()
        for key, splitter in zip(SPLITTER_KEYS, (self.main, self.top, self.bottom),
                                 strict=True):
            settings.setValue(key, splitter.saveState())

    def _restore(self, restore_protocol: bool) -> None:
        settings = self._settings()
        for key, splitter in zip(SPLITTER_KEYS, (self.main, self.top, self.bottom),
                                 strict=True):
            state = settings.value(key)
            if state is not None:
                splitter.restoreState(state)
        key = settings.value(PROTOCOL_KEY)
        if not restore_protocol or not isinstance(key, str) or not key:
            return
        if key == self.model.protocol.key:
            return
        if key in list_presets() or key in list_user_protocols() or Path(key).is_file():
            self.protocols.choose(key)
