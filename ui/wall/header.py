"""The wall's header: the phase and its kind, the target band and the next phase, the
session time, PAUSED, the large countdown, and a thin bar of the phase's progress."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import TrainingProtocol
from ui.wall import palette
from ui.wall.content import HeaderContent, header_samples
from ui.wall.fonts import PlacedText, fitted_px, font_px, place
from ui.wall.layout import HeaderParts, header_parts


class WallHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.content: HeaderContent | None = None
        self.parts: HeaderParts | None = None
        self.fonts: dict[str, QFont] = {}
        self.placed: dict[str, PlacedText] = {}
        self.protocol: TrainingProtocol | None = None

    # -- state ----------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self.parts = header_parts(self.width(), self.height())
        self.fonts = {}
        self._place()
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
        self.fonts = {}
        self._place()

    def _font(self, key: str) -> QFont:
        if key not in self.fonts:
            assert self.parts is not None
            rect = self.parts.text_parts()[key]
            samples = header_samples(self.protocol) if self.protocol is not None else {}
            px = fitted_px(samples.get(key, ["M"]), rect[2], rect[3],
                           by_ink=key == "countdown")
            self.fonts[key] = font_px(px)
        return self.fonts[key]

    def _place(self) -> None:
        c, parts = self.content, self.parts
        if c is None or parts is None or self.protocol is None:
            return
        rects = parts.text_parts()
        texts = {"phase": c.phase, "detail": c.detail, "clock": c.clock,
                 "countdown": c.countdown, "paused": tr("PAUSED") if c.paused else ""}
        align = {"clock": "centre", "paused": "centre", "countdown": "right"}
        self.placed = {}
        for key, text in texts.items():
            if text:
                self.placed[key] = place(text, self._font(key), rects[key],
                                         align=align.get(key, "left"),
                                         by_ink=key == "countdown")

    def texts(self) -> dict[str, str]:
        return {k: v.text for k, v in self.placed.items()}

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(palette.WALL_BG))
        c, parts = self.content, self.parts
        if c is None or parts is None:
            painter.end()
            return
        if "paused" in self.placed:
            ink = self.placed["paused"].ink
            pad = ink.height() // 4
            painter.fillRect(ink.adjusted(-2 * pad, -pad, 2 * pad, pad),
                             QColor(palette.PAUSED_BG))
        for key, placed in self.placed.items():
            colour = palette.HEADER_TEXT
            if key in ("detail", "clock"):
                colour = palette.HEADER_DIM_TEXT
            elif key == "paused":
                colour = palette.text_on(palette.PAUSED_BG)
            painter.setPen(QColor(colour))
            painter.setFont(placed.font)
            painter.drawText(placed.origin, placed.text)
        x, y, w, h = parts.progress
        painter.fillRect(QRect(x, y, w, h), QColor(palette.PROGRESS_BG))
        painter.fillRect(QRectF(x, y, w * c.progress, h), QColor(palette.PROGRESS_FG))
        painter.end()
