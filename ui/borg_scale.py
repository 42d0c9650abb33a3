"""Borg's RPE scale as a row of buttons, 6 to 20, with its verbal anchors under them: one
click gives a rating. The buttons never take the keyboard (Space stays the session's)."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import RPE_MAX, RPE_MIN

# The verbal anchors of Borg's RPE scale (Borg 1982, "Psychophysical bases of perceived
# exertion", Med Sci Sports Exerc 14:377–381; wording as in Borg 1998, "Borg's Perceived
# Exertion and Pain Scales", Human Kinetics). Four are written under the buttons; every
# anchor is in its button's tooltip.
BORG_ANCHORS: Final = {6: "No exertion", 7: "Extremely light", 9: "Very light", 11: "Light",
                       13: "Somewhat hard", 15: "Hard (heavy)", 17: "Very hard",
                       19: "Extremely hard", 20: "Maximal exertion"}
SHOWN_ANCHORS: Final = (6, 13, 17, 20)
BUTTON_MIN_PX: Final = 30


class BorgScale(QWidget):
    chosen = Signal(int)  # the rating clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[int, QPushButton] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(2)
        for value in range(RPE_MIN, RPE_MAX + 1):
            button = QPushButton(str(value))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(BUTTON_MIN_PX)
            button.clicked.connect(lambda _checked=False, v=value: self.chosen.emit(v))
            if value in BORG_ANCHORS:
                button.setToolTip(f"{value} {tr(BORG_ANCHORS[value])}")
            grid.addWidget(button, 0, value - RPE_MIN)
            grid.setColumnStretch(value - RPE_MIN, 1)  # every number as wide as the others
            self.buttons[value] = button
        self.anchors = AnchorRow({v: self.buttons[v] for v in SHOWN_ANCHORS})
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(grid)
        layout.addWidget(self.anchors)


class AnchorRow(QWidget):
    """The scale's verbal anchors, each centred under its button (the first and last kept
    inside the row), however wide the buttons are laid out; one that would overlap the
    one before it goes on a second line (Danish words are longer)."""

    GAP_PX: Final = 8

    def __init__(self, buttons: dict[int, QPushButton], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons = buttons
        self.labels: dict[int, QLabel] = {}
        for value in buttons:
            label = QLabel(f"{value} {tr(BORG_ANCHORS[value])}", self)
            label.setStyleSheet("color: #444444; font-size: 8pt;")
            label.adjustSize()
            self.labels[value] = label
        self.line_px = max(lb.height() for lb in self.labels.values())
        self.setMinimumHeight(2 * self.line_px)
        for button in buttons.values():
            button.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Move, QEvent.Type.Resize):
            self._place()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        right = [-self.GAP_PX, -self.GAP_PX]  # where each line's last label ends
        for value in sorted(self.labels):
            label, button = self.labels[value], self.buttons[value]
            centre = self.mapFromGlobal(button.mapToGlobal(button.rect().center())).x()
            x = max(0, min(centre - label.width() // 2, self.width() - label.width()))
            line = 0 if x >= right[0] + self.GAP_PX else 1
            label.move(x, line * self.line_px)
            right[line] = x + label.width()
