"""The straps heard nearby, live: signal, connection, heart rate once connected, battery and
who wears it. "Show heart rate" connects a strap nobody wears yet, so the operator can tell
straps apart by whose number moves; a strap is assigned by dragging its row onto a
participant, or with "Assign →"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.class_setup import ClassSetup, NearbyStrap
from hiaim_monitor.display import NO_VALUE, battery_pct_low
from hiaim_monitor.i18n import tr
from hiaim_monitor.samples import StrapState
from hiaim_monitor.strap_notes import shown_detail
from ui.setup.columns import fit_columns_stretching_last, last_column_hint_px
from ui.setup.strap_drag import STRAP_MIME, strap_mime

COLUMNS: Final = ("Show HR", "Strap", "Signal (dBm)", "Connection", "bpm", "Battery", "Worn by")
SHOW, NAME, SIGNAL, STATE, BPM, BATTERY, WEARER = range(len(COLUMNS))
STRAP_ROLE: Final = Qt.ItemDataRole.UserRole
SHOW_TIP: Final = ("Show heart rate: connect the strap and show its heart rate, to tell "
                   "straps apart.")
# dBm at or above which 1, 2, 3, 4 bars show (a strap on the desk reads about −50).
BARS_FROM_DBM: Final = (-90, -80, -70, -60)
BAR_ON, BAR_OFF = "▮", "▯"
GREY: Final = "gray"
LIVE_COLOUR: Final = "#007A55"
WARNING_COLOUR: Final = "#C00000"
STATE_WORD: Final = {
    None: "advertising",
    StrapState.DISCOVERED: "advertising",
    StrapState.CONNECTING: "connecting",
    StrapState.STREAMING: "connected",
    StrapState.RECONNECTING: "reconnecting",
    StrapState.LOST: "lost",
    StrapState.FAILED: "failed",
    StrapState.STOPPED: "disconnected",
}
# ANT+ has no connections: a strap broadcasts, and the stick listens for it and receives it.
ANT_STATE_WORD: Final = {
    None: "broadcasting",
    StrapState.DISCOVERED: "broadcasting",
    StrapState.CONNECTING: "listening",
    StrapState.STREAMING: "receiving",
    StrapState.RECONNECTING: "listening",
}


def state_word(strap_id: str, state: StrapState | None) -> str:
    """What the Connection column says of a strap in ``state`` (in English)."""
    if strap_id.startswith("ant:") and state in ANT_STATE_WORD:
        return ANT_STATE_WORD[state]
    return STATE_WORD[state]


def signal_text(rssi_dbm: int | None) -> str:
    """A few bars and the dBm: "▮▮▮▯ -67"."""
    if rssi_dbm is None:
        return NO_VALUE
    bars = sum(rssi_dbm >= edge for edge in BARS_FROM_DBM)
    return f"{BAR_ON * bars}{BAR_OFF * (len(BARS_FROM_DBM) - bars)} {rssi_dbm}"


class StrapTable(QTableWidget):
    """The nearby straps; a row dragged out carries its strap id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.horizontalHeaderItem(SHOW).setToolTip(tr(SHOW_TIP))
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.LinkAction)
        header = self.horizontalHeader()
        # Columns are fitted once per redraw (fit_columns), not by Qt's fit-to-contents
        # mode, which measures a whole column again on every cell change.
        header.setStretchLastSection(True)

    def strap_of_row(self, row: int) -> str | None:
        item = self.item(row, NAME)
        return item.data(STRAP_ROLE) if item is not None else None

    def row_of(self, strap_id: str) -> int:
        for row in range(self.rowCount()):
            if self.strap_of_row(row) == strap_id:
                return row
        return -1

    def cell_texts(self, row: int) -> dict[str, str]:
        """What one row says, by (English) column title: for tests and accessibility."""
        return {c: self.item(row, i).text() for i, c in enumerate(COLUMNS)}

    def mimeTypes(self) -> list[str]:
        return [STRAP_MIME, "text/plain"]

    def mimeData(self, items: Sequence[QTableWidgetItem]) -> QMimeData:
        rows = sorted({item.row() for item in items})
        strap_id = self.strap_of_row(rows[0]) if rows else None
        return strap_mime(strap_id or "")

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.LinkAction | Qt.DropAction.CopyAction


class PairingPanel(QWidget):
    """``assign_requested(strap_id)``: the operator pressed "Assign →" (or double-clicked a
    strap) to give that strap to the participant selected in the roster."""

    message = Signal(str)
    changed = Signal()
    assign_requested = Signal(str)

    def __init__(self, model: ClassSetup, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.title = QLabel(tr("Straps nearby"))
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.help = QLabel(tr("Drag a strap onto a participant, or select both and press "
                              "Assign. Tick \"Show heart rate\" to see whose number moves."))
        self.help.setWordWrap(True)
        self.help.setStyleSheet("color: #444;")
        # What is wrong with a radio as a whole (no ANT USB stick): the operator reads it
        # where the straps of that radio would be listed.
        self.radio_notice = QLabel()
        self.radio_notice.setWordWrap(True)
        self.radio_notice.setStyleSheet(f"color: {WARNING_COLOUR}; font-weight: bold;")
        self.radio_notice.setVisible(False)
        self.table = StrapTable()
        self.table.itemChanged.connect(self._item_changed)
        self.table.cellDoubleClicked.connect(lambda row, col: self._assign_row(row)
                                             if col != SHOW else None)
        self.empty = QLabel(tr("No strap heard yet: wet the strap's electrodes and put it "
                               "on; a strap held by a phone is not heard."))
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #666; font-style: italic;")
        self.assign_button = QPushButton(tr("Assign →"))
        bold = QFont(self.assign_button.font())
        bold.setBold(True)
        self.assign_button.setFont(bold)
        self.assign_button.clicked.connect(self.assign_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.empty, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.assign_button, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.help)
        layout.addWidget(self.radio_notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.render()

    def needed_width(self) -> int:
        """Pixels the table needs to show every column whole, without scrolling sideways."""
        table = self.table
        header = table.horizontalHeader()
        # The last column stretches to the width it has; what it needs is less.
        columns_px = sum(header.sectionSize(c) for c in range(WEARER))
        columns_px += last_column_hint_px(table, with_cells=True)
        return columns_px + 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()

    def selected_strap(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.strap_of_row(rows[0].row()) if rows else None

    def render(self) -> None:
        straps = self.model.nearby()
        selected = self.selected_strap()
        table = self.table
        table.blockSignals(True)
        try:
            table.setRowCount(len(straps))
            for row, strap in enumerate(straps):
                self._render_row(row, strap)
        finally:
            table.blockSignals(False)
        fit_columns_stretching_last(table, last_column_hint_px(table, with_cells=True))
        row = table.row_of(selected) if selected is not None else -1
        if row >= 0:
            table.selectRow(row)
        else:
            table.clearSelection()
        self.empty.setVisible(not straps)
        notes = [shown_detail(note, "") for _radio, note in sorted(self.model.radio_notes.items())]
        text = "\n".join(f"⚠ {n}" for n in notes)
        if self.radio_notice.text() != text:
            self.radio_notice.setText(text)
        self.radio_notice.setVisible(bool(notes))

    def _render_row(self, row: int, strap: NearbyStrap) -> None:
        wearer = self.model.wearer(strap.strap_id)
        show = self._item(row, SHOW, "")
        show.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
        state = (Qt.CheckState.Checked if self.model.previewing(strap.strap_id)
                 else Qt.CheckState.Unchecked)
        if show.data(Qt.ItemDataRole.CheckStateRole) is None or show.checkState() != state:
            show.setCheckState(state)
        show.setToolTip(tr(SHOW_TIP))
        # The name is what is printed on the strap; the address tells two of a kind apart.
        text = f"{strap.name}\n{strap.strap_id}" if strap.name else strap.strap_id
        name = self._item(row, NAME, text)
        name.setData(STRAP_ROLE, strap.strap_id)
        name.setToolTip(strap.strap_id)
        self._item(row, SIGNAL, signal_text(strap.rssi_dbm))
        connection = self._item(row, STATE, tr(state_word(strap.strap_id, strap.state)))
        connection.setToolTip(shown_detail(strap.note, strap.detail))
        failed = strap.state in (StrapState.FAILED, StrapState.LOST)
        connection.setForeground(QBrush(QColor(WARNING_COLOUR if failed else "black")))
        bpm = self._item(row, BPM, NO_VALUE if strap.bpm is None else str(strap.bpm))
        bpm.setForeground(QBrush(QColor(GREY if strap.bpm is None else LIVE_COLOUR)))
        font = QFont(self.table.font())
        font.setBold(strap.bpm is not None)
        bpm.setFont(font)
        bpm.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        battery = self._item(row, BATTERY, NO_VALUE if strap.battery_pct is None
                             else f"{strap.battery_pct} %")
        low = battery_pct_low(strap.battery_pct)
        battery.setForeground(QBrush(QColor(WARNING_COLOUR if low else "black")))
        self._item(row, WEARER, wearer.info.display_name if wearer is not None else "")

    def _item(self, row: int, col: int, text: str) -> QTableWidgetItem:
        item = self.table.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self.table.setItem(row, col, item)
        if item.text() != text:
            item.setText(text)
        return item

    # -- what the operator does ---------------------------------------------------------
    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != SHOW:
            return
        strap_id = self.table.strap_of_row(item.row())
        if strap_id is None:
            return
        on = item.checkState() == Qt.CheckState.Checked
        self.model.set_preview(strap_id, on)
        if on:
            self.message.emit(tr("Connecting {strap} to show its heart rate…").format(
                strap=self.model.strap_name(strap_id)))
        self.changed.emit()

    def assign_selected(self) -> None:
        strap_id = self.selected_strap()
        if strap_id is None:
            self.message.emit(tr("Select a strap in the list of straps nearby first."))
            return
        self.assign_requested.emit(strap_id)

    def _assign_row(self, row: int) -> None:
        strap_id = self.table.strap_of_row(row)
        if strap_id is not None:
            self.assign_requested.emit(strap_id)
