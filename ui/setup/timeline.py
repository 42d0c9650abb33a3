"""A protocol drawn as a strip of blocks: one per phase, as wide as it lasts, as tall as its
target intensity, in the colour of its intensity class. A block of short bouts is one block
("Sprints 15 × 20/20 s"), its work bouts stripes in the class colour over a paler ground,
not 30 slivers. The setup page shows the protocol about to run; the session page draws the
plan as the operator steers it (+1 min makes a block longer, a skip cuts it short, a stop
leaves out what never ran) and a cursor at the running time (it stands still during a
pause)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from hiaim_monitor.display import mmss
from hiaim_monitor.engine.blocks import block_label
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import Block, Phase, PhaseKind, TrainingProtocol, station_label
from ui.participant_table import CLASS_COLOUR

# Work phases in their class colour; the easy ones in the "below" blue, warm-up and
# cool-down paler than recovery so the class can tell where the session starts and ends.
KIND_COLOUR: Final = {
    PhaseKind.WARM_UP: "#AAD9F4",
    PhaseKind.RECOVERY: CLASS_COLOUR[Level.BELOW],
    PhaseKind.INTERMEDIATE: CLASS_COLOUR[Level.INTERMEDIATE],
    PhaseKind.HIGH: CLASS_COLOUR[Level.HIGH],
    PhaseKind.COOL_DOWN: "#AAD9F4",
}
LOW_PCT: Final = 30.0  # % HRmax at the strip's bottom edge
TOP_PCT: Final = 100.0  # % HRmax at its top edge
MIN_BLOCK_FRACTION: Final = 0.45  # of the strip's height: room for a label in every block
AXIS_PX: Final = 16  # the time axis under the blocks
CURSOR_COLOUR: Final = "#000000"
BLOCK_GROUND: Final = 0.55  # how far a block's rests are drawn from its colour toward white
TICK_STEPS_MIN: Final = (1, 2, 5, 10, 15, 20, 30, 60)
MIN_TICK_GAP_PX: Final = 60


class PhaseTimeline(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.protocol: TrainingProtocol | None = None
        self.durations_s: tuple[float, ...] = ()  # running time per phase, as drawn
        self.cursor_s: float | None = None
        self.labels: list[tuple[str, QRectF]] = []  # what the last paint wrote, and where
        self.setMinimumHeight(70)

    def sizeHint(self) -> QSize:
        return QSize(600, 90)

    def set_protocol(self, protocol: TrainingProtocol | None) -> None:
        self.protocol = protocol
        self.durations_s = tuple(p.duration_s for p in protocol.phases) if protocol else ()
        self.update()

    def set_durations(self, durations_s: list[float] | tuple[float, ...]) -> None:
        """Each phase's running time as the plan now stands (the protocol's own lengths
        until the operator changes them)."""
        durations = tuple(durations_s)
        if durations != self.durations_s:
            self.durations_s = durations
            self.update()

    @property
    def total_s(self) -> float:
        return sum(self.durations_s)

    def set_cursor(self, elapsed_s: float | None) -> None:
        """A vertical line at ``elapsed_s`` into the session; None: no line."""
        if elapsed_s != self.cursor_s:
            self.cursor_s = elapsed_s
            self.update()

    # -- geometry -----------------------------------------------------------------------
    def _strip(self) -> QRectF:
        return QRectF(1, 1, max(1, self.width() - 2), max(1, self.height() - AXIS_PX - 2))

    def _x(self, t_s: float) -> float:
        strip = self._strip()
        total = self.total_s
        if total <= 0:
            return strip.left()
        return strip.left() + strip.width() * min(max(t_s, 0.0), total) / total

    def block_rect(self, index: int) -> QRectF:
        """Where phase ``index`` is drawn, in widget coordinates."""
        assert self.protocol is not None
        start = sum(self.durations_s[:index])
        duration_s = self.durations_s[index]
        block = self.protocol.block_of(index)
        # A block's phases stand as tall as its target, its rests too: one block.
        target_pct = (block.target_min_pct if block is not None
                      else self.protocol.phases[index].target_min_pct)
        strip = self._strip()
        share = (target_pct - LOW_PCT) / (TOP_PCT - LOW_PCT)
        share = min(1.0, max(MIN_BLOCK_FRACTION, share))
        height = strip.height() * share
        left, right = self._x(start), self._x(start + duration_s)
        return QRectF(left, strip.bottom() - height, max(1.0, right - left), height)

    def group_rect(self, block_index: int) -> QRectF:
        """Where block ``block_index`` is drawn: its phases side by side (those that ran, or
        will)."""
        assert self.protocol is not None
        block = self.protocol.blocks[block_index]
        rects = [self.block_rect(i) for i in block.phase_indices if self.durations_s[i] > 0]
        if not rects:
            return QRectF()
        return QRectF(rects[0].topLeft(), rects[-1].bottomRight())

    def phase_at_x(self, x: float) -> int | None:
        if self.protocol is None:
            return None
        for i in range(len(self.protocol.phases)):
            if self.durations_s[i] <= 0:
                continue
            rect = self.block_rect(i)
            if rect.left() <= x < rect.right():
                return i
        return None

    # -- painting -----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.labels = []
        try:
            painter.fillRect(self.rect(), self.palette().base())
            if self.protocol is None or not self.protocol.phases:
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                                 tr("No protocol chosen"))
                return
            labels = self._paint_blocks(painter)
            self._paint_axis(painter)
            if self.cursor_s is not None:
                x = self._x(self.cursor_s)
                painter.setPen(QPen(QColor(CURSOR_COLOUR), 2))
                painter.drawLine(QPointF(x, 0), QPointF(x, self._strip().bottom() + 3))
            for label in labels:  # over the cursor, so it never cuts a word
                label()
        finally:
            painter.end()

    def _paint_blocks(self, painter: QPainter) -> list[Callable[[], None]]:
        """Fill every phase and block; returns the painting of their labels, for last."""
        assert self.protocol is not None
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        painter.setFont(font)
        labels = []
        for i, phase in enumerate(self.protocol.phases):
            if self.durations_s[i] <= 0 or phase.block is not None:
                continue  # stopped before it began; a block's phases are drawn as one
            rect = self.block_rect(i)
            colour = QColor(KIND_COLOUR[phase.kind])
            painter.fillRect(rect, colour)
            self._edge(painter, rect)
            texts = (_label(phase, self.durations_s[i]), phase.display_name)
            labels.append(partial(self._label, painter, rect, colour, texts))
        for block in self.protocol.blocks:
            label = self._paint_block(painter, block)
            if label is not None:
                labels.append(label)
        return labels

    def _paint_block(self, painter: QPainter, block: Block) -> Callable[[], None] | None:
        """The block on a paler ground, each work bout a stripe in its class colour."""
        assert self.protocol is not None
        whole = self.group_rect(block.index)
        if whole.isEmpty():
            return None
        colour = QColor(KIND_COLOUR[block.kind])
        painter.fillRect(whole, _toward_white(colour, BLOCK_GROUND))
        for i in block.phase_indices:
            if self.durations_s[i] > 0 and self.protocol.phases[i].is_bout_work:
                painter.fillRect(self.block_rect(i), colour)
        self._edge(painter, whole)
        total_s = sum(self.durations_s[i] for i in block.phase_indices)
        summary = block_label(block)
        texts = (f"{summary} · {mmss(total_s)}", summary, block.display_name)
        return partial(self._label, painter, whole, colour, texts, boxed=True)

    def _edge(self, painter: QPainter, rect: QRectF) -> None:
        # A hairline in the page colour keeps neighbours of one kind apart.
        painter.setPen(QPen(self.palette().base().color(), 1))
        painter.drawLine(rect.topRight(), rect.bottomRight())

    def _label(self, painter: QPainter, rect: QRectF, colour: QColor,
               labels: tuple[str, ...], *, boxed: bool = False) -> None:
        """The first of ``labels`` that fits ``rect``, at its top; none if none fits. Boxed:
        on a patch of the block's paler ground, so stripes do not cut through the words."""
        metrics = painter.fontMetrics()
        room = rect.adjusted(3, 2, -3, 0)
        label = next((t for t in labels if metrics.horizontalAdvance(t) <= room.width()), None)
        if label is None:
            return
        ground = colour
        if boxed:
            ground = _toward_white(colour, BLOCK_GROUND)
            width = metrics.horizontalAdvance(label) + 6
            box = QRectF(room.center().x() - width / 2, room.top() - 1, width,
                         metrics.height() + 2)
            painter.fillRect(box, ground)
        dark = ground.lightness() < 140
        painter.setPen(QColor("white" if dark else "black"))
        painter.drawText(room, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter, label)
        self.labels.append((label, room))

    def _paint_axis(self, painter: QPainter) -> None:
        assert self.protocol is not None
        total_s = self.total_s
        strip = self._strip()
        painter.setPen(self.palette().text().color())
        metrics = painter.fontMetrics()
        total = f"{tr('total')} {mmss(total_s)}"
        total_w = metrics.horizontalAdvance(total)
        baseline = strip.bottom() + AXIS_PX - 3
        painter.drawText(QPointF(strip.right() - total_w, baseline), total)
        step_min = next((m for m in TICK_STEPS_MIN
                         if strip.width() * m * 60 / max(total_s, 1) >= MIN_TICK_GAP_PX), None)
        if step_min is None:
            return
        t = 0.0
        while t < total_s:
            x = self._x(t)
            if x + metrics.horizontalAdvance("00:00") > strip.right() - total_w - 6:
                break
            painter.drawLine(QPointF(x, strip.bottom()), QPointF(x, strip.bottom() + 3))
            painter.drawText(QPointF(x + 2, baseline), mmss(t))
            t += step_min * 60

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            i = self.phase_at_x(event.pos().x())
            if i is not None and self.protocol is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_of(i), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def tooltip_of(self, index: int) -> str:
        """What the tooltip says over phase ``index``: the phase, or its block and bout."""
        assert self.protocol is not None
        phase = self.protocol.phases[index]
        block = self.protocol.block_of(index)
        if block is None:
            return _tooltip(phase, self.durations_s[index])
        total_s = sum(self.durations_s[i] for i in block.phase_indices)
        target = _target(block.target_min_pct, block.target_max_pct)
        lines = [f"{block_label(block)} ({tr(block.kind.value)})",
                 f"{mmss(total_s)} · {target} % {tr('HRmax')}"]
        if block.station:
            lines.append(station_label(block.station))
        lines.append(phase.display_name)
        return "\n".join(lines)


def _label(phase: Phase, duration_s: float) -> str:
    return f"{phase.display_name} · {mmss(duration_s)}"


def _target(lo: float, hi: float | None) -> str:
    return f"{lo:g}" + (f"–{hi:g}" if hi is not None else "+")


def _tooltip(phase: Phase, duration_s: float) -> str:
    target = _target(phase.target_min_pct, phase.target_max_pct)
    text = (f"{phase.display_name} ({tr(phase.kind.value)})\n{mmss(duration_s)} · "
            f"{target} % {tr('HRmax')}")
    if phase.station:
        text += f"\n{station_label(phase.station)}"
    return text


def _toward_white(colour: QColor, amount: float) -> QColor:
    return QColor(*(round(c + (255 - c) * amount)
                    for c in (colour.red(), colour.green(), colour.blue())))
