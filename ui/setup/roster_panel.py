"""Today's class: one row per registered participant, whether they are here, the strap they
wear today, their HRmax for today and how it was found, and (when the class belongs to a
programme) the planned session each enrolled participant is due. Straps are dropped onto a row to
assign them; HRmax is typed into its cell."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.class_setup import ClassSetup, RosterEntry, SetupError
from hiaim_monitor.display import NO_VALUE, radio_word
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.registry import ParticipantInfo, RegistryError
from ui.setup.columns import fit_columns_stretching_last, last_column_hint_px
from ui.setup.missed_dialog import MissedDialog, missed_sessions
from ui.setup.participant_dialog import ParticipantDialog
from ui.setup.programme_picker import ProgrammePicker, due_text
from ui.setup.strap_drag import strap_of

COLUMNS: Final = ("Here", "Name", "Code", "Strap", "HRmax", "Method", "Session", "Check")
HERE, NAME, CODE, STRAP, HRMAX, METHOD, SESSION, CHECK = range(len(COLUMNS))
CHECK_MIN_PX: Final = 80  # the "Check" column's sentences wrap at no less than this
WARNING_COLOUR: Final = "#C00000"
BETA_COLOUR: Final = "#B35C00"
ABSENT_COLOUR: Final = "gray"
CODE_ROLE: Final = Qt.ItemDataRole.UserRole
BETA_BLOCKER_NOTE: Final = "β-blocker: heart-rate targets may not apply"
METHOD_WORD: Final = {
    HRMaxMethod.MEASURED: "measured",
    HRMaxMethod.TANAKA: "Tanaka (age)",
    HRMaxMethod.AGE_220: "220 − age",
    HRMaxMethod.GELLISH: "Gellish (age)",
}


class RosterTable(QTableWidget):
    """The roster's table; a strap dropped on a row is announced by ``strap_dropped``."""

    strap_dropped = Signal(str, str)  # strap id, study code

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(True)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        # Columns are fitted once per redraw (fit_columns), not by Qt's fit-to-contents
        # mode, which measures a whole column again on every cell change.
        header.setStretchLastSection(True)
        self.horizontalHeaderItem(HRMAX).setToolTip(
            tr("HRmax for today: type a new value, or clear it to go back to the "
               "registered one."))

    def code_at(self, pos: QPoint) -> str | None:
        row = self.rowAt(pos.y())
        return self.code_of_row(row) if row >= 0 else None

    def code_of_row(self, row: int) -> str | None:
        item = self.item(row, HERE)
        return item.data(CODE_ROLE) if item is not None else None

    def row_of(self, study_code: str) -> int:
        for row in range(self.rowCount()):
            if self.code_of_row(row) == study_code:
                return row
        return -1

    def cell_texts(self, row: int) -> dict[str, str]:
        """What one row says, by (English) column title: for tests and accessibility."""
        return {c: self.item(row, i).text() for i, c in enumerate(COLUMNS)}

    # Drops: only a strap, only onto a participant's row.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if strap_of(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        pos = event.position().toPoint()
        if strap_of(event.mimeData()) is not None and self.code_at(pos) is not None:
            self.selectRow(self.rowAt(pos.y()))
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        strap_id = strap_of(event.mimeData())
        study_code = self.code_at(event.position().toPoint())
        if strap_id is None or study_code is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.strap_dropped.emit(strap_id, study_code)


class RosterPanel(QWidget):
    """The roster table with its buttons. Says what happened through ``message``; asks the
    page to redraw through ``changed``."""

    message = Signal(str)
    changed = Signal()
    strap_dropped = Signal(str, str)  # strap id, study code

    def __init__(self, model: ClassSetup, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.db = db
        self.dialog: ParticipantDialog | MissedDialog | None = None
        self.title = QLabel(tr("Today's class"))
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.programme = ProgrammePicker(model, db)
        self.programme.message.connect(self.message)
        self.programme.changed.connect(self.changed)
        self.table = RosterTable()
        self.table.horizontalHeaderItem(SESSION).setToolTip(
            tr("The programme's session each enrolled participant is due today"))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.strap_dropped.connect(self.strap_dropped)
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        self.add_button = QPushButton(tr("Add participant…"))
        self.add_button.clicked.connect(self.add_participant)
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.clicked.connect(self.edit_participant)
        self.unassign_button = QPushButton(tr("Unassign strap"))
        self.unassign_button.clicked.connect(self.unassign)
        self.missed_button = QPushButton(tr("Why missed…"))
        self.missed_button.setToolTip(tr("Fill in why the selected participant missed a "
                                         "session of the programme"))
        self.missed_button.clicked.connect(self.why_missed)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.missed_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.unassign_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.programme)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.render()

    # -- redraw -------------------------------------------------------------------------
    def render(self) -> None:
        """Show the model's roster (keeps an HRmax being typed and the selection)."""
        table = self.table
        hints = self.model.missing_hints()
        selected = self.selected_code()
        table.blockSignals(True)
        try:
            table.setRowCount(len(self.model.entries))
            for row, entry in enumerate(self.model.entries):
                self._render_row(row, entry, hints.get(entry.study_code))
        finally:
            table.blockSignals(False)
        table.setColumnHidden(SESSION, self.model.programme is None)
        self.missed_button.setEnabled(self.model.programme is not None)
        if selected is not None and self.selected_code() != selected:
            row = table.row_of(selected)
            if row >= 0:
                table.selectRow(row)
        # The last column (what to check) wraps its sentences rather than scroll sideways.
        fit_columns_stretching_last(table, max(CHECK_MIN_PX, last_column_hint_px(
            table, with_cells=False)))
        table.resizeRowsToContents()

    def _render_row(self, row: int, entry: RosterEntry, hint: str | None) -> None:
        editing = (self.table.state() == QAbstractItemView.State.EditingState
                   and self.table.currentRow() == row)
        info = entry.info
        grey = QBrush(QColor("black" if entry.attending else ABSENT_COLOUR))
        here = self._item(row, HERE, "")
        here.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDropEnabled)
        here.setData(CODE_ROLE, entry.study_code)
        state = Qt.CheckState.Checked if entry.attending else Qt.CheckState.Unchecked
        if here.data(Qt.ItemDataRole.CheckStateRole) is None or here.checkState() != state:
            here.setCheckState(state)
        here.setToolTip(tr("Here today"))
        self._item(row, NAME, info.display_name).setForeground(grey)
        self._item(row, CODE, info.study_code).setForeground(grey)
        strap = self._item(row, STRAP, self._strap_text(entry, hint))
        strap.setToolTip("\n".join(entry.strap_ids) or tr("No strap: drag one here from the "
                                                           "straps nearby."))
        strap.setForeground(QBrush(QColor(WARNING_COLOUR)) if hint else grey)
        if not editing:
            hrmax = self._item(row, HRMAX, _hrmax_text(entry), editable=True)
            hrmax.setForeground(grey)
            hrmax.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._item(row, METHOD, _method_text(entry)).setForeground(grey)
        session, tip = due_text(self.model.programme, entry.study_code, self.model.today)
        cell = self._item(row, SESSION, session)
        cell.setForeground(grey)
        cell.setToolTip(tip)
        # What to check before the start: a strap not found, a blunted heart rate.
        notes = [hint] if hint else []
        if info.beta_blocker:
            notes.append(tr(BETA_BLOCKER_NOTE))
        check = self._item(row, CHECK, "\n".join(notes))
        check.setForeground(QBrush(QColor(WARNING_COLOUR if hint else BETA_COLOUR)))
        check.setToolTip(check.text())

    def _strap_text(self, entry: RosterEntry, hint: str | None) -> str:
        if entry.strap_id is None:
            return NO_VALUE
        # A dual-mode strap is one strap: its name, and the other radio it is heard on.
        name = " + ".join([self.model.strap_name(entry.strap_id),
                           *(radio_word(i) for i in entry.also_strap_ids)])
        return f"⚠ {name}" if hint else name

    def _item(self, row: int, col: int, text: str, *, editable: bool = False
              ) -> QTableWidgetItem:
        item = self.table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if editable:
                flags |= Qt.ItemFlag.ItemIsEditable
            item.setFlags(flags | Qt.ItemFlag.ItemIsDropEnabled)
            self.table.setItem(row, col, item)
        if item.text() != text:  # an unchanged cell stays untouched: no flicker
            item.setText(text)
        return item

    # -- what the operator does ---------------------------------------------------------
    def selected_code(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.code_of_row(rows[0].row()) if rows else None

    def select(self, study_code: str) -> None:
        row = self.table.row_of(study_code)
        if row >= 0:
            self.table.selectRow(row)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        study_code = self.table.code_of_row(item.row())
        if study_code is None:
            return
        if item.column() == HERE:
            self.model.set_attending(study_code, item.checkState() == Qt.CheckState.Checked)
            self.changed.emit()
        elif item.column() == HRMAX:
            self._set_hrmax(study_code, item.text())

    def _set_hrmax(self, study_code: str, text: str) -> None:
        text = text.strip()
        try:
            if not text:
                self.model.reset_hrmax_today(study_code)
            else:
                try:
                    bpm = float(text.replace(",", "."))
                except ValueError:
                    raise SetupError(tr("HRmax {text} is not a number; type the beats per "
                                        "minute, e.g. 172.").format(text=text)) from None
                self.model.set_hrmax_today(study_code, bpm)
        except SetupError as err:
            self.message.emit(str(err))
        # The editor is still closing, so render() would leave this cell alone: show the
        # value in force now (a refused one goes back to what it was).
        row = self.table.row_of(study_code)
        self.table.blockSignals(True)
        try:
            self.table.item(row, HRMAX).setText(_hrmax_text(self.model.entry(study_code)))
        finally:
            self.table.blockSignals(False)
        self.render()
        self.changed.emit()

    def _double_clicked(self, row: int, col: int) -> None:
        if col not in (HRMAX, HERE):
            self.edit_participant()

    def _context_menu(self, pos: QPoint) -> None:
        code = self.table.code_at(pos)
        if code is None or self.model.programme is None:
            return
        self.select(code)
        menu = QMenu(self)
        menu.addAction(tr("Why missed…"), self.why_missed)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def why_missed(self) -> None:
        """The reason dialog for the selected participant's missed sessions."""
        study_code = self.selected_code()
        day = self.model.programme
        if study_code is None or day is None:
            self.message.emit(tr("Select a participant in the roster first."))
            return
        name = self.model.entry(study_code).info.display_name
        if study_code not in day.due:
            self.message.emit(tr("{name} is not enrolled in programme {programme}.").format(
                name=name, programme=day.name))
            return
        try:
            missed = missed_sessions(self.db, day.name, study_code)
        except (StorageError, RegistryError) as err:
            self.message.emit(str(err))
            return
        if not missed:
            self.message.emit(tr("{name} has missed no session of programme {programme}.")
                              .format(name=name, programme=day.name))
            return
        if self.dialog is not None:
            self.dialog.close()
        dialog = MissedDialog(self.db, day.name, study_code, name, missed, parent=self)
        dialog.saved.connect(self.message)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()

    def unassign(self) -> None:
        study_code = self.selected_code()
        if study_code is None:
            self.message.emit(tr("Select a participant in the roster first."))
            return
        entry = self.model.entry(study_code)
        if entry.strap_id is not None:
            self.model.unassign(study_code)
            self.message.emit(tr("{name} has no strap now.").format(
                name=entry.info.display_name))
        self.changed.emit()

    def add_participant(self) -> None:
        self._open_dialog(None)

    def edit_participant(self) -> None:
        study_code = self.selected_code()
        if study_code is None:
            self.message.emit(tr("Select a participant in the roster first."))
            return
        self._open_dialog(self.model.entry(study_code))

    def _open_dialog(self, entry: RosterEntry | None) -> None:
        if self.dialog is not None:
            self.dialog.close()
        info = entry.info if entry is not None else None
        dialog = ParticipantDialog(self.db, self.model.today, info, parent=self)
        dialog.saved.connect(self._saved)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()  # window-modal, and the timer keeps redrawing behind it

    def _dialog_closed(self, dialog: ParticipantDialog | MissedDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _saved(self, old_code: str, info: ParticipantInfo) -> None:
        if old_code:
            self.model.update_roster(old_code, info)
            self.message.emit(tr("{name} saved.").format(name=info.display_name))
        else:
            self.model.add_to_roster(info)
            self.message.emit(tr("{name} registered and ticked as here today.").format(
                name=info.display_name))
        self.changed.emit()
        self.select(info.study_code)


def _hrmax_text(entry: RosterEntry) -> str:
    return NO_VALUE if entry.hrmax is None else f"{entry.hrmax.bpm:.0f}"


def _method_text(entry: RosterEntry) -> str:
    if entry.hrmax is None:
        return tr("unknown")
    if entry.hrmax_edited:
        return tr("today")
    return tr(METHOD_WORD[entry.hrmax.method])
