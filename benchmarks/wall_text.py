"""How big the wall's texts are, and from how far a participant can read them, for 8, 16 and
40 participants on a 1920×1080 wall (a 55" 1080p TV).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/wall_text.py [--sizes 8 16 40]
        [--diagonal-in 55]

A simulated class is stepped 21 minutes into HI AIM (Intermediate 2/4, every tile live) and
the wall is drawn offscreen once. Per tile part (name, number, % HRmax, class word, cue) it
prints the smallest cap height over all tiles (the height of a capital or a digit, from the
font the tile drew the part with), in pixels and in millimetres on the screen, and the
distance it reads from by the rule of thumb that a character should be at least 1/200 of
the viewing distance (FAA Human Factors, "Character and Symbol Size"; about 17 minutes of
arc, just above ISO 9241-3's 16-minute minimum).
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

SIZE = (1920, 1080)
AT_S = 1260.0  # 21:00 into HI AIM: Intermediate 2/4
DISTANCE_PER_HEIGHT = 200  # a character reads from 200 times its height
PARTS = ("name", "number", "pct", "word", "cue")


def mm_per_px(diagonal_in: float, width_px: int, height_px: int) -> float:
    """Pixel pitch of a screen with square pixels."""
    diagonal_px = math.hypot(width_px, height_px)
    return diagonal_in * 25.4 / diagonal_px


def cap_heights_px(n: int) -> dict[str, float]:
    """Per part, the smallest cap height (px) over the tiles of a wall of ``n``."""
    protocol = load_protocol("hi-aim")
    sim = SteppedClass(n, protocol, seed=3)
    session = LiveSession(protocol, sim.participants, sim.clock, sim.events, start_mono_s=0.0)
    sim.run_to(AT_S, on_second=session.tick)
    wall = WallScreen()
    wall.resize(*SIZE)
    wall.show_snapshot(session.tick())
    wall.frame()
    smallest: dict[str, float] = {}
    for tile in wall.tiles:
        for part in PARTS:
            placed = tile.placed.get(part)
            if placed is None:
                continue
            cap = QFontMetricsF(placed.font).capHeight()
            smallest[part] = min(cap, smallest.get(part, math.inf))
    wall.deleteLater()
    return smallest


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
        cells = []
        for part in PARTS:
            if part not in caps:
                cells.append(f"{'–':>20}")
                continue
            px = caps[part]
            mm = px * pitch
            cells.append(f"{px:5.1f} px {mm:4.1f} mm {mm * DISTANCE_PER_HEIGHT / 1000:3.1f} m")
        print(f"{n:4d}  " + "  ".join(f"{c:>20}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
