"""Register a participant, or change one, from the setup page: the registry's fields, written
by the registry's own functions (the same checks as the command line). A refused write shows
its sentence inside the dialog, which stays open; nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.hrmax import HRMAX_MAX_BPM, HRMAX_MIN_BPM, HRMaxMethod
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.registry import (
    BIRTH_YEAR_MIN,
    NAME_MAX_CHARS,
    ParticipantInfo,
    RegistryError,
    add_participant,
    edit_participant,
)
from hiaim_monitor.storage.schema import Sex

SEXES: Final = (("", "—"), ("f", "female"), ("m", "male"), ("x", "other"))
SEX_CODE: Final = {Sex.FEMALE: "f", Sex.MALE: "m", Sex.OTHER: "x"}
METHODS: Final = (
    (HRMaxMethod.MEASURED, "measured in a test"),
    (HRMaxMethod.TANAKA, "Tanaka: 208 − 0.7 × age"),
    (HRMaxMethod.AGE_220, "220 − age"),
    (HRMaxMethod.GELLISH, "Gellish: 207 − 0.7 × age"),
)
RESTING_RANGE_BPM: Final = (25, 150)


class ParticipantDialog(QDialog):
    """``saved(old_code, info)`` after a successful write; old_code is "" for a new one."""

    saved = Signal(str, object)

    def __init__(self, db: Database, today: date, info: ParticipantInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.today = today
        self.info = info
        self.setWindowTitle(tr("Edit participant") if info else tr("Add participant"))

        self.study_code = QLineEdit()
        self.study_code.setPlaceholderText(tr("e.g. HA-017 (pseudonymous)"))
        self.name = QLineEdit()
        self.name.setMaxLength(NAME_MAX_CHARS)
        self.name.setPlaceholderText(tr("what the wall screen shows"))
        # Spin boxes show "—" at their minimum: not known.
        self.birth_year = _spin(BIRTH_YEAR_MIN - 1, today.year, BIRTH_YEAR_MIN - 1)
        self.sex = QComboBox()
        for study_code, word in SEXES:
            self.sex.addItem(tr(word), study_code)
        self.method = QComboBox()
        for method, word in METHODS:
            self.method.addItem(tr(word), method.value)
        self.hrmax = _spin(HRMAX_MIN_BPM - 1, HRMAX_MAX_BPM, HRMAX_MIN_BPM - 1, " bpm")
        self.method.currentIndexChanged.connect(self._method_changed)
        self.resting = _spin(RESTING_RANGE_BPM[0] - 1, RESTING_RANGE_BPM[1],
                             RESTING_RANGE_BPM[0] - 1, " bpm")
        self.beta_blocker = QCheckBox(tr("Takes a beta blocker (heart-rate targets may not "
                                         "apply)"))
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(60)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #C00000; font-weight: bold;")
        self.error.setVisible(False)

        hrmax_row = QHBoxLayout()
        hrmax_row.addWidget(self.method, 1)
        hrmax_row.addWidget(self.hrmax)
        form = QFormLayout()
        form.addRow(tr("Study code"), self.study_code)
        form.addRow(tr("Display name"), self.name)
        form.addRow(tr("Birth year"), self.birth_year)
        form.addRow(tr("Sex"), self.sex)
        form.addRow(tr("HRmax"), hrmax_row)
        form.addRow(tr("Resting heart rate"), self.resting)
        form.addRow("", self.beta_blocker)
        form.addRow(tr("Notes"), self.notes)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if info is not None:
            self._fill(info)
        self._method_changed()
        self.setMinimumWidth(460)

    def _fill(self, info: ParticipantInfo) -> None:
        self.study_code.setText(info.study_code)
        self.name.setText(info.display_name)
        self.birth_year.setValue(info.birth_year or self.birth_year.minimum())
        self.sex.setCurrentIndex(max(0, self.sex.findData(SEX_CODE.get(info.sex, "")))
                                 if info.sex is not None else 0)
        method = info.hrmax_method or HRMaxMethod.MEASURED
        self.method.setCurrentIndex(max(0, self.method.findData(method.value)))
        if info.hrmax_bpm is not None:
            self.hrmax.setValue(round(info.hrmax_bpm))
        if info.resting_bpm is not None:
            self.resting.setValue(round(info.resting_bpm))
        self.beta_blocker.setChecked(info.beta_blocker)
        self.notes.setPlainText(info.notes)

    def _method_changed(self) -> None:
        self.hrmax.setEnabled(self.method.currentData() == HRMaxMethod.MEASURED.value)

    # -- what the form says -------------------------------------------------------------
    def fields(self) -> dict[str, Any]:
        """The form as registry keyword arguments (None: not given)."""
        measured = self.method.currentData() == HRMaxMethod.MEASURED.value
        return {
            "name": self.name.text(),
            "birth_year": _value(self.birth_year),
            "sex": self.sex.currentData() or None,
            "hrmax_bpm": float(v) if measured and (v := _value(self.hrmax)) is not None
            else None,
            "hrmax_method": None if measured else self.method.currentData(),
            "resting_bpm": None if (v := _value(self.resting)) is None else float(v),
            "beta_blocker": self.beta_blocker.isChecked(),
            "notes": self.notes.toPlainText().strip(),
        }

    def save(self) -> None:
        """Write to the registry; on success close and report, else say why and stay."""
        fields = self.fields()
        try:
            if self.info is None:
                info = add_participant(self.db, self.study_code.text(), today=self.today, **fields)
                old_code = ""
            else:
                old_code = self.info.study_code
                changes = self._changes(fields)
                if not changes:
                    self.accept()
                    return
                info = edit_participant(self.db, old_code, today=self.today, **changes)
        except (RegistryError, StorageError) as err:
            self.error.setText(str(err))
            self.error.setVisible(True)
            return
        self.error.setVisible(False)
        self.saved.emit(old_code, info)
        self.accept()

    def _changes(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Only what differs from the registered participant: an unchanged HRmax must not
        be stored again as if measured today."""
        info = self.info
        assert info is not None
        old = {
            "name": info.display_name, "birth_year": info.birth_year,
            "sex": SEX_CODE.get(info.sex) if info.sex is not None else None,
            "resting_bpm": info.resting_bpm, "beta_blocker": info.beta_blocker,
            "notes": info.notes,
        }
        changes = {k: v for k, v in fields.items()
                   if k in old and v is not None and v != old[k]}
        if fields["hrmax_method"] is not None:
            if fields["hrmax_method"] != (info.hrmax_method or "") or "birth_year" in changes:
                changes["hrmax_method"] = fields["hrmax_method"]
        elif fields["hrmax_bpm"] is not None and (
                info.hrmax_method not in (None, HRMaxMethod.MEASURED)
                or info.hrmax_bpm is None or round(info.hrmax_bpm) != fields["hrmax_bpm"]):
            changes["hrmax_bpm"] = fields["hrmax_bpm"]
        study_code = self.study_code.text().strip()
        if study_code != info.study_code:
            changes["new_code"] = study_code
        return changes


def _spin(minimum: int, maximum: int, value: int, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSpecialValueText("—")
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin


def _value(spin: QSpinBox) -> int | None:
    return None if spin.value() == spin.minimum() else spin.value()
