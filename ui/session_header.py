"""The control window's top: where the session stands (phase, its target band, its station,
countdown, what comes next; in a block of short bouts GO or REST, the bout and its seconds)
and the red alarm banner."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from hiaim_monitor.display import ALARM_WORD, BoutState, BoutView, bout_view, mmss, station_of
from hiaim_monitor.engine.snapshot import SessionSnapshot, StorageState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import Phase, Thresholds
from ui.wall import palette

COUNTDOWN_PT = 40  # big enough to read from across the room
TITLE_PT = 16
TARGET_PT = 13
# The wall's GO and REST: the badge filled for GO, hollow for REST, the word in both.
BOUT_STYLE = {
    BoutState.GO: f"color: {palette.text_on(palette.GO_BG)}; background: {palette.GO_BG};"
                  " border: 2px solid " + palette.GO_BG + "; padding: 0px 8px;",
    BoutState.REST: "border: 2px solid #707070; padding: 0px 8px;",
}


def target_band(phase: Phase, thresholds: Thresholds) -> str:
    """The phase's target in % HRmax; a band open at the top ends at the safety ceiling."""
    top = phase.target_max_pct if phase.target_max_pct is not None else thresholds.ceiling_pct
    return tr("target {low}–{high} % HRmax").format(low=f"{phase.target_min_pct:g}",
                                                     high=f"{top:g}")


def block_left_s(snap: SessionSnapshot, bout: BoutView) -> float:
    """Seconds until the running block ends, as the operator now plans it."""
    pos = snap.position
    assert pos is not None
    run_s = snap.planned_run_s or tuple(p.duration_s for p in snap.protocol.phases)
    return pos.remaining_s + sum(run_s[pos.index + 1:bout.block.last_phase + 1])


def _font(point_size: int, bold: bool = True) -> QFont:
    font = QFont()
    font.setPointSize(point_size)
    font.setBold(bold)
    return font


class SessionHeader(QWidget):
    """Protocol, phase name and kind, its target band, countdown, next phase, session
    time, PAUSED."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.protocol = QLabel()
        self.protocol.setFont(_font(TITLE_PT))
        self.phase = QLabel()
        self.phase.setFont(_font(TITLE_PT))
        self.target = QLabel()
        self.target.setFont(_font(TARGET_PT))
        self.next_phase = QLabel()
        self.session_time = QLabel()
        self.paused = QLabel(tr("PAUSED"))
        self.paused.setFont(_font(TITLE_PT))
        self.paused.setStyleSheet("color: white; background: #C07000; padding: 2px 8px;")
        self.paused.setVisible(False)
        self.bout = QLabel()  # GO 7/15 or REST 7/15, during a block of short bouts
        self.bout.setFont(_font(TITLE_PT))
        self.bout.setVisible(False)
        self.station = QLabel()
        self.station.setFont(_font(TARGET_PT))
        self.countdown = QLabel()
        self.countdown.setFont(_font(COUNTDOWN_PT))
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Room for the widest value up front, so the layout does not jump as time passes.
        self.countdown.setMinimumWidth(self.countdown.fontMetrics().horizontalAdvance("00:00 "))
        self.session_time.setMinimumWidth(
            self.session_time.fontMetrics().horizontalAdvance(f"{tr('session time')} 000:00 "))
        self.session_time.setAlignment(Qt.AlignmentFlag.AlignRight)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.protocol, 0, 0)
        phase_row = QHBoxLayout()
        phase_row.addWidget(self.phase)
        phase_row.addWidget(self.bout)
        phase_row.addStretch(1)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target)
        target_row.addSpacing(16)
        target_row.addWidget(self.station)
        target_row.addStretch(1)
        grid.addLayout(phase_row, 1, 0)
        grid.addLayout(target_row, 2, 0)
        grid.addWidget(self.next_phase, 3, 0)
        grid.addWidget(self.paused, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.countdown, 1, 1, 2, 1)
        grid.addWidget(self.session_time, 3, 1, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(0, 1)

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        self.protocol.setText(snap.protocol.display_name)
        pos = snap.position
        station = station_of(pos) if not snap.finished else ""
        self.station.setText(f"{tr('station')}: {station}" if station else "")
        bout = bout_view(snap)
        self._show_bout(bout)
        if bout is not None:
            block = bout.block
            self.phase.setText(f"{block.display_name} ({tr(block.kind.value)})")
            self.target.setText(target_band(snap.protocol.phases[block.first_phase],
                                            snap.protocol.thresholds))
            self.countdown.setText(f"{bout.seconds_left} s")
            after = (bout.after.display_name if bout.after is not None
                     else tr("end of session"))
            self.next_phase.setText(tr("next after the block: {phase} in {time}").format(
                phase=after, time=mmss(block_left_s(snap, bout))))
        elif snap.finished:
            self.phase.setText(tr("Session finished"))
            self.target.setText("")
            self.countdown.setText("")
            self.next_phase.setText("")
        elif pos is None:
            self.phase.setText(tr("Waiting to start"))
            self.target.setText("")
            self.countdown.setText(mmss(-snap.elapsed_s))
            self.next_phase.setText(f"{tr('next')}: {snap.protocol.phases[0].display_name}")
        else:
            self.phase.setText(f"{pos.phase.display_name} ({tr(pos.phase.kind.value)})")
            self.target.setText(target_band(pos.phase, snap.protocol.thresholds))
            self.countdown.setText(mmss(pos.remaining_s))
            nxt = (pos.next_phase.display_name if pos.next_phase is not None
                   else tr("end of session"))
            self.next_phase.setText(f"{tr('next')}: {nxt}")
        self.session_time.setText(f"{tr('session time')} {mmss(max(0.0, snap.elapsed_s))}")
        self.paused.setVisible(snap.paused and not snap.finished)

    def _show_bout(self, bout: BoutView | None) -> None:
        if bout is None:
            self.bout.setVisible(False)
            return
        text = f"{bout.word} {bout.count}"
        if self.bout.text() != text:
            self.bout.setText(text)
        style = BOUT_STYLE[bout.state]
        if self.bout.styleSheet() != style:  # a new style sheet re-polishes the widget
            self.bout.setStyleSheet(style)
        self.bout.setVisible(True)


def alarm_lines(snap: SessionSnapshot) -> list[str]:
    """One line per active alarm, participants first, then storage trouble."""
    lines = [f"{p.display_name}: {tr(ALARM_WORD[a])}"
             for p in snap.participants for a in p.alarms]
    store = snap.storage
    if store is not None and store.state is StorageState.FAILING:
        line = f"{tr('Storage trouble')}: {store.reason}"
        line += f" ({tr('waiting in memory')}: {store.backlog_fraction:.0%}"
        if store.dropped_rows:
            line += f", {tr('lost')}: {store.dropped_rows}"
        lines.append(line + ")")
    return lines


class AlarmBanner(QLabel):
    """A red strip listing every active alarm; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(_font(13))
        self.setWordWrap(True)
        self.setStyleSheet("color: white; background: #C00000; padding: 6px;")
        self.setVisible(False)

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        lines = alarm_lines(snap)
        self.setText("   ·   ".join(lines))
        self.setVisible(bool(lines))
