"""A protocol with one block of short bouts and a hand-built heart-rate trace through it,
whose every block figure can be counted by hand: shared by the engine, storage, export and
report tests of blocks."""

from __future__ import annotations

import numpy as np

from hiaim_monitor.engine.codes import Level
from hiaim_monitor.protocols import TrainingProtocol, parse_protocol

WARM_UP_S, BLOCK_S = 60, 4 * 40  # warm-up 0–60 s; the block 60–220 s; cool-down 220–280 s
BOUT_STARTS_S = (60, 100, 140, 180)


def block_protocol(achieved_by: str = "peak", fraction: float = 0.5, *,
                   trailing_rest: bool = True, min_judged: float = 0.5) -> TrainingProtocol:
    """Warm-up 0–60 s, Sprints 4 × 20/20 s at ≥ 85 % (60–220 s), cool-down 220–280 s."""
    return parse_protocol(f"""
name = "Block test"
min_judged_fraction = {min_judged}
[thresholds]
intermediate_pct = 70
high_pct = 85
ceiling_pct = 100
[[steps]]
name = "Warm-up"
kind = "warm-up"
duration_s = {WARM_UP_S}
target_min_pct = 50
[[steps]]
block = "Sprints"
repeat = 4
work_s = 20
rest_s = 20
target_min_pct = 85
achieved_by = "{achieved_by}"
achieved_fraction = {fraction}
trailing_rest = {str(trailing_rest).lower()}
[[steps]]
name = "Cool-down"
kind = "cool-down"
duration_s = 60
target_min_pct = 40
""", source="block.toml", key="block")


def levels_of(pct: np.ndarray) -> np.ndarray:
    return np.digitize(pct, (70.0, 85.0, 100.0)).astype(np.int8)


def known_trace() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1 Hz, 0–280 s. In the block (60–220 s) heart rate sits at 75 % but for:
    bout 1 (60–100 s) tops out at 82 % at 90 s, in its rest (heart rate lags the effort);
    bout 2 (100–140 s) is at or above 85 % from 125 to 129 s, 88 % at its top (127 s);
    bout 3 (140–180 s) tops out at 84 % at 165 s; an untrusted 99 % at 150 s;
    bout 4 (180–220 s) is at or above 85 % from 200 to 209 s, 92 % at its top (205 s)."""
    pct = np.full(280, 60.0)
    pct[60:220] = 75.0
    pct[90] = 82.0
    pct[125:130] = (86.0, 86.0, 88.0, 86.0, 86.0)
    pct[165] = 84.0
    pct[150] = 99.0
    pct[200:210] = 87.0
    pct[205] = 92.0
    level = levels_of(pct)
    level[150] = Level.UNKNOWN  # e.g. a jump never confirmed
    return np.arange(280, dtype=np.float64), pct, level


