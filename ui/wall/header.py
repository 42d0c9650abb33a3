"""The wall's header: the phase and its kind, the target band and the next phase, the
session time, the station, PAUSED, the large countdown, and a thin bar of the phase's
progress. During a block of short bouts: a GO / REST badge, the bout (7/15) and the seconds
left of it, all as tall as the header, beside the block's name and target."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QWidget

from hiaim_monitor.display import BoutState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import TrainingProtocol
from ui.wall import palette
from ui.wall.content import HeaderContent, header_samples
from ui.wall.fonts import PlacedText, fitted_px, font_px, place
from ui.wall.layout import HeaderParts, Rect, block_header_parts, header_parts

# Texts known in full (digits, GO / REST): fitted and centred by their ink.
BY_INK = frozenset({"countdown", "state", "bout"})
# Parts whose size is the same in a long phase and in a block: one set of samples.
SHARED = frozenset({"clock", "paused", "station"})
BADGE_INSET = 0.14  # of the badge's height, between its edge and the word's ink


class WallHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.content: HeaderContent | None = None
        self.parts: HeaderParts | None = None  # of a long phase
        self.block_parts: HeaderParts | None = None  # of a block of short bouts
        self.fonts: dict[tuple[str, int, int], QFont] = {}
        self.placed: dict[str, PlacedText] = {}
        self.protocol: TrainingProtocol | None = None
        self._samples: dict[str, list[str]] = {}

    # -- state ----------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self._lay_out()
        super().resizeEvent(event)

    def set_content(self, content: HeaderContent) -> bool:
        """Take new content; True when the header must be repainted."""
        if content == self.content:
            return False
        self.content = content
        self._place()
        return True

    def set_protocol(self, protocol: TrainingProtocol) -> None:
        """Fit the type to every text ``protocol`` can bring (once per protocol and size)."""
        if protocol is self.protocol:
            return
        self.protocol = protocol
        self._lay_out()

    def _lay_out(self) -> None:
        station = self.protocol is not None and any(p.station for p in self.protocol.phases)
        self.parts = header_parts(self.width(), self.height(), station=station)
        self.block_parts = block_header_parts(self.width(), self.height(), station=station)
        self.fonts = {}
        self._samples = header_samples(self.protocol) if self.protocol is not None else {}
        self._place()

    @property
    def current_parts(self) -> HeaderParts | None:
        """The parts the content is laid out in: a block's or a long phase's."""
        c = self.content
        return self.block_parts if c is not None and c.in_block else self.parts

    def _font(self, key: str, rect: Rect) -> QFont:
        block = self.content is not None and self.content.in_block and key not in SHARED
        sample_key = f"block:{key}" if block else key
        cache_key = (sample_key, rect[2], rect[3])
        if cache_key not in self.fonts:
            px = fitted_px(self._samples.get(sample_key) or ["M"], rect[2], rect[3],
                           by_ink=key in BY_INK)
            self.fonts[cache_key] = font_px(px)
        return self.fonts[cache_key]

    def _place(self) -> None:
        c, parts = self.content, self.current_parts
        if c is None or parts is None or self.protocol is None:
            return
        rects = parts.text_parts()
        if "state" in rects:
            rects["state"] = _inset(rects["state"])
        texts = {"phase": c.phase, "detail": c.detail, "clock": c.clock,
                 "countdown": c.countdown, "paused": tr("PAUSED") if c.paused else "",
                 "station": c.station, "state": c.state_word, "bout": c.bout}
        if parts.station is not None and c.paused:
            texts["clock"] = ""  # PAUSED takes its place
        align = {"clock": "centre", "paused": "centre", "station": "centre",
                 "countdown": "right", "state": "centre", "bout": "centre"}
        self.placed = {}
        for key, text in texts.items():
            if text and key in rects:
                self.placed[key] = place(text, self._font(key, rects[key]), rects[key],
                                         align=align.get(key, "left"), by_ink=key in BY_INK)

    def texts(self) -> dict[str, str]:
        return {k: v.text for k, v in self.placed.items()}

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(palette.WALL_BG))
        c, parts = self.content, self.current_parts
        if c is None or parts is None:
            painter.end()
            return
        if "paused" in self.placed:
            ink = self.placed["paused"].ink
            pad = ink.height() // 4
            painter.fillRect(ink.adjusted(-2 * pad, -pad, 2 * pad, pad),
                             QColor(palette.PAUSED_BG))
        state_text = palette.HEADER_TEXT
        if c.state is not None and parts.state is not None:
            state_text = self._paint_badge(painter, c.state, parts.state)
        for key, placed in self.placed.items():
            colour = palette.HEADER_TEXT
            if key in ("detail", "clock"):
                colour = palette.HEADER_DIM_TEXT
            elif key == "paused":
                colour = palette.text_on(palette.PAUSED_BG)
            elif key == "state":
                colour = state_text
            painter.setPen(QColor(colour))
            painter.setFont(placed.font)
            painter.drawText(placed.origin, placed.text)
        x, y, w, h = parts.progress
        painter.fillRect(QRect(x, y, w, h), QColor(palette.PROGRESS_BG))
        painter.fillRect(QRectF(x, y, w * c.progress, h), QColor(palette.PROGRESS_FG))
        tick_w = max(2, h // 2)
        for at in c.ticks:
            painter.fillRect(QRectF(x + w * at - tick_w / 2, y, tick_w, h),
                             QColor(palette.PROGRESS_TICK))
        painter.end()

    def _paint_badge(self, painter: QPainter, state: BoutState, rect: Rect) -> str:
        """GO: the badge filled; REST: its outline only. Returns the word's colour."""
        x, y, w, h = rect
        if state is BoutState.GO:
            painter.fillRect(QRect(x, y, w, h), QColor(palette.GO_BG))
            return palette.text_on(palette.GO_BG)
        edge = max(3, h // 24)
        painter.setPen(QPen(QColor(palette.REST_EDGE), edge))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(x + edge / 2, y + edge / 2, w - edge, h - edge))
        return palette.HEADER_TEXT


def _inset(rect: Rect) -> Rect:
    """The room for GO / REST inside its badge."""
    x, y, w, h = rect
    m = max(3, round(h * BADGE_INSET))
    return (x + m, y + m, max(1, w - 2 * m), max(1, h - 2 * m))
