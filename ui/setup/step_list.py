"""The protocol editor's lists: the steps of a protocol, and the phases of a repeated group,
each with buttons to add, remove and move; and the form of a repeated group (its rounds
and its phases, each edited in a phase form)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.display import mmss
from hiaim_monitor.i18n import language, tr
from hiaim_monitor.protocols.document import (
    Step,
    StepKind,
    Table,
    new_phase,
    text_from_value,
    value_from_text,
)
from ui.setup.step_forms import ERROR_COLOUR, Fields, PhaseForm

LIST_MIN_PX: Final = 220
PHASE_LIST_PX: Final = 110  # a group's phases: a few lines, leaving room for the form


class StepList(QWidget):
    """The items of a list the document owns (its steps, or a group's phases), one line
    each. ``makers``: a button per kind of item to add, inserted after the current one."""

    changed = Signal()  # items added, removed or moved
    current_changed = Signal(int)  # row; -1 for none

    def __init__(self, describe: Callable[[Any], str],
                 makers: list[tuple[str, Callable[[], Any]]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.describe = describe
        self.items: list[Any] = []
        self.list = QListWidget()
        self.list.setMinimumWidth(LIST_MIN_PX)
        self.list.currentRowChanged.connect(self.current_changed)
        self.add_buttons: list[QPushButton] = []
        for words, make in makers:
            button = QPushButton(words)
            button.clicked.connect(lambda _=False, make=make: self.add(make()))
            self.add_buttons.append(button)
        self.remove_button = QPushButton(tr("Remove"))
        self.remove_button.clicked.connect(self.remove)
        self.up_button = QPushButton(tr("Up"))
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button = QPushButton(tr("Down"))
        self.down_button.clicked.connect(lambda: self.move(+1))
        adding = QHBoxLayout()
        for button in self.add_buttons:
            adding.addWidget(button)
        moving = QHBoxLayout()
        for button in (self.remove_button, self.up_button, self.down_button):
            moving.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(adding)
        layout.addLayout(moving)
        self.list.currentRowChanged.connect(lambda _: self._enable())

    def bind(self, items: list[Any]) -> None:
        """Show ``items`` (the document's own list, changed in place) and select the
        first."""
        self.items = items
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for _ in items:
                self.list.addItem(QListWidgetItem(""))
            self.redraw()
            self.list.setCurrentRow(0 if items else -1)
        finally:
            self.list.blockSignals(False)
        self._enable()
        self.current_changed.emit(self.list.currentRow())

    def current(self) -> int:
        return self.list.currentRow()

    def select(self, row: int) -> None:
        self.list.setCurrentRow(row)

    def redraw(self) -> None:
        """Each line as its item now reads (numbered), without marks."""
        for row, item in enumerate(self.items):
            line = self.list.item(row)
            line.setText(f"{row + 1}. {self.describe(item)}")
            line.setForeground(QBrush())
            line.setToolTip("")

    def mark(self, row: int, text: str) -> None:
        """Show that the loader refused something in item ``row`` (``text`` on hover)."""
        line = self.list.item(row)
        if line is not None:
            line.setForeground(QBrush(QColor(ERROR_COLOUR)))
            line.setText(f"{row + 1}. ⚠ {self.describe(self.items[row])}")
            line.setToolTip(text)

    # -- what the operator does ---------------------------------------------------------
    def add(self, item: Any) -> None:
        row = self.current() + 1 if self.current() >= 0 else len(self.items)
        self.items.insert(row, item)
        self.list.insertItem(row, QListWidgetItem(""))
        self.redraw()
        self.changed.emit()
        self.list.setCurrentRow(row)

    def remove(self) -> None:
        row = self.current()
        if row < 0:
            return
        del self.items[row]
        self.list.blockSignals(True)
        try:
            self.list.takeItem(row)
            self.list.setCurrentRow(min(row, len(self.items) - 1))
        finally:
            self.list.blockSignals(False)
        self.redraw()
        self.changed.emit()
        self._enable()
        self.current_changed.emit(self.current())

    def move(self, delta: int) -> None:
        row = self.current()
        to = row + delta
        if row < 0 or not 0 <= to < len(self.items):
            return
        self.items[row], self.items[to] = self.items[to], self.items[row]
        self.redraw()
        self.changed.emit()
        self.list.setCurrentRow(to)

    def _enable(self) -> None:
        row = self.current()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < len(self.items) - 1)


class GroupForm(Fields):
    """A repeated group: how many rounds, whether the last round ends with its last phase,
    and its phases. ``phase_shown`` when another of its phases is opened."""

    phase_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row(tr("Rounds"), self.number("repeat"), "×")
        self.row("", self.flag("trailing_rest", tr("The last round ends with its last phase "
                                                   "too")))
        self.phases = StepList(describe_phase, [(tr("Add phase"), new_phase)])
        self.phases.list.setMaximumHeight(PHASE_LIST_PX)
        self.phase_form = PhaseForm()
        self.form.addRow(self.phases)
        self.form.addRow(self.phase_form)
        self.phases.current_changed.connect(self._show_phase)
        self.phases.changed.connect(self.edited)
        self.phase_form.edited.connect(self._phase_edited)

    def bind(self, table: Table) -> None:
        super().bind(table)
        assert isinstance(table, Step)
        self.phases.bind(table.phases)

    def _show_phase(self, row: int) -> None:
        self.phase_form.setVisible(row >= 0)
        if row >= 0:
            self.phase_form.bind(self.phases.items[row])
        self.phase_shown.emit()

    def _phase_edited(self) -> None:
        self.phases.redraw()
        self.edited.emit()

    def show_phase_error(self, phase: int, key: str, text: str) -> None:
        """The loader's ``text`` on ``key`` of phase ``phase`` (0-based): beside the field
        when that phase is open, else as a mark on its line."""
        self.clear_errors()
        if phase == self.phases.current():
            self.phase_form.show_error(key, text)
        else:
            self.phases.mark(phase, text)

    def clear_errors(self) -> None:
        super().clear_errors()
        self.phase_form.clear_errors()
        self.phases.redraw()


# -- one line per item ----------------------------------------------------------------
def _name(table: Table, key: str = "name") -> str:
    name = table.get(f"{key}_{language()}") or table.get(key)
    return str(name).strip() if name not in (None, "") else tr("(no name)")


def _seconds(table: Table) -> float | None:
    for key, factor in (("duration_s", 1), ("duration_min", 60)):
        value = value_from_text(str(table.get(key, "")))
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) * factor
    return None


def _number(table: Table, key: str) -> str:
    return text_from_value(table.get(key)) or "?"


def describe_phase(table: Table) -> str:
    seconds = _seconds(table)
    kind = str(table.get("kind", ""))
    words = [_name(table), mmss(seconds) if seconds is not None else "?", tr(kind)]
    return " · ".join(w for w in words if w)


def describe_step(step: Step) -> str:
    if step.kind is StepKind.GROUP:
        names = " / ".join(_name(p) for p in step.phases)
        return tr("{n} × ({phases})").format(n=_number(step, "repeat"), phases=names)
    if step.kind is StepKind.BLOCK:
        return tr("{name}: {n} × {work} s / {rest} s").format(
            name=_name(step, "block"), n=_number(step, "repeat"), work=_number(step, "work_s"),
            rest=_number(step, "rest_s"))
    return describe_phase(step)
