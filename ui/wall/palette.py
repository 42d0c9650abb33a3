"""Colours of the wall around the class colours (those are hiaim_monitor.display's
CLASS_COLOUR, shared with the control window): the background, the header, the states with
no class to colour by, and the contrast arithmetic that picks black or white text.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from hiaim_monitor.display import GO_COLOUR

WALL_BG: Final = "#111111"  # between tiles and behind the header
HEADER_TEXT: Final = "#FFFFFF"
HEADER_DIM_TEXT: Final = "#C8C8C8"
PAUSED_BG: Final = "#E69F00"
PROGRESS_BG: Final = "#333333"
PROGRESS_FG: Final = "#56B4E9"
PROGRESS_TICK: Final = WALL_BG  # where each bout of a block starts, across the bar
# GO and REST of a block of short bouts differ in word, in form and in lightness, not only
# in hue: GO is a badge filled with display.GO_COLOUR (black text at 7:1), REST the same
# badge left hollow, an outline on the dark header.
GO_BG: Final = GO_COLOUR
REST_EDGE: Final = HEADER_DIM_TEXT

NEUTRAL_BG: Final = "#3A3A3A"  # a tile with no value to colour by (lost, no contact, waiting)
MESSAGE_TEXT: Final = "#FFFFFF"  # "signal lost"
WARNING_TEXT: Final = "#F0E442"  # "check strap": yellow on grey
WAITING_TEXT: Final = "#B0B0B0"
STALE_NUMBER: Final = "#B4B4B4"  # an old number, greyed
STALE_TEXT: Final = "#D8D8D8"
STALE_DIM: Final = 0.70  # how far a stale tile's colour is pulled toward WALL_BG


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def hex_of(r: float, g: float, b: float) -> str:
    return f"#{round(r):02X}{round(g):02X}{round(b):02X}"


def luminance(colour: str) -> float:
    """WCAG relative luminance, 0 (black) to 1 (white)."""
    r, g, b = (_channel(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio, 1–21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@cache
def text_on(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    return "#000000" if contrast(background, "#000000") >= contrast(background, "#FFFFFF") \
        else "#FFFFFF"


@cache
def blend(colour: str, toward: str, amount: float) -> str:
    """``colour`` moved ``amount`` (0–1) of the way to ``toward``."""
    a, b = rgb(colour), rgb(toward)
    return hex_of(*(x + (y - x) * amount for x, y in zip(a, b, strict=True)))
