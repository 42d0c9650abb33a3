"""What the operator records per participant during and after a session, without stopping
it: Borg RPE after a work phase (or once at the end), a dose modification, an early
termination, an adverse event. Each goes at once to the programme's records of the planned
session the participant's attendance was linked to (``planned_session_of``), on the
store's own thread (``StoreJobs``); the list under it shows what landed, an error shows as
one line. A participant with no planned session (no programme) gets nothing recorded: the
panel says so and its buttons stay disabled.

Nothing here takes the keyboard unless clicked, so Space, N and W keep steering the
session; Esc leaves a text box."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hiaim_monitor.engine.blocks import prescribed_intervals
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import tr
from hiaim_monitor.participants import Participant
from hiaim_monitor.programme.model import (
    AE_GRADE_MAX,
    AE_GRADE_MIN,
    DoseModification,
    Relatedness,
)
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.storage.database import Database
from hiaim_monitor.storage.programme_records import (
    record_adverse_event,
    record_dose_modification,
    record_early_termination,
    record_rpe,
)
from hiaim_monitor.storage.programmes import planned_session_of
from ui.borg_scale import BorgScale
from ui.store_jobs import StoreJobs

DOSE_WORD: Final = {
    DoseModification.INTENSITY_REDUCED_HEALTH: "Intensity reduced (health-related)",
    DoseModification.INTENSITY_REDUCED_OTHER: "Intensity reduced (other cause)",
    DoseModification.DURATION_REDUCED_HEALTH: "Duration reduced (health-related)",
    DoseModification.DURATION_REDUCED_OTHER: "Duration reduced (other cause)",
}
RELATED_WORD: Final = {Relatedness.YES: "yes", Relatedness.POSSIBLE: "possible",
                       Relatedness.NO: "no"}
ERROR_COLOUR: Final = "#C00000"
AT_END: Final = -1  # the phase choice's data for "at the end of the session"
Planned = tuple[str, int, int]  # programme, week, number


def _button(text: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays pause / resume
    button.clicked.connect(slot)
    return button


def _line(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    return edit


def _combo() -> QComboBox:
    combo = QComboBox()
    combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    return combo


class RecordsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs: StoreJobs | None = None
        self.db: Database | None = None
        self.session_id: int | None = None
        self.protocol: TrainingProtocol | None = None
        self._names: dict[str, str] = {}
        self._planned: dict[str, Planned | None] = {}
        self._looked_up = False
        self._phases: tuple[tuple[str, int], ...] | None = None  # None: none shown yet
        self._auto_phase = True  # the phase follows the session until the operator picks
        self._reached = -1

        self.title = QLabel(tr("Records"))
        self.title.setStyleSheet("font-weight: bold;")
        self.who = _combo()
        self.who.currentIndexChanged.connect(self._show_state)
        self.planned = QLabel()
        self.planned.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.log = QListWidget()
        self.log.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # As tall as the forms beside it; its own size hint would make the strip taller.
        self.log.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.addTab(self._rpe_tab(), tr("Borg RPE"))
        self.tabs.addTab(self._dose_tab(), tr("Dose modified"))
        self.tabs.addTab(self._stop_tab(), tr("Stopped early"))
        self.tabs.addTab(self._event_tab(), tr("Adverse event"))
        leave = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        leave.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        leave.activated.connect(self.leave)

        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.who)
        left.addWidget(self.planned)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(QLabel(tr("Recorded in this session")))
        right.addWidget(self.log, 1)
        row = QHBoxLayout()
        row.addLayout(left, 2)
        row.addWidget(self.tabs, 6)
        row.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.error)
        self._show_state()

    # -- the tabs -----------------------------------------------------------------------
    def _rpe_tab(self) -> QWidget:
        tab = QWidget()
        self.rpe_after = _combo()
        self.rpe_after.activated.connect(lambda _i: setattr(self, "_auto_phase", False))
        self.borg = BorgScale()
        self.borg.chosen.connect(self.record_rpe)
        self.borg_buttons = self.borg.buttons
        after = QHBoxLayout()
        after.addWidget(QLabel(tr("After")))
        after.addWidget(self.rpe_after, 1)
        layout = QVBoxLayout(tab)
        layout.addLayout(after)
        layout.addWidget(self.borg)
        layout.addStretch(1)
        return tab

    def _dose_tab(self) -> QWidget:
        tab = QWidget()
        self.dose = _combo()
        for modification, word in DOSE_WORD.items():
            self.dose.addItem(tr(word), modification)
        self.dose_note = _line(tr("What was changed, and why (optional)"))
        self.dose_button = _button(tr("Record"), self.record_dose)
        layout = QGridLayout(tab)
        layout.addWidget(self.dose, 0, 0)
        layout.addWidget(self.dose_button, 0, 1)
        layout.addWidget(self.dose_note, 1, 0, 1, 2)
        layout.setRowStretch(2, 1)
        return tab

    def _stop_tab(self) -> QWidget:
        tab = QWidget()
        self.stop_reason = _line(tr("Why the participant stopped before the end"))
        self.stop_button = _button(tr("Record"), self.record_stop)
        layout = QGridLayout(tab)
        layout.addWidget(self.stop_reason, 0, 0)
        layout.addWidget(self.stop_button, 0, 1)
        layout.setRowStretch(1, 1)
        return tab

    def _event_tab(self) -> QWidget:
        tab = QWidget()
        self.event_what = _line(tr("What happened"))
        self.event_action = _line(tr("Action taken (optional)"))
        self.grade = QButtonGroup(self)
        self.grade_buttons: dict[int, QPushButton] = {}
        grades = QHBoxLayout()
        grades.addWidget(QLabel(tr("Grade")))
        for value in range(AE_GRADE_MIN, AE_GRADE_MAX + 1):
            button = QPushButton(str(value))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumWidth(28)
            self.grade.addButton(button, value)
            self.grade_buttons[value] = button
            grades.addWidget(button)
        self.related = _combo()
        for related, word in RELATED_WORD.items():
            self.related.addItem(tr(word), related)
        self.related.setCurrentIndex(1)  # "possible": the operator changes it when sure
        grades.addWidget(QLabel(tr("Related to exercise")))
        grades.addWidget(self.related)
        grades.addStretch(1)
        self.event_button = _button(tr("Record"), self.record_event)
        layout = QGridLayout(tab)
        layout.addWidget(self.event_what, 0, 0)
        layout.addWidget(self.event_button, 0, 1)
        layout.addLayout(grades, 1, 0, 1, 2)
        layout.addWidget(self.event_action, 2, 0, 1, 2)
        layout.setRowStretch(3, 1)
        return tab

    def _record_buttons(self) -> list[QPushButton]:
        return [*self.borg_buttons.values(), self.dose_button, self.stop_button,
                self.event_button, *self.grade_buttons.values()]

    # -- the session --------------------------------------------------------------------
    def set_session(self, protocol: TrainingProtocol, people: Sequence[Participant]) -> None:
        """A new session's participants; nothing can be recorded until ``use_store``."""
        self.protocol = protocol
        self.jobs = self.db = self.session_id = None
        self._names = {p.study_code: p.display_name for p in people}
        self._planned, self._looked_up = {}, False
        self._phases, self._auto_phase = None, True
        self._reached = -1  # the furthest phase the session has run (its index)
        self.rpe_after.clear()
        self.log.clear()
        self.error.setText("")
        self.who.blockSignals(True)
        self.who.clear()
        for p in people:
            self.who.addItem(p.display_name, p.study_code)
        self.who.blockSignals(False)
        self._show_state()

    def use_store(self, jobs: StoreJobs, db: Database, session_id: int) -> None:
        """The session is recorded as ``session_id``: find each participant's planned
        session (after any job already given, such as the attendance at the start)."""
        self.jobs, self.db, self.session_id = jobs, db, session_id
        codes = list(self._names)
        jobs.submit(lambda: {c: planned_session_of(db, session_id, c) for c in codes},
                    self._found, self._failed)
        self._show_state()

    def _found(self, planned: dict[str, Planned | None]) -> None:
        self._planned, self._looked_up = planned, True
        self._show_state()

    def choose(self, study_code: str) -> None:
        """Record for this participant (a click on their row of the table)."""
        index = self.who.findData(study_code)
        if index >= 0:
            self.who.setCurrentIndex(index)

    @property
    def current(self) -> str | None:
        data = self.who.currentData()
        return str(data) if data is not None else None

    def _show_state(self) -> None:
        code = self.current
        planned = self._planned.get(code) if code is not None else None
        if code is None:
            text = ""
        elif self.jobs is None:
            text = tr("This session is not recorded: nothing can be recorded for it.")
        elif not self._looked_up:
            text = tr("Looking up the programme…")
        elif planned is None:
            text = tr("{name} has no planned session in a programme today (no programme "
                      "chosen, or not enrolled): nothing can be recorded.").format(
                name=self._names.get(code, code))
        else:
            programme, week, number = planned
            text = tr("{programme}: week {week}, session {number}").format(
                programme=programme, week=week, number=number)
        self.planned.setText(text)
        for button in self._record_buttons():
            button.setEnabled(planned is not None)

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        """The phases an RPE can be given after: the work phases (and blocks) begun so far,
        and the end of the session; by default the latest (the end, once it is over)."""
        pos = snap.position
        if pos is not None:  # once finished there is none: the phases reached stay
            self._reached = max(self._reached, pos.index)
        reached = self._reached
        # The intervals begun: each long work phase, and a block of short bouts once (under
        # its first phase, where its result is stored), not each of its bouts.
        phases = tuple((i.display_name if i.block is not None
                        else snap.protocol.phases[i.index].display_name, i.index)
                       for i in prescribed_intervals(snap.protocol) if i.index <= reached)
        default = AT_END if snap.finished or not phases else phases[-1][1]
        if phases != self._phases:
            self._phases = phases
            chosen = self.rpe_after.currentData()
            self.rpe_after.clear()
            for name, index in phases:
                self.rpe_after.addItem(name, index)
            self.rpe_after.addItem(tr("the end of the session"), AT_END)
            if not self._auto_phase and chosen is not None:
                self.rpe_after.setCurrentIndex(max(0, self.rpe_after.findData(chosen)))
        if self._auto_phase:
            self.rpe_after.setCurrentIndex(self.rpe_after.findData(default))

    def leave(self) -> None:
        focused = self.focusWidget()
        if focused is not None:
            focused.clearFocus()

    # -- recording ----------------------------------------------------------------------
    def _store(self, what: Callable[[Database, str, str, int, int], Any],
               said: Callable[[Any], str]) -> None:
        """Run ``what(db, programme, code, week, number)`` on the store's thread; the log
        shows ``said(result)`` once it is stored."""
        code = self.current
        planned = self._planned.get(code) if code is not None else None
        if self.jobs is None or self.db is None or planned is None or code is None:
            return
        db, name = self.db, self._names.get(code, code)
        programme, week, number = planned
        self.error.setText("")

        def done(result: Any) -> None:
            stamp = datetime.now().astimezone().strftime("%H:%M")
            self.log.insertItem(0, f"{stamp} {name}: {said(result)}")

        self.jobs.submit(lambda: what(db, programme, code, week, number), done, self._failed)

    def _failed(self, sentence: str) -> None:
        self.error.setText(sentence)

    def record_rpe(self, borg: int) -> None:
        data = self.rpe_after.currentData()
        phase_index = None if data is None or data == AT_END else int(data)
        phase = self.rpe_after.currentText()
        self._store(lambda db, p, c, w, n: record_rpe(db, p, c, w, n, borg,
                                                      phase_index=phase_index),
                    lambda r: (tr("RPE {borg} at the end").format(borg=r.borg)
                               if phase_index is None else
                               tr("RPE {borg} after {phase}").format(borg=r.borg,
                                                                     phase=phase)))
        self._auto_phase = True

    def record_dose(self) -> None:
        modification = self.dose.currentData()
        note = self.dose_note.text().strip()
        self._store(lambda db, p, c, w, n: record_dose_modification(db, p, c, w, n,
                                                                    modification, note),
                    lambda r: tr(DOSE_WORD[r.modification]))
        self.dose_note.clear()

    def record_stop(self) -> None:
        reason = self.stop_reason.text().strip()
        if not reason:
            self._failed(tr("Say why the participant stopped, then record it."))
            return
        self._store(lambda db, p, c, w, n: record_early_termination(db, p, c, w, n, reason),
                    lambda r: tr("stopped early: {reason}").format(reason=r.reason))
        self.stop_reason.clear()

    def record_event(self) -> None:
        what = self.event_what.text().strip()
        grade = self.grade.checkedId()
        if not what or grade < AE_GRADE_MIN:
            self._failed(tr("Say what happened and choose its grade (1–5), then record it."))
            return
        related = self.related.currentData()
        action = self.event_action.text().strip()
        self._store(lambda db, p, c, w, n: record_adverse_event(db, p, c, w, n, what, grade,
                                                                related, action),
                    lambda r: tr("adverse event, grade {grade}: {what}").format(
                        grade=r.grade, what=r.description))
        self.event_what.clear()
        self.event_action.clear()
        checked = self.grade.checkedButton()
        if checked is not None:
            self.grade.setExclusive(False)
            checked.setChecked(False)
            self.grade.setExclusive(True)
