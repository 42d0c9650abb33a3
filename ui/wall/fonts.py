"""Type that fits: the largest font whose text stays inside a part of a tile or the header.
Fonts are fitted when the wall is resized (or the language changes), never while painting."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from ui.wall.layout import Rect

MIN_TEXT_PX: Final = 9  # below this a text is elided rather than shrunk further


def font_px(px: int, bold: bool = True) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, px))
    font.setBold(bold)
    # Without hinting the metrics measured here are the ones the glyphs are drawn with.
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


def _fits(texts: list[str], width: float, height: float, px: int, bold: bool,
          by_ink: bool) -> bool:
    fm = QFontMetricsF(font_px(px, bold))
    if by_ink:
        # Texts known in full (digits, the cue and class words): their ink decides, not the
        # line height, which keeps room for accents and descenders they may not have.
        ink = [fm.tightBoundingRect(t) for t in texts]
        return all(r.width() <= width and r.height() <= height for r in ink) and \
            max(fm.horizontalAdvance(t) for t in texts) <= width
    return fm.height() <= height and max(fm.horizontalAdvance(t) for t in texts) <= width


def fitted_px(texts: Iterable[str], width: float, height: float, *, bold: bool = True,
              by_ink: bool = False, max_px: int | None = None) -> int:
    """The largest pixel size at which every one of ``texts`` fits ``width`` × ``height``
    (MIN_TEXT_PX if even that is too big: the caller elides)."""
    wanted = [t for t in texts if t] or ["M"]
    lo, hi = MIN_TEXT_PX, max(MIN_TEXT_PX, int(height * 1.5))
    if max_px is not None:
        hi = max(lo, min(hi, max_px))
    if not _fits(wanted, width, height, lo, bold, by_ink):
        return lo
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _fits(wanted, width, height, mid, bold, by_ink):
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass(frozen=True, slots=True)
class PlacedText:
    """A text with its font and where it is drawn: ``origin`` is the baseline start,
    ``ink`` the box its glyphs cover (for tests: inside its part, clear of the others)."""

    text: str
    font: QFont
    origin: QPointF
    ink: QRect


def place(text: str, font: QFont, part: Rect, *, align: str = "left",
          by_ink: bool = False) -> PlacedText:
    """``text`` in ``part``: vertically centred (by its ink when fitted by ink, else by its line),
    aligned left, right or centre; elided with "…" if it is still too wide."""
    x, y, w, h = part
    fm = QFontMetricsF(font)
    if fm.horizontalAdvance(text) > w:
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, w)
    advance = fm.horizontalAdvance(text)
    if align == "right":
        left = x + w - advance
    elif align == "centre":
        left = x + (w - advance) / 2
    else:
        left = float(x)
    if by_ink and text:
        tight = fm.tightBoundingRect(text)
        baseline = y + (h - tight.height()) / 2 - tight.top()
    else:
        baseline = y + (h - fm.height()) / 2 + fm.ascent()
    if not text:
        return PlacedText(text, font, QPointF(left, baseline), QRect())
    local = fm.tightBoundingRect(text) if by_ink else fm.boundingRect(text)
    # Side bearings can put ink a pixel past the advance: nudge it back inside the part.
    if left + local.right() > x + w:
        left = x + w - local.right()
    if left + local.left() < x:
        left = x - local.left()
    ink_rect = local.translated(left, baseline).toAlignedRect()
    return PlacedText(text, font, QPointF(left, baseline), ink_rect)

