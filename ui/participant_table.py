"""The participant table both the live window and the control window show: one row per
participant, filled from a snapshot. Which columns appear is the caller's choice."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem, QWidget

from hiaim_monitor.display import (
    ALARM_WORD,
    CLASS_COLOUR,
    NO_VALUE,
    SIGNAL_WORD,
    battery_low,
    class_word,
    mmss,
    no_rr_mark,
    radio_word,
)
from hiaim_monitor.engine.snapshot import ParticipantView, SignalState
from hiaim_monitor.i18n import tr
from hiaim_monitor.strap_notes import shown_detail
from ui.wall.palette import text_on


def _signal(p: ParticipantView) -> str:
    word = tr(SIGNAL_WORD[p.signal])
    if p.signal is SignalState.STALE and p.age_s is not None:
        word += f" ({p.age_s:.0f} s)"
    return word


def _strap(p: ParticipantView) -> str:
    parts = [] if p.strap_state is None else [tr(p.strap_state.value)]
    if mark := no_rr_mark(p):
        parts.append(mark)
    if p.battery_pct is not None:
        parts.append(f"{p.battery_pct} %")
    return " · ".join(parts)


def _shows_number(p: ParticipantView) -> bool:
    # A lost strap never shows an old number, whatever the engine still holds.
    return p.signal is not SignalState.LOST


def _bpm(p: ParticipantView) -> str:
    return str(p.bpm) if p.bpm is not None and _shows_number(p) else NO_VALUE


def _pct(p: ParticipantView) -> str:
    ok = p.pct_hrmax is not None and _shows_number(p)
    return f"{p.pct_hrmax:.0f} %" if ok else NO_VALUE


def _class(p: ParticipantView) -> str:
    return class_word(p.level) if _shows_number(p) and p.level in CLASS_COLOUR else NO_VALUE


# Column title (English, translated on display) → what the cell says for one participant.
CELL: dict[str, Callable[[ParticipantView], str]] = {
    "Name": lambda p: p.display_name,
    "Strap": _strap,
    "Radio": lambda p: radio_word(p.via_strap_id),
    "bpm": _bpm,
    "% HRmax": _pct,
    "Class": _class,
    "Signal": _signal,
    "Battery": lambda p: "" if p.battery_pct is None else f"{p.battery_pct} %",
    "In target": lambda p: "" if p.target is None else mmss(p.in_target_s),
    "Intervals": lambda p: (f"{p.intervals_achieved}/{p.intervals_judged}"
                            if p.intervals_judged else ""),
    "Alarms": lambda p: ", ".join(tr(ALARM_WORD[a]) for a in p.alarms),
}


def fit_columns(table: QTableWidget) -> None:
    """Each column as wide as its widest cell, once (the stretched last one takes the rest).
    Qt's own fit-to-contents mode measures a whole column again on every cell change,
    which at 40 rows redrawn ten times a second froze the window for up to 0.2 s."""
    table.resizeColumnsToContents()


class ParticipantTable(QTableWidget):
    """Read-only table; live rows in black, stale and lost rows in grey, the class cell in
    its class colour."""

    def __init__(self, columns: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(columns), parent)
        self.columns = tuple(columns)
        self.setHorizontalHeaderLabels([tr(c) for c in self.columns])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._shown: list[object] = []  # per row, what it shows now
        self._fit_columns = False

    def stretch_last(self) -> None:
        """Size columns to their contents and give the rest of the width to the last."""
        self._fit_columns = True
        self.horizontalHeader().setStretchLastSection(True)

    def show_participants(self, participants: Sequence[ParticipantView]) -> None:
        """Fill the rows; a row whose cells say what they said is left alone, and the
        columns are fitted to their contents once afterwards (see fit_columns)."""
        if self.rowCount() != len(participants):
            self.setRowCount(len(participants))
            self._shown = [None] * len(participants)
        changed = False
        for row, p in enumerate(participants):
            texts = tuple(CELL[name](p) for name in self.columns)
            live = p.signal is SignalState.LIVE
            attention = tuple(name in ("Alarms", "Strap") and _needs_attention(name, p)
                              for name in self.columns)
            strap_tip = shown_detail(p.strap_note, "")  # why the strap is in its state
            shown = (texts, live, p.level, attention, strap_tip)
            if self._shown[row] == shown:
                continue
            self._shown[row] = shown
            changed = True
            text_colour = QBrush(QColor("black" if live else "gray"))
            for col, name in enumerate(self.columns):
                item = self.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, col, item)
                if item.text() != texts[col]:
                    item.setText(texts[col])
                if name == "Strap":
                    item.setToolTip(strap_tip)
                item.setForeground(QBrush(QColor("#C00000")) if attention[col] else text_colour)
                if name == "Class":
                    # The wall's class colours; a stale class is only grey text, as its row.
                    colour = CLASS_COLOUR.get(p.level) if live and p.level is not None else None
                    item.setBackground(QBrush(QColor(colour or "white")))
                    if colour is not None:
                        item.setForeground(QBrush(QColor(text_on(colour))))
        if changed and self._fit_columns:
            fit_columns(self)

    def cell_texts(self, row: int) -> list[str]:
        """What one row says, column by column (for tests and accessibility)."""
        return [self.item(row, c).text() for c in range(self.columnCount())]


def _needs_attention(column: str, p: ParticipantView) -> bool:
    if column == "Alarms":
        return bool(p.alarms)
    return battery_low(p)
