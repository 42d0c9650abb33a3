"""One participant's tile on the wall. Painted by hand from a ``TileContent``: a fill, a few
texts at positions worked out when the content changed, a battery mark, and the trace view.
No layout engine runs while the class trains, so a changing number never moves anything."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from PySide6.QtCore import QPoint, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from hiaim_monitor.engine.snapshot import ParticipantView, SignalState
from hiaim_monitor.protocols import Phase
from ui.wall.content import TileContent, longest_texts, tile_content
from ui.wall.fonts import PlacedText, fitted_px, font_px, place
from ui.wall.layout import Rect, TileParts, tile_parts
from ui.wall.trace import TraceView

NAME_MIN_SCALE: Final = 0.75  # of the name row's type size, the least a long name gets


@dataclass(frozen=True, slots=True)
class TileStyle:
    """Parts and fonts for one tile size, fitted once for the widest text each part can get
    in the current language (shared by every tile of the same size)."""

    width: int
    height: int
    parts: TileParts
    message_part: Rect  # "signal lost" spans the number and % HRmax parts, at the %'s height
    fonts: dict[str, QFont] = field(hash=False, compare=False)


def tile_style(width: int, height: int) -> TileStyle:
    parts = tile_parts(width, height)
    texts = longest_texts()
    nx, _, _, _ = parts.number
    px_, py, pw, ph = parts.pct
    # Level with the %, below the marks and badges that may sit above it.
    message_part = (nx, py, px_ + pw - nx, ph)

    def fit(key: str, part: Rect, **kw: object) -> QFont:
        return font_px(fitted_px(texts[key], part[2], part[3], **kw))  # type: ignore[arg-type]

    fonts = {
        "number": fit("number", parts.number, by_ink=True),
        "message": fit("message", message_part),
        "pct": fit("pct", parts.pct, by_ink=True),
        "pct3": fit("pct3", parts.pct, by_ink=True),
        # Every word and cue is known in advance: fitted by their ink, they get the row.
        "word": fit("word", parts.word, by_ink=True),
        "cue": fit("cue", parts.cue, by_ink=True),
        "badges": fit("badges", parts.badges),
        "marks": fit("marks", parts.marks),
        "name": font_px(fitted_px(["Ågy"], 10_000, parts.name[3])),
    }
    # During a block the cue's row shows the block's peak so far, in type no larger than the
    # cue's: it stands in for the cue, and the live number stays the tile's largest.
    for key in ("peak", "peak3"):
        fonts[key] = fit(key, parts.cue, by_ink=True, max_px=fonts["cue"].pixelSize())
    return TileStyle(width, height, parts, message_part, fonts)


class WallTile(QWidget):
    """Shows one ``ParticipantView``; ``update_from`` says whether anything visible changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Every pixel is painted here: Qt need not clear behind it first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.trace = TraceView(self)
        self.content: TileContent | None = None
        self.style_: TileStyle | None = None
        self.placed: dict[str, PlacedText] = {}
        self.battery_rect: QRect | None = None
        self.content_changed = False  # by the last update_from: the texts need repainting
        self.trace_changed = False  # by the last update_from: the trace view does
        self._name_font: tuple[str, QFont] | None = None
        self._key: tuple[object, ...] | None = None
        self._trace_source: object = None

    # -- state ----------------------------------------------------------------------------
    def set_style(self, style: TileStyle) -> None:
        if style == self.style_:
            return
        self.style_ = style
        self._name_font = None
        self._key = None
        if style.parts.trace is None:
            self.trace.hide()
        else:
            x, y, w, h = style.parts.trace
            self.trace.setGeometry(x, y, w, h)
            self.trace.set_line_width(max(2, round(h / 22)))
            self.trace.show()
        if self.content is not None:
            self.trace.set_colours(self.content.background, self.content.text)
            self._place()

    def update_from(self, p: ParticipantView, phase: Phase | None,
                    band_pct: tuple[float, float] | None, elapsed_s: float) -> bool:
        """Take the participant's current view; True when the tile must be repainted."""
        live = p.signal is SignalState.LIVE
        # A live trace ends at its newest sample; any other scrolls on with the session
        # clock (once a second), so a silent strap shows a growing gap, not a frozen line.
        # An empty one (nothing received yet) has nothing to scroll.
        if len(p.trace_t_s) == 0:
            x_end_s = 0.0
        elif live:
            x_end_s = float(p.trace_t_s[-1])
        else:
            x_end_s = float(math.floor(elapsed_s))
        # Most participants have no new sample in a given frame: a few comparisons say so.
        key = (x_end_s, p.signal, p.bpm, p.pct_hrmax, p.level,
               None if live else math.floor(p.age_s or 0.0), p.battery_pct, p.beta_blocker,
               p.target, p.intervals_achieved, p.intervals_judged, p.alarms, p.display_name,
               p.block_peak_pct, p.no_rr, phase, band_pct)
        if p.trace_t_s is self._trace_source and key == self._key:
            self.content_changed = self.trace_changed = False
            return False
        self._trace_source = p.trace_t_s
        self._key = key
        content = tile_content(p, phase)
        changed = content != self.content
        trace = self.trace
        recoloured = False
        if changed:
            self.content = content
            recoloured = trace.set_colours(content.background, content.text)
            self._place()
        self.content_changed = changed
        if self.style_ is not None and self.style_.parts.trace is None:
            self.trace_changed = False  # no trace on this size of tile: nothing to update
            return changed
        moved_band = trace.set_band(band_pct)
        new_line = trace.set_trace(p.trace_t_s, p.trace_pct, x_end_s)
        self.trace_changed = recoloured or moved_band or new_line
        return changed or self.trace_changed

    def _place(self) -> None:
        c, style = self.content, self.style_
        if c is None or style is None:
            return
        parts, fonts = style.parts, style.fonts
        if self._name_font is None or self._name_font[0] != c.name:
            _, _, nw, nh = parts.name
            full_px = fonts["name"].pixelSize()
            # A long name shrinks a little, then elides: tiny type helps nobody at 5 m.
            px = max(fitted_px([c.name], nw, nh, max_px=full_px), round(full_px * NAME_MIN_SCALE))
            self._name_font = (c.name, font_px(px))
        placed = {"name": place(c.name, self._name_font[1], parts.name)}
        if c.number_is_message:
            placed["number"] = place(c.number, fonts["message"], style.message_part)
        else:
            placed["number"] = place(c.number, fonts["number"], parts.number,
                                     align="right", by_ink=True)
            # Two digits nearly always; three (100 % and up) in the type fitted for three.
            pct_font = fonts["pct3"] if len(c.pct) > len("88 %") else fonts["pct"]
            placed["pct"] = place(c.pct, pct_font, parts.pct, by_ink=True)
        placed["word"] = place(c.word, fonts["word"], parts.word, by_ink=True)
        if c.cue_text or not c.peak:
            placed["cue"] = place(c.cue_text, fonts["cue"], parts.cue, by_ink=True)
        else:
            three_digits = sum(ch.isdigit() for ch in c.peak) > 2
            placed["peak"] = place(c.peak, fonts["peak3" if three_digits else "peak"],
                                   parts.cue, by_ink=True)
        placed["badges"] = place(c.intervals, fonts["badges"], parts.badges, align="right")
        mx, my, mw, mh = parts.marks
        right = mx + mw
        self.battery_rect = None
        if c.battery_low:
            icon_h = max(6, round(mh * 0.6))
            icon_w = min(mw, round(icon_h * 1.9))
            self.battery_rect = QRect(right - icon_w, my + (mh - icon_h) // 2, icon_w, icon_h)
            right -= icon_w + max(3, icon_h // 2)
        marks = "  ".join(m for m in (c.no_rr, "β" if c.beta_blocker else "") if m)
        if marks:
            placed["marks"] = place(marks, fonts["marks"], (mx, my, max(0, right - mx), mh),
                                    align="right")
        self.placed = {k: v for k, v in placed.items() if v.text}

    def texts(self) -> dict[str, str]:
        """What the tile says, part by part (for tests and accessibility)."""
        return {k: v.text for k, v in self.placed.items()}

    def probe_point(self) -> QPoint:
        """A point in tile coordinates where only the background colour is painted."""
        style = self.style_
        margin = style.parts.margin if style is not None else 2
        return QPoint(margin - 1, self.height() // 2)

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        c = self.content
        painter = QPainter(self)
        if c is None:
            painter.fillRect(self.rect(), QColor("#000000"))
            painter.end()
            return
        painter.fillRect(self.rect(), QColor(c.background))
        text_colour = QColor(c.text)
        if c.ceiling:
            width = max(3, (self.style_.parts.margin if self.style_ else 6) // 2)
            painter.setPen(QPen(text_colour, width))
            half = width / 2
            painter.drawRect(QRectF(half, half, self.width() - width, self.height() - width))
        for key, placed in self.placed.items():
            painter.setPen(QColor(c.number_colour) if key == "number" else text_colour)
            painter.setFont(placed.font)
            painter.drawText(placed.origin, placed.text)
        if self.battery_rect is not None:
            self._paint_battery(painter, text_colour)
        painter.end()

    def _paint_battery(self, painter: QPainter, colour: QColor) -> None:
        r = self.battery_rect
        assert r is not None
        pen_w = max(1, r.height() // 7)
        nub_w = max(2, r.width() // 10)
        body = QRectF(r.x() + pen_w / 2, r.y() + pen_w / 2, r.width() - nub_w - pen_w,
                      r.height() - pen_w)
        painter.setPen(QPen(colour, pen_w))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(body)
        painter.fillRect(QRectF(body.right() + pen_w / 2, r.y() + r.height() / 3, nub_w,
                                r.height() / 3), colour)
        inner = body.adjusted(pen_w * 1.5, pen_w * 1.5, -pen_w * 1.5, -pen_w * 1.5)
        painter.fillRect(QRectF(inner.x(), inner.y(), inner.width() * 0.2, inner.height()),
                         colour)
