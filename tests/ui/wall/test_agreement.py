"""Every tile of the wall, every few seconds of a whole simulated session: the number, the %,
the class word, the colour and the cue say one thing.

Read back from what the tiles drew (their texts and a background pixel), against rules a
participant would state: the word is the class the number falls in, the colour is that
class's, and the cue says push only below the target, hold only inside it and ease off only
at or above its top.
"""

import itertools
import math

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor

from hiaim_monitor.display import CLASS_COLOUR
from hiaim_monitor.engine.adherence import target_of
from hiaim_monitor.engine.classify import level_of
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import SignalState
from hiaim_monitor.protocols import Thresholds, load_protocol
from hiaim_monitor.session import LiveSession
from simulators.faults import FaultConfig
from simulators.stepped import SteppedClass
from ui.wall import WallScreen, palette

FULL_HD = QSize(1920, 1080)
FRAME_EVERY_S = 4
WORD_LEVEL = {"EASY": Level.BELOW, "INTERMEDIATE": Level.INTERMEDIATE, "HIGH": Level.HIGH,
              "TOO HIGH": Level.ABOVE_CEILING}
ARROW = {"▲": "push", "●": "hold", "▼": "ease off"}


def allowed_cues(pct: int, phase, th: Thresholds) -> set[str | None]:
    """What the cue may say at ``pct`` in ``phase`` (bands run from their low edge up to
    below their top, as classes do)."""
    if pct >= th.ceiling_pct:
        return {"ease off"}
    target = target_of(phase)
    if target is None:  # warm-up, recovery, cool-down: only "ease off", at the band's top
        top = phase.target_max_pct
        return {"ease off"} if top is not None and pct >= top else {None}
    low = max(phase.target_min_pct,
              th.intermediate_pct if target is Level.INTERMEDIATE else th.high_pct)
    top = th.high_pct if target is Level.INTERMEDIATE else th.ceiling_pct
    if phase.target_max_pct is not None:
        top = min(top, phase.target_max_pct)
    if pct < low:
        return {"push"}
    return {"hold"} if pct < top else {"ease off"}


@pytest.mark.slow  # a whole session, drawn: about 25 s; `make test-quick` leaves it out
@pytest.mark.parametrize(("protocol_key", "n"), [("intermediate-high", 10), ("norwegian-4x4", 16)])
def test_word_cue_colour_and_number_agree_on_every_tile_through_a_whole_session(
        qtbot, protocol_key, n):
    protocol = load_protocol(protocol_key)
    th = protocol.thresholds
    sim = SteppedClass(n, protocol, seed=11, faults=FaultConfig.demo(), staggered=True)
    session = LiveSession(protocol, sim.participants, sim.clock, sim.events, start_mono_s=0.0)
    wall = WallScreen()
    qtbot.addWidget(wall)
    wall.resize(FULL_HD)
    seen_levels: set[Level] = set()
    seen_cues: set[str | None] = set()
    seen = {"stale": 0, "lost or no contact": 0, "held at a class edge": 0, "checked": 0}

    end_s = math.ceil(session.duration_s)
    for t in range(FRAME_EVERY_S, end_s, FRAME_EVERY_S):
        sim.run_to(t, on_second=session.tick)
        snap = session.tick()
        wall.show_snapshot(snap)
        wall.frame()
        image = wall.grab().toImage()
        phase = snap.position.phase if snap.position is not None else None
        for tile, p in zip(wall.tiles, snap.participants, strict=True):
            texts = tile.texts()
            at = tile.mapTo(wall, tile.probe_point())
            background = QColor(image.pixel(at.x(), at.y()))
            where = f"{p.display_name} at {t} s ({phase.name if phase else '-'}): {texts}"
            inks = [placed.ink for placed in tile.placed.values()]
            assert all(tile.rect().contains(r) for r in inks), f"clipped: {where}"
            assert not any(a.intersects(b) for a, b in itertools.combinations(inks, 2)), \
                f"overlap: {where}"
            if "pct" not in texts:
                # No number: a message, a neutral tile, no word or cue to contradict it.
                assert p.bpm is None and not any(ch.isdigit() for ch in texts["number"])
                assert "word" not in texts and "cue" not in texts, where
                assert background == QColor(palette.NEUTRAL_BG), where
                seen["lost or no contact"] += p.signal is not SignalState.WAITING
                continue
            pct = int(texts["pct"].removesuffix(" %"))
            level = level_of(pct, th)
            # The big number and the % are one value (to a bpm's rounding).
            hrmax = next(q.hrmax.bpm for q in sim.participants
                         if q.study_code == p.study_code)
            assert abs(100 * int(texts["number"]) / hrmax - pct) <= 0.5 + 50 / hrmax, where
            if p.signal is SignalState.STALE:
                dimmed = palette.blend(CLASS_COLOUR[level], palette.WALL_BG,
                                       palette.STALE_DIM)
                assert background == QColor(dimmed), where
                assert "cue" not in texts, where
                seen["stale"] += 1
                continue
            assert WORD_LEVEL[texts["word"]] is level, where
            assert background == QColor(CLASS_COLOUR[level]), where
            cue = ARROW[texts["cue"][0]] if "cue" in texts else None
            assert cue in allowed_cues(pct, phase, th), where
            seen_levels.add(level)
            seen_cues.add(cue)
            seen["checked"] += 1
            smoothed = float(session.engine.samples.latest(
                snap.participants.index(p), 1)["pct"][0])
            seen["held at a class edge"] += round(smoothed) != pct

    # The session really went through what the wall must get right.
    assert seen_cues >= {"push", "hold", "ease off"}, seen_cues
    assert seen_levels == set(CLASS_COLOUR), seen_levels
    # About one tile in twenty shows a % held at the edge of its class (hysteresis, dwell).
    assert seen["checked"] > 5000 and seen["held at a class edge"] > 100, seen
    assert seen["stale"] > 0 and seen["lost or no contact"] > 0, seen
