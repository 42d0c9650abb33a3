"""A minimal live window: the phase header and one table row per participant, redrawn from
session snapshots on a fixed-rate timer. The control window and wall screen replace it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import SessionSnapshot, SignalState
from hiaim_monitor.i18n import tr
from hiaim_monitor.terminal_view import CLASS_WORD, SIGNAL_WORD, mmss

# Okabe & Ito's colour-blind-safe palette (2008), one colour per class.
CLASS_COLOUR = {
    Level.BELOW: "#56B4E9",
    Level.INTERMEDIATE: "#E69F00",
    Level.HIGH: "#D55E00",
    Level.ABOVE_CEILING: "#CC79A7",
}
COLUMNS = ("Name", "bpm", "% HRmax", "Class", "Signal", "Battery")


class LiveTableWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("HI AIM Monitor")
        self.header = QLabel()
        font = QFont()
        font.setPointSize(14)
        font.setBold(True)
        self.header.setFont(font)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.header)
        layout.addWidget(self.table)
        self.setCentralWidget(body)
        self.resize(720, 420)

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        if snap.finished:
            head = tr("Session finished")
        elif snap.position is None:
            head = tr("Waiting to start")
        else:
            pos = snap.position
            head = f"{pos.phase.name} — {mmss(pos.remaining_s)} {tr('left')}"
            if pos.next_phase is not None:
                head += f"   {tr('next')}: {pos.next_phase.name}"
        self.header.setText(f"{snap.protocol.name}   {head}")
        self.table.setRowCount(len(snap.participants))
        for row, p in enumerate(snap.participants):
            signal = tr(SIGNAL_WORD[p.signal])
            if p.signal is SignalState.STALE and p.age_s is not None:
                signal += f" ({p.age_s:.0f} s)"
            cells = (
                p.display_name,
                "—" if p.bpm is None else str(p.bpm),
                "—" if p.pct_hrmax is None else f"{p.pct_hrmax:.0f} %",
                "—" if p.level not in CLASS_WORD else tr(CLASS_WORD[p.level]),
                signal,
                "" if p.battery_pct is None else f"{p.battery_pct} %",
            )
            for col, text in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, col, item)
                item.setText(text)
                live = p.signal is SignalState.LIVE
                item.setForeground(QBrush(QColor("black" if live else "gray")))
            class_item = self.table.item(row, 3)
            colour = CLASS_COLOUR.get(p.level) if p.level is not None else None
            class_item.setBackground(QBrush(QColor(colour or "white")))
