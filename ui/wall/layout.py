"""Where things go on the wall: the tile grid for 1–40 participants, the parts of one tile and
of the header. Pure arithmetic on integer pixel rectangles ``(x, y, w, h)``, so it is tested
without Qt and computed once per resize, never while painting."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

Rect = tuple[int, int, int, int]  # x, y, width, height in pixels

IDEAL_TILE_ASPECT: Final = 1.5  # width / height a tile's contents are designed for
HEADER_FRACTION: Final = 0.12  # of the screen height
HEADER_MIN_PX: Final = 56
GAP_FRACTION: Final = 0.005  # of the screen width, between tiles
MARGIN_FRACTION: Final = 0.035  # of a tile's width, inside each tile edge


@dataclass(frozen=True, slots=True)
class Grid:
    cols: int
    rows: int
    tile_w: int
    tile_h: int


def grid_for(n: int, width: int, height: int, gap: int) -> Grid:
    """The columns × rows that give ``n`` tiles the largest readable size in ``width`` ×
    ``height``: a tile is judged by the biggest rectangle of the ideal aspect that fits in it,
    so neither slivers nor letterboxes win."""
    if n < 1:
        raise ValueError(f"the wall needs at least one tile, got {n}")
    best: tuple[float, int, Grid] | None = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        if cols > 1 and math.ceil(n / (cols - 1)) == rows:
            continue  # the same rows with a column fewer gives wider tiles
        tile_w = (width - (cols - 1) * gap) // cols
        tile_h = (height - (rows - 1) * gap) // rows
        if tile_w < 1 or tile_h < 1:
            continue
        usable_h = min(tile_h, tile_w / IDEAL_TILE_ASPECT)
        score = usable_h * usable_h * IDEAL_TILE_ASPECT
        # Ties go to fewer empty cells, then to fewer rows (a shorter scan for one's name).
        key = (score, -(rows * cols - n))
        if best is None or key > best[:2]:
            best = (*key, Grid(cols, rows, tile_w, tile_h))
    if best is None:
        raise ValueError(f"{width}×{height} px has no room for {n} tiles")
    return best[2]


def tile_rects(n: int, area: Rect, gap: int) -> list[Rect]:
    """``n`` tiles in ``area``, row by row in the given order; tiles share out the area so
    the grid fills it edge to edge."""
    x0, y0, width, height = area
    grid = grid_for(n, width, height, gap)
    rects = []
    for i in range(n):
        row, col = divmod(i, grid.cols)
        x = x0 + col * (grid.tile_w + gap)
        y = y0 + row * (grid.tile_h + gap)
        rects.append((x, y, grid.tile_w, grid.tile_h))
    return rects


def wall_areas(width: int, height: int) -> tuple[Rect, Rect, int]:
    """(header, tile area, gap) for a wall of ``width`` × ``height``."""
    gap = max(4, round(width * GAP_FRACTION))
    header_h = max(HEADER_MIN_PX, round(height * HEADER_FRACTION))
    header = (gap, gap, width - 2 * gap, header_h)
    top = header_h + 2 * gap
    return header, (gap, top, width - 2 * gap, height - top - gap), gap


@dataclass(frozen=True, slots=True)
class TileParts:
    """The parts of one tile, in tile coordinates. Text parts never overlap each other."""

    name: Rect  # display name, top left
    badges: Rect  # intervals achieved: top right
    number: Rect  # bpm (or "signal lost") in the largest type
    pct: Rect  # % HRmax, beside the number
    marks: Rect  # battery low, beta blocker: above the % HRmax
    cue: Rect  # push / hold / ease off, the whole width
    word: Rect  # class word, or the age of a stale value, the whole width
    trace: Rect | None  # the mini trace; None on tiles too small for one worth reading
    margin: int  # clear border inside the tile: no text there

    def text_parts(self) -> dict[str, Rect]:
        return {"name": self.name, "badges": self.badges, "number": self.number,
                "pct": self.pct, "word": self.word, "cue": self.cue, "marks": self.marks}


# Share of the inner height per row, top to bottom: name, number, cue, word, trace. A
# participant reads the number, the % and the cue from their bike; the class word says in
# words what the colour says, and the trace is a shape to glance at.
ROW_SHARES: Final = (0.15, 0.36, 0.14, 0.10, 0.25)
# Without the trace its space goes to the name, the number and the cue.
COMPACT_ROW_SHARES: Final = (0.27, 0.32, 0.26, 0.15)
TRACE_MIN_PX: Final = 80  # a shorter trace is a flat line from across the room: none then
NUMBER_WIDTH_SHARE: Final = 0.55  # of the inner width; % HRmax takes the rest
# Ink height over advance width of "888" in a bold sans (DejaVu Sans Bold: 0.77 / 2.09 em):
# a compact tile's number row is no taller than the width lets the number be.
NUMBER_INK_PER_WIDTH: Final = 0.37
BADGES_WIDTH_SHARE: Final = 0.30  # of the inner width, at the right of the name row
COMPACT_BADGES_SHARE: Final = 0.62  # of the band above the % on a tile without a trace
PCT_HEIGHT_SHARE: Final = 0.64  # of the number row, at its foot; the marks sit above


def _rows(inner_h: int, margin: int, shares: tuple[float, ...]) -> tuple[list[int], list[int]]:
    """Tops and heights of rows sharing ``inner_h``; the last takes the rounding."""
    gap = max(1, round(inner_h * 0.015))
    usable_h = inner_h - gap * (len(shares) - 1)
    heights = [int(usable_h * share) for share in shares]
    heights[-1] = usable_h - sum(heights[:-1])
    ys = [margin]
    for h in heights[:-1]:
        ys.append(ys[-1] + h + gap)
    return ys, heights


def tile_parts(width: int, height: int) -> TileParts:
    """Rows of a ``width`` × ``height`` tile: name, number and %, cue, class word, and the trace
    when it would be at least TRACE_MIN_PX tall. A small gap separates neighbouring parts."""
    margin = max(3, round(width * MARGIN_FRACTION))
    inner_w = width - 2 * margin
    inner_h = height - 2 * margin
    ys, heights = _rows(inner_h, margin, ROW_SHARES)
    trace: Rect | None = (margin, ys[4], inner_w, heights[4])
    number_w = int(inner_w * NUMBER_WIDTH_SHARE)
    if heights[4] < TRACE_MIN_PX:
        shares = list(COMPACT_ROW_SHARES)
        # Height the number cannot use (its width limits it) goes to the name and the word.
        spare = shares[1] - min(shares[1], number_w * NUMBER_INK_PER_WIDTH * 1.08 / inner_h)
        shares[0] += spare / 2
        shares[1] -= spare
        shares[3] += spare / 2
        ys, heights = _rows(inner_h, margin, tuple(shares))
        trace = None
    gap_x = max(2, round(inner_w * 0.03))
    number = (margin, ys[1], number_w, heights[1])
    pct_x, pct_w = margin + number_w + gap_x, inner_w - number_w - gap_x
    pct_h = round(heights[1] * PCT_HEIGHT_SHARE)
    pct = (pct_x, ys[1] + heights[1] - pct_h, pct_w, pct_h)
    above_pct = (pct_x, ys[1], pct_w, max(1, heights[1] - pct_h - gap_x // 2))
    if trace is None:
        # Small tiles: the name gets the whole row (a name is never cut short on a wall of
        # 40); the intervals badge joins the marks above the %.
        name = (margin, ys[0], inner_w, heights[0])
        badges_w = int(pct_w * COMPACT_BADGES_SHARE)
        badges = (pct_x + pct_w - badges_w, ys[1], badges_w, above_pct[3])
        marks = (pct_x, ys[1], max(1, pct_w - badges_w - gap_x), above_pct[3])
    else:
        badges_w = int(inner_w * BADGES_WIDTH_SHARE)
        name = (margin, ys[0], inner_w - badges_w - gap_x, heights[0])
        badges = (margin + inner_w - badges_w, ys[0], badges_w, heights[0])
        marks = above_pct
    cue = (margin, ys[2], inner_w, heights[2])
    word = (margin, ys[3], inner_w, heights[3])
    return TileParts(name, badges, number, pct, marks, cue, word, trace, margin)


@dataclass(frozen=True, slots=True)
class HeaderParts:
    phase: Rect  # phase name and kind (during a block: the block's)
    detail: Rect  # target band and the next phase
    clock: Rect  # session time
    paused: Rect  # the PAUSED badge; with a station it takes the clock's place while paused
    countdown: Rect  # the large countdown
    progress: Rect  # a thin bar: how much of the phase (or block) has run
    station: Rect | None = None  # the station; None when the protocol names none
    state: Rect | None = None  # the GO / REST badge, during a block
    bout: Rect | None = None  # "7/15", during a block

    def text_parts(self) -> dict[str, Rect]:
        parts = {"phase": self.phase, "detail": self.detail, "clock": self.clock,
                 "paused": self.paused, "countdown": self.countdown}
        for key in ("station", "state", "bout"):
            rect = getattr(self, key)
            if rect is not None:
                parts[key] = rect
        return parts


# Shares of the header's width. A long phase: phase and detail on the left, session time,
# station and PAUSED in the middle, the m:ss countdown on the right.
HEADER_LEFT_SHARE: Final = 0.50
HEADER_MID_SHARE: Final = 0.20
# A block of short bouts: the GO / REST badge, the bout (7/15), the block and its target,
# the middle column as in a long phase (same size, so its type stays put), and the seconds.
STATE_SHARE: Final = 0.17
BOUT_SHARE: Final = 0.12
SECONDS_SHARE: Final = 0.16  # "888" at the countdown's full height


def _middle(x: int, pad: int, width: int, inner_h: int,
            station: bool) -> tuple[Rect, Rect, Rect | None]:
    """(clock, paused, station) in the middle column at ``x``: session time above and PAUSED
    below; with a station, the station above and the session time below, PAUSED in its
    place while paused (the session time matters least to a class that stopped)."""
    if station:
        low_y = pad + round(inner_h * 0.56)
        low = (x, low_y, width, pad + inner_h - low_y)
        return low, low, (x, pad, width, round(inner_h * 0.50))
    low_y = pad + round(inner_h * 0.52)
    return (x, pad, width, round(inner_h * 0.45)), (x, low_y, width, pad + inner_h - low_y), None


def _frame(height: int) -> tuple[int, int, int]:
    """(padding, progress bar height, height inside the padding above the bar)."""
    pad = max(4, round(height * 0.06))
    bar_h = max(3, round(height * 0.06))
    return pad, bar_h, height - 2 * pad - bar_h


def header_parts(width: int, height: int, *, station: bool = False) -> HeaderParts:
    """A long phase's header: phase on the left, session time (and the station, when the
    protocol names stations) and PAUSED in the middle, countdown on the right."""
    pad, bar_h, inner_h = _frame(height)
    left_w = round(width * HEADER_LEFT_SHARE)
    mid_w = round(width * HEADER_MID_SHARE)
    right_x = 2 * pad + left_w + mid_w + pad
    phase_h = round(inner_h * 0.58)
    phase = (pad, pad, left_w, phase_h)
    detail = (pad, pad + phase_h + pad // 2, left_w, inner_h - phase_h - pad // 2)
    clock, paused, station_rect = _middle(2 * pad + left_w, pad, mid_w, inner_h, station)
    countdown = (right_x, pad, width - right_x - pad, inner_h)
    progress = (0, height - bar_h, width, bar_h)
    return HeaderParts(phase, detail, clock, paused, countdown, progress, station_rect)


def block_header_parts(width: int, height: int, *, station: bool = False) -> HeaderParts:
    """A block's header, left to right: the GO / REST badge and the bout in type as tall as
    the header, the block's name over its target, the middle column as in a long phase, and
    the seconds of the bout as tall as the header."""
    pad, bar_h, inner_h = _frame(height)
    state_w = round(width * STATE_SHARE)
    bout_w = round(width * BOUT_SHARE)
    mid_w = round(width * HEADER_MID_SHARE)
    seconds_w = round(width * SECONDS_SHARE)
    state = (pad, pad, state_w, inner_h)
    bout_x = 2 * pad + state_w + pad
    bout = (bout_x, pad, bout_w, inner_h)
    text_x = bout_x + bout_w + 2 * pad
    seconds_x = width - pad - seconds_w
    mid_x = seconds_x - 2 * pad - mid_w
    text_w = mid_x - 2 * pad - text_x
    phase_h = round(inner_h * 0.58)
    phase = (text_x, pad, text_w, phase_h)
    detail = (text_x, pad + phase_h + pad // 2, text_w, inner_h - phase_h - pad // 2)
    clock, paused, station_rect = _middle(mid_x, pad, mid_w, inner_h, station)
    countdown = (seconds_x, pad, seconds_w, inner_h)
    progress = (0, height - bar_h, width, bar_h)
    return HeaderParts(phase, detail, clock, paused, countdown, progress, station_rect,
                       state, bout)


def overlaps(a: Rect, b: Rect) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def contains(outer: Rect, inner: Rect) -> bool:
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh
