"""The protocol editor: a new protocol, or a copy of one, or one of the user's own changed,
field by field, its timeline drawn as it is typed. What it checks is what the file loader
checks: every change is written to TOML and loaded, the loader's one line is shown under the
field it names (and in full under the timeline), and Save stays disabled until the
protocol loads. Save writes the file into the user's protocol folder (presets are
read-only); ``saved(key)`` tells the setup page which one to pick."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.display import mmss
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import (
    ProtocolError,
    TrainingProtocol,
    list_user_protocols,
    user_protocol_path,
)
from hiaim_monitor.protocols.document import (
    FieldError,
    Place,
    ProtocolDocument,
    StepKind,
    key_for,
    new_step,
    save_user_protocol,
)
from ui.setup.step_forms import (
    ERROR_COLOUR,
    HINT_COLOUR,
    BlockForm,
    Fields,
    JudgingForm,
    LimitsForm,
    PhaseForm,
    TopForm,
)
from ui.setup.step_list import GroupForm, StepList, describe_step
from ui.setup.timeline import PhaseTimeline

OK_COLOUR: Final = "#006B4F"  # darker than the Start button's green: text on white
SIZE_PX: Final = (1060, 720)  # fits a 1366 × 768 laptop screen


class ProtocolEditor(QDialog):
    """``key``: the user protocol being changed (it is saved under the same key, so stored
    sessions keep naming it); None for a new protocol, keyed by its name when saved."""

    saved = Signal(str)

    def __init__(self, document: ProtocolDocument, *, key: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.fixed_key = key
        self.modified = False
        self.error: FieldError | None = None
        self.protocol: TrainingProtocol | None = None
        self.setWindowTitle(tr("Edit protocol") if key else tr("New protocol"))

        self.top_form = TopForm()
        self.limits_form = LimitsForm()
        self.judging_form = JudgingForm()
        self.steps = StepList(describe_step, [
            (tr("Add phase"), lambda: new_step(StepKind.PHASE)),
            (tr("Add repeat"), lambda: new_step(StepKind.GROUP)),
            (tr("Add block"), lambda: new_step(StepKind.BLOCK)),
        ])
        self.steps.add_buttons[1].setToolTip(tr("A group of phases done several times"))
        self.steps.add_buttons[2].setToolTip(tr("N short bouts of work and rest at one "
                                                "target, judged as a whole"))
        self.phase_form = PhaseForm()
        self.group_form = GroupForm()
        self.block_form = BlockForm()
        self.no_step = QLabel(tr("Add a step: a phase, a repeated group of phases, or a "
                                 "block of short bouts."))
        self.no_step.setWordWrap(True)
        self.stack = QStackedWidget()
        for page in (self.no_step, self.phase_form, self.group_form, self.block_form):
            self.stack.addWidget(page)
        self.timeline = PhaseTimeline()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where = QLabel()
        self.where.setStyleSheet(f"color: {HINT_COLOUR};")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.save_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        for form in (self.top_form, self.limits_form, self.judging_form, self.phase_form,
                     self.group_form, self.block_form):
            form.edited.connect(self._edited)
        self.steps.changed.connect(self._edited)
        self.steps.current_changed.connect(self._show_step)
        self.group_form.phase_shown.connect(self._show_error)
        self._lay_out()
        self.top_form.bind(document.top)
        self.judging_form.bind(document.top)
        self.limits_form.bind(document.thresholds)
        self.steps.bind(document.steps)
        self._validate()
        self.resize(*SIZE_PX)

    def _lay_out(self) -> None:
        side = QVBoxLayout()
        side.addWidget(self.limits_form)
        side.addWidget(self.judging_form)
        side.addStretch(1)
        head = QHBoxLayout()
        head.addWidget(self.top_form, 3)
        head.addLayout(side, 2)
        steps_box = QVBoxLayout()
        steps_box.addWidget(_title(tr("Steps")))
        steps_box.addWidget(self.steps, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stack)
        body = QHBoxLayout()
        body.addLayout(steps_box, 2)
        body.addWidget(scroll, 3)
        foot = QHBoxLayout()
        foot.addWidget(self.where, 1)
        foot.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(body, 1)
        layout.addWidget(self.timeline)
        layout.addWidget(self.status)
        layout.addLayout(foot)

    # -- the document ---------------------------------------------------------------------
    def key(self) -> str:
        """The key (file stem) Save writes: the edited protocol's own, else one made from
        the name that no preset and none of the user's protocols has."""
        if self.fixed_key is not None:
            return self.fixed_key
        name = self.document.top.get("name")
        return key_for(name if isinstance(name, str) else "", taken=list_user_protocols())

    def _edited(self) -> None:
        self.modified = True
        self.steps.redraw()
        self._validate()

    def _validate(self) -> None:
        key = self.key()
        checked = self.document.validate(key)
        if isinstance(checked, FieldError):
            self.error = checked
            self.save_button.setEnabled(False)
            self.status.setText(checked.message)
            self.status.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold;")
        else:
            self.error = None
            self.protocol = checked
            self.timeline.set_protocol(checked)
            self.save_button.setEnabled(True)
            self.status.setText(_summary(checked))
            self.status.setStyleSheet(f"color: {OK_COLOUR};")
        words = tr("Saved as {path}") if self.fixed_key is not None or (
            key in list_user_protocols()) else tr("Will be saved as {path}")
        self.where.setText(words.format(path=user_protocol_path(key)))
        self._show_error()

    def _show_step(self, row: int) -> None:
        form = self._form_of(row)
        if isinstance(form, Fields):
            form.bind(self.document.steps[row])
        self.stack.setCurrentWidget(form)
        self._show_error()

    def _form_of(self, row: int) -> QWidget:
        if not 0 <= row < len(self.document.steps):
            return self.no_step
        return {StepKind.PHASE: self.phase_form, StepKind.GROUP: self.group_form,
                StepKind.BLOCK: self.block_form}[self.document.steps[row].kind]

    def _show_error(self) -> None:
        """The loader's words beside the field they name (the step's line is marked too,
        for a step not open now)."""
        for form in (self.top_form, self.limits_form, self.judging_form, self.phase_form,
                     self.group_form, self.block_form):
            form.clear_errors()
        self.steps.redraw()
        error = self.error
        if error is None:
            return
        if error.place is Place.TOP:
            if not self.top_form.show_error(error.key, error.problem):
                self.judging_form.show_error(error.key, error.problem)
        elif error.place is Place.THRESHOLDS:
            self.limits_form.show_error(error.key, error.problem)
        elif error.place is Place.STEP and error.step is not None:
            self.steps.mark(error.step, error.problem)
            if error.step == self.steps.current():
                form = self._form_of(error.step)
                if form is self.group_form and error.phase is not None:
                    self.group_form.show_phase_error(error.phase, error.key, error.problem)
                elif isinstance(form, Fields):
                    form.show_error(error.key, error.problem)

    # -- closing --------------------------------------------------------------------------
    def save(self) -> None:
        """Write the protocol into the user's folder and close; on a refusal say why and
        stay open."""
        key = self.key()
        try:
            save_user_protocol(self.document, key)
        except ProtocolError as err:
            self.status.setText(str(err))
            self.status.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold;")
            return
        self.modified = False
        self.saved.emit(key)
        self.accept()

    def reject(self) -> None:
        if self.modified and QMessageBox.question(
                self, tr("Protocol editor"), tr("Leave without saving your changes?"),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No) != QMessageBox.StandardButton.Yes:
            return
        super().reject()


def _title(words: str) -> QLabel:
    label = QLabel(words)
    label.setStyleSheet("font-weight: bold;")
    return label


def _summary(protocol: TrainingProtocol) -> str:
    long_work = sum(1 for p in protocol.phases if p.kind.is_work and p.block is None)
    return tr("Loads as written: {total} in all; work intervals: {intervals}; blocks of "
              "short bouts: {blocks}.").format(total=mmss(protocol.total_s),
                                               intervals=long_work, blocks=len(protocol.blocks))
