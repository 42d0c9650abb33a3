"""The protocol editor's forms: labelled fields bound to one table of a protocol document
(the top level, the class limits, a phase, a repeated group, a block). A field writes its
file key as the operator types; a number field keeps what was typed when it is no number,
so the file loader refuses it in its own words. ``show_error`` puts the loader's sentence
under the field that has its key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.i18n import SOURCE_LANGUAGE, available_languages, tr
from hiaim_monitor.protocols import STATIONS, AchievedRule, PhaseKind, station_label
from hiaim_monitor.protocols.document import Table, Value, text_from_value, value_from_text

ERROR_COLOUR: Final = "#C00000"
HINT_COLOUR: Final = "#666666"
ERROR_BORDER: Final = f"border: 2px solid {ERROR_COLOUR};"
NUMBER_PX: Final = 70  # a number field's width: room for "100" or "0.75"
# Each shipped language's name, for the labels of its translation fields.
LANGUAGE_WORDS: Final = {"da": "Danish"}
ACHIEVED_WORDS: Final = {
    AchievedRule.PEAK: "peak % HRmax reached the target",
    AchievedRule.TIME: "time at or above the target, a share of the block",
    AchievedRule.BOUTS: "bouts whose peak reached the target, a share of them",
}


def translations() -> list[str]:
    """The languages a file's texts are translated into (name_da, ...)."""
    return [code for code in available_languages() if code != SOURCE_LANGUAGE]


def in_language(label: str, code: str) -> str:
    return tr("{field} in {language}").format(
        field=label, language=tr(LANGUAGE_WORDS[code]) if code in LANGUAGE_WORDS else code)


class Fields(QWidget):
    """A form bound to one table; ``edited`` after the operator changed a field."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = Table()
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self._fill: list[Callable[[Table], None]] = []
        self._errors: dict[str, QLabel] = {}  # file key → the label under its row
        self._widgets: dict[str, QWidget] = {}  # file key → the field that writes it
        self._loading = False

    def bind(self, table: Table) -> None:
        """Show ``table`` and write to it from now on."""
        self.table = table
        self._loading = True
        try:
            for fill in self._fill:
                fill(table)
        finally:
            self._loading = False

    def _write(self, key: str, value: Value | None) -> None:
        if not self._loading:
            self.table.set(key, value)
            self.edited.emit()

    # -- fields -------------------------------------------------------------------------
    def text(self, key: str, *, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda text: self._write(key, text))
        def fill(table: Table) -> None:
            edit.setText(_as_text(table.get(key)))
            edit.setCursorPosition(0)  # a long description shows its start

        self._fill.append(fill)
        self._widgets[key] = edit
        return edit

    def number(self, key: str, *, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setFixedWidth(NUMBER_PX)
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda text: self._write(key, value_from_text(text)))
        self._fill.append(lambda t: edit.setText(text_from_value(t.get(key))))
        self._widgets[key] = edit
        return edit

    def choice(self, key: str, options: list[tuple[str, str]], default: str) -> QComboBox:
        """A pick of ``options`` (value, words); a value written by hand that is none of
        them is shown as it is, for the loader to name."""
        combo = QComboBox()
        for value, words in options:
            combo.addItem(words, value)

        def fill(table: Table) -> None:
            value = _as_text(table.get(key, default))
            index = combo.findData(value)
            if index < 0:
                combo.addItem(value, value)
                index = combo.count() - 1
            combo.setCurrentIndex(index)

        combo.currentIndexChanged.connect(lambda i: self._write(key, combo.itemData(i)))
        self._fill.append(fill)
        self._widgets[key] = combo
        return combo

    def station(self) -> QComboBox:
        """The known stations to pick from, or any text (the loader limits its length)."""
        combo = QComboBox()
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItem("", "")
        for key in STATIONS:
            combo.addItem(station_label(key), key)
        combo.lineEdit().setPlaceholderText(tr("none; pick one or type your own"))
        # Any change of the text shown (typed, picked, completed) is what the file gets.
        combo.editTextChanged.connect(lambda text: self._write("station", _station_key(text)))

        def fill(table: Table) -> None:
            combo.setEditText(station_label(_as_text(table.get("station"))))

        self._fill.append(fill)
        self._widgets["station"] = combo
        return combo

    def flag(self, key: str, words: str) -> QCheckBox:
        """A true/false key whose default is true (trailing_rest): ticked leaves it out."""
        box = QCheckBox(words)
        box.toggled.connect(lambda on: self._write(key, None if on else False))
        self._fill.append(lambda t: box.setChecked(t.get(key, True) is not False))
        self._widgets[key] = box
        return box

    def duration(self) -> QWidget:
        """duration_min or duration_s: a number and its unit."""
        edit = QLineEdit()
        edit.setFixedWidth(NUMBER_PX)
        unit = QComboBox()
        unit.addItem(tr("min"), "duration_min")
        unit.addItem(tr("s"), "duration_s")

        def write(*_: object) -> None:
            if self._loading:
                return
            self.table.set("duration_min", None)
            self.table.set("duration_s", None)
            self.table.set(unit.currentData(), value_from_text(edit.text()))
            self.edited.emit()

        def fill(table: Table) -> None:
            key = "duration_s" if "duration_s" in table.values else "duration_min"
            unit.setCurrentIndex(unit.findData(key))
            edit.setText(text_from_value(table.get(key)))

        edit.textEdited.connect(write)
        unit.currentIndexChanged.connect(write)  # the number stays; its unit changes
        self._fill.append(fill)
        self._widgets["duration_min"] = self._widgets["duration_s"] = edit
        return _row_of(edit, unit)

    def row(self, label: str, *parts: QWidget | str, hint: str = "") -> QLabel:
        """A form row of ``parts`` (fields, and words between them) with the error label
        under it; every key written by a part shows its error there."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(_row_of(*parts, hint=hint))
        error = QLabel()
        error.setWordWrap(True)
        error.setStyleSheet(f"color: {ERROR_COLOUR};")
        error.setVisible(False)
        column.addWidget(error)
        self.form.addRow(label, box)
        for key, widget in self._widgets.items():
            if key not in self._errors and _contains(box, widget):
                self._errors[key] = error
        return error

    # -- errors -------------------------------------------------------------------------
    def error_label(self, key: str) -> QLabel | None:
        return self._errors.get(key)

    def field(self, key: str) -> QWidget | None:
        return self._widgets.get(key)

    def show_error(self, key: str, text: str) -> bool:
        """Put ``text`` under the field of ``key`` (and mark the field); False when this
        form has no such field."""
        self.clear_errors()
        error = self._errors.get(key)
        if error is None:
            return False
        error.setText(text)
        error.setVisible(True)
        self._widgets[key].setStyleSheet(ERROR_BORDER)
        return True

    def clear_errors(self) -> None:
        for error in self._errors.values():
            error.setVisible(False)
        for widget in self._widgets.values():
            widget.setStyleSheet("")


def translated_rows(form: Fields, key: str, label: str, placeholder: str = "") -> None:
    """The text of ``key`` and one row per translation of it (name, name_da, ...)."""
    form.row(label, form.text(key, placeholder=placeholder))
    for code in translations():
        form.row(in_language(label, code), form.text(f"{key}_{code}",
                                                     placeholder=tr("as above if empty")))


def target_row(form: Fields) -> None:
    form.row(tr("Target"), form.number("target_min_pct"), "–",
             form.number("target_max_pct", placeholder=tr("ceiling")), tr("% HRmax"),
             hint=tr("no upper limit: up to the safety ceiling"))


class PhaseForm(Fields):
    """One phase: a step of its own or one of a repeated group's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        translated_rows(self, "name", tr("Name"), tr("what the wall shows, e.g. Warm-up"))
        self.row(tr("Kind"), self.choice("kind", [(k.value, tr(k.value)) for k in PhaseKind],
                                         PhaseKind.HIGH.value))
        self.row(tr("Duration"), self.duration())
        target_row(self)
        self.row(tr("Station"), self.station())


class BlockForm(Fields):
    """A block of short bouts: N × (work s / rest s), judged as a whole."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        translated_rows(self, "block", tr("Name"), tr("e.g. Sprints"))
        self.row(tr("Bouts"), self.number("repeat"), "×")
        self.row(tr("Work"), self.number("work_s"), tr("s"))
        self.row(tr("Rest"), self.number("rest_s"), tr("s"))
        self.row(tr("Kind"), self.choice("kind", [(k.value, tr(k.value)) for k in PhaseKind
                                                  if k.is_work], PhaseKind.HIGH.value))
        target_row(self)
        self.row(tr("Station"), self.station())
        self.achieved = self.choice("achieved_by", [(r.value, tr(ACHIEVED_WORDS[r]))
                                                    for r in AchievedRule],
                                    AchievedRule.PEAK.value)
        self.row(tr("Achieved when"), self.achieved)
        self.fraction = self.number("achieved_fraction", placeholder="0.5")
        self.row(tr("Share"), self.fraction, hint=tr("0–1, for time and bouts"))
        self.row("", self.flag("trailing_rest", tr("Rest after the last bout")))
        self.achieved.currentIndexChanged.connect(self._rule_changed)

    def bind(self, table: Table) -> None:
        super().bind(table)
        self._rule_changed()

    def _rule_changed(self) -> None:
        self.fraction.setEnabled(self.achieved.currentData() != AchievedRule.PEAK.value)


class TopForm(Fields):
    """The protocol's name and description, and their translations."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        translated_rows(self, "name", tr("Name"), tr("what the setup page lists"))
        translated_rows(self, "description", tr("Description"))


class JudgingForm(Fields):
    """How long phases are judged (top-level keys)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row(tr("Ramp allowance"), self.number("ramp_allowance_s", placeholder="60"),
                 tr("s"), hint=tr("not judged at a phase's start: heart rate lags"))
        self.row(tr("Achieved"), self.number("achieved_fraction", placeholder="0.5"),
                 hint=tr("share of a phase in target, 0–1"))


class LimitsForm(Fields):
    """The class limits, ``[thresholds]``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row(tr("Class limits"), tr("intermediate"),
                 self.number("intermediate_pct", placeholder="70"), tr("high"),
                 self.number("high_pct", placeholder="85"), tr("% HRmax"))
        self.row(tr("Safety ceiling"), self.number("ceiling_pct", placeholder="100"),
                 tr("% HRmax"))


def _row_of(*parts: QWidget | str, hint: str = "") -> QWidget:
    """``parts`` side by side (a text field takes the room, a number field its own width),
    then ``hint`` in grey."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    stretched = False
    for part in parts:
        if isinstance(part, str):
            layout.addWidget(QLabel(part))
            continue
        wide = isinstance(part, QLineEdit | QComboBox) and part.maximumWidth() > NUMBER_PX
        layout.addWidget(part, 1 if wide else 0)
        stretched = stretched or wide
    if hint:
        words = QLabel(hint)
        words.setStyleSheet(f"color: {HINT_COLOUR};")
        layout.addWidget(words)
    if not stretched:
        layout.addStretch(1)
    return row


def _contains(parent: QWidget, widget: QWidget) -> bool:
    return parent is widget or parent.isAncestorOf(widget)


def _as_text(value: Value | None) -> str:
    return "" if value is None else str(value)


def _station_key(text: str) -> str:
    """A typed station: the key of a known one when it names it (in either word), else the
    text as typed."""
    wanted = text.strip().casefold()
    for key in STATIONS:
        if wanted in (key, station_label(key).casefold(), STATIONS[key].casefold()):
            return key
    return text
