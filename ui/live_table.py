"""A minimal live window: the phase header and one table row per participant, redrawn from
session snapshots on a fixed-rate timer. The control window and wall screen replace it."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import tr
from hiaim_monitor.terminal_view import mmss
from ui.participant_table import CLASS_COLOUR, ParticipantTable

__all__ = ["CLASS_COLOUR", "COLUMNS", "LiveTableWindow"]

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
        self.table = ParticipantTable(COLUMNS)
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
        self.table.show_participants(snap.participants)
