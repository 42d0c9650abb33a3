"""How big the wall's texts are, and from how far a participant can read them, for 8, 16 and
40 participants on a 1920×1080 wall (a 55" 1080p TV).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/wall_text.py [--sizes 8 16 40]
        [--diagonal-in 55]

A simulated class is stepped 21 minutes into the intermediate-high preset (HI AIM's old
structure: Intermediate 2/4, every tile live) and the wall is drawn offscreen once. Per tile
part (name, number, % HRmax, class word, cue) it prints the smallest cap height over all
tiles (the height of a capital or a digit, from the font the tile drew the part with), in
pixels and in millimetres on the screen, and the distance it reads from by the rule of thumb
that a character should be at least 1/200 of the viewing distance (FAA Human Factors,
"Character and Symbol Size"; about 17 minutes of arc, just above ISO 9241-3's 16-minute
minimum).

Then the same class in HI AIM's 15 × 20/20 s block (GO, bout 7/15): the header's GO / REST
word, the bout, the seconds and the station (the same for any number of participants), and
the smallest cap height of the block's peak on the tiles.
"""

from __future__ import annotations

import argparse
import math
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication

from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.session import LiveSession
from simulators.stepped import SteppedClass
from ui.wall import WallScreen
from ui.wall.fonts import PlacedText

SIZE = (1920, 1080)
PROTOCOL = "intermediate-high"
AT_S = 1260.0  # 21:00 into it: Intermediate 2/4
BLOCK_PROTOCOL = "hi-aim"
BLOCK_AT_S = 1628.0  # 27:08 into HI AIM: GO, bout 7/15 of the sprints, 12 s left
DISTANCE_PER_HEIGHT = 200  # a character reads from 200 times its height
PARTS = ("name", "number", "pct", "word", "cue")
HEADER_PARTS = ("state", "bout", "countdown", "station")


def mm_per_px(diagonal_in: float, width_px: int, height_px: int) -> float:
    """Pixel pitch of a screen with square pixels."""
    diagonal_px = math.hypot(width_px, height_px)
    return diagonal_in * 25.4 / diagonal_px


def _wall(n: int, protocol_key: str, at_s: float) -> WallScreen:
    protocol = load_protocol(protocol_key)
    sim = SteppedClass(n, protocol, seed=3)
    session = LiveSession(protocol, sim.participants, sim.clock, sim.events, start_mono_s=0.0)
    sim.run_to(at_s, on_second=session.tick)
    wall = WallScreen()
    wall.resize(*SIZE)
    wall.show_snapshot(session.tick())
    wall.frame()
    return wall


def _cap_px(placed: PlacedText, by_ink: bool) -> float:
    """Digits and capitals drawn fitted by their ink: the ink's height; else the font's."""
    return placed.ink.height() if by_ink else QFontMetricsF(placed.font).capHeight()


def cap_heights_px(n: int, parts: tuple[str, ...] = PARTS, *, protocol_key: str = PROTOCOL,
                   at_s: float = AT_S) -> dict[str, float]:
    """Per part, the smallest cap height (px) over the tiles of a wall of ``n``."""
    wall = _wall(n, protocol_key, at_s)
    smallest: dict[str, float] = {}
    for tile in wall.tiles:
        for part in parts:
            placed = tile.placed.get(part)
            if placed is None:
                continue
            cap = QFontMetricsF(placed.font).capHeight()
            smallest[part] = min(cap, smallest.get(part, math.inf))
    wall.deleteLater()
    return smallest


def block_header_caps_px() -> dict[str, float]:
    """Cap heights (px) of the header's GO / REST word, bout, seconds and station in a block
    (the header is the same whatever the number of participants)."""
    wall = _wall(1, BLOCK_PROTOCOL, BLOCK_AT_S)
    placed = wall.header.placed
    caps = {part: _cap_px(placed[part], by_ink=part != "station")
            for part in HEADER_PARTS if part in placed}
    wall.deleteLater()
    return caps


def _cell(px: float, pitch: float) -> str:
    mm = px * pitch
    return f"{px:5.1f} px {mm:4.1f} mm {mm * DISTANCE_PER_HEIGHT / 1000:3.1f} m"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 40])
    parser.add_argument("--diagonal-in", type=float, default=55.0,
                        help="screen diagonal in inches (default 55)")
    args = parser.parse_args()
    QApplication.instance() or QApplication([])
    pitch = mm_per_px(args.diagonal_in, *SIZE)
    print(f'{SIZE[0]}×{SIZE[1]} on {args.diagonal_in:g}": {pitch:.3f} mm per pixel; '
          f"readable distance = {DISTANCE_PER_HEIGHT} × cap height")
    print(f"{'n':>4}  " + "  ".join(f"{p:>20}" for p in PARTS))
    for n in args.sizes:
        caps = cap_heights_px(n)
        cells = [_cell(caps[p], pitch) if p in caps else f"{'–':>20}" for p in PARTS]
        print(f"{n:4d}  " + "  ".join(f"{c:>20}" for c in cells), flush=True)
    print(f"\nHI AIM's block, {BLOCK_AT_S:g} s in (GO, bout 7/15): the header")
    header = block_header_caps_px()
    print("  ".join(f"{p} {_cell(header[p], pitch)}" for p in HEADER_PARTS if p in header))
    print("the block's peak on the tiles (in the cue's row)")
    for n in args.sizes:
        caps = cap_heights_px(n, ("peak",), protocol_key=BLOCK_PROTOCOL, at_s=BLOCK_AT_S)
        cell = _cell(caps["peak"], pitch) if "peak" in caps else "–"
        print(f"{n:4d}  peak {cell}", flush=True)


if __name__ == "__main__":
    main()
