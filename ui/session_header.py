"""The control window's top: where the session stands (phase, its target band, countdown,
what comes next) and the red alarm banner."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from hiaim_monitor.display import ALARM_WORD, mmss
from hiaim_monitor.engine.snapshot import SessionSnapshot, StorageState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import Phase, Thresholds

COUNTDOWN_PT = 40  # big enough to read from across the room
TITLE_PT = 16
TARGET_PT = 13


def target_band(phase: Phase, thresholds: Thresholds) -> str:
    """The phase's target in % HRmax; a band open at the top ends at the safety ceiling."""
    top = phase.target_max_pct if phase.target_max_pct is not None else thresholds.ceiling_pct
    return tr("target {low}–{high} % HRmax").format(low=f"{phase.target_min_pct:g}",
                                                     high=f"{top:g}")


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
        grid.addWidget(self.phase, 1, 0)
        grid.addWidget(self.target, 2, 0)
        grid.addWidget(self.next_phase, 3, 0)
        grid.addWidget(self.paused, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.countdown, 1, 1, 2, 1)
        grid.addWidget(self.session_time, 3, 1, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(0, 1)

    def show_snapshot(self, snap: SessionSnapshot) -> None:
        self.protocol.setText(snap.protocol.display_name)
        pos = snap.position
        if snap.finished:
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
