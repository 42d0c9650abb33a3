"""Intensity classes from % HRmax (or % heart-rate reserve) with hysteresis and a minimum
dwell, so a participant hovering at a threshold does not flicker between classes.

Runs once per trusted sample per participant, in plain Python floats: a handful of
comparisons is cheaper than any numpy call at this size.
"""

from __future__ import annotations

import math

from hiaim_monitor.engine.codes import ZONE_EDGES_PCT, Level
from hiaim_monitor.protocols import Thresholds


def zone_of(pct: float) -> int:
    """The 5-zone band of ``pct`` % HRmax: 0 below 50 %, 1 for 50–60 %, …, 5 for ≥ 90 %."""
    zone = 0
    for edge in ZONE_EDGES_PCT:
        if pct >= edge:
            zone += 1
    return zone


def level_of(pct: float, th: Thresholds) -> Level:
    """The class of ``pct`` with no hysteresis."""
    if pct >= th.ceiling_pct:
        return Level.ABOVE_CEILING
    if pct >= th.high_pct:
        return Level.HIGH
    if pct >= th.intermediate_pct:
        return Level.INTERMEDIATE
    return Level.BELOW


class Smoother:
    """Time-aware exponential smoothing of heart rate: a light touch (a few seconds), so
    one noisy notification does not flip a class but a real change shows within seconds."""

    __slots__ = ("_t", "tau_s", "value")

    def __init__(self, tau_s: float) -> None:
        self.tau_s = tau_s
        self.value: float | None = None
        self._t = 0.0

    def update(self, bpm: float, t_s: float) -> float:
        if self.value is None or self.tau_s <= 0:
            self.value = bpm
        else:
            alpha = 1.0 - math.exp(-max(0.0, t_s - self._t) / self.tau_s)
            self.value += alpha * (bpm - self.value)
        self._t = t_s
        return self.value

    def reset(self) -> None:
        self.value = None


def shown_pct(pct: float, level: Level, edges: tuple[float, float, float]) -> int:
    """The whole % to show for ``pct`` classified as ``level`` (``edges``: the lower edges of
    INTERMEDIATE, HIGH and ABOVE_CEILING, as the classifier's ``edges``).

    Hysteresis and the dwell keep the class a few seconds behind the value at a class edge
    (87 % is still intermediate for the first seconds after crossing 85 %). The number shown
    then stays at the edge of the class it is shown with (84 %), and moves on once the class
    does: the shown % is the value the classifier has accepted, so a view's number never
    contradicts the class word, colour and cue beside it (``level_of(shown_pct(...))`` is
    always ``level`` for whole-number edges).
    """
    value = round(pct)
    if level > Level.BELOW:
        value = max(value, math.ceil(edges[level - 1]))
    if level < Level.ABOVE_CEILING:
        # The highest whole number below the next edge; never below the class's own edge.
        top = math.ceil(edges[level]) - 1
        if level > Level.BELOW:
            top = max(top, math.ceil(edges[level - 1]))
        value = min(value, top)
    return value


class HysteresisClassifier:
    """Stable class per participant.

    A move up to a class needs the value at least ``hysteresis_pct`` above that class's lower
    edge; a move down needs it ``hysteresis_pct`` below the current class's lower edge. A new
    class is taken only once it has held for ``min_dwell_s``. The safety ceiling is the
    exception: reaching it is enough to move up (no hysteresis on the way up), so the class
    says "above the ceiling" by the time the ceiling alarm (which starts at the ceiling) goes
    off.
    """

    __slots__ = ("_pending", "_pending_since", "edges", "hysteresis_pct", "level",
                 "min_dwell_s")

    def __init__(self, thresholds: Thresholds, hysteresis_pct: float, min_dwell_s: float,
                 ceiling_pct: float | None = None) -> None:
        ceiling = thresholds.ceiling_pct if ceiling_pct is None else ceiling_pct
        # Lower edge of INTERMEDIATE, HIGH and ABOVE_CEILING.
        self.edges = (thresholds.intermediate_pct, thresholds.high_pct, ceiling)
        self.hysteresis_pct = hysteresis_pct
        self.min_dwell_s = min_dwell_s
        self.level = Level.UNKNOWN
        self._pending = Level.UNKNOWN
        self._pending_since = 0.0

    def _raw(self, pct: float) -> Level:
        """The class ``pct`` points to, given hysteresis around the current class."""
        current = self.level
        if current is Level.UNKNOWN:
            level = Level.BELOW
            for i, edge in enumerate(self.edges):
                if pct >= edge:
                    level = Level(i + 1)
            return level
        h = self.hysteresis_pct
        level = current
        # Up: each higher edge must be cleared by h (the ceiling only reached).
        while level < Level.ABOVE_CEILING and pct >= self.edges[level] + (
                0.0 if level == Level.HIGH else h):
            level = Level(level + 1)
        if level != current:
            return level
        # Down: fall below the current class's lower edge by h, then keep falling.
        while level > Level.BELOW and pct < self.edges[level - 1] - h:
            level = Level(level - 1)
        return level

    def update(self, pct: float, t_s: float) -> Level:
        raw = self._raw(pct)
        if self.level is Level.UNKNOWN:
            self.level = raw  # nothing to flicker against yet
            self._pending = raw
        elif raw == self.level:
            self._pending = raw
        else:
            if raw != self._pending:
                self._pending = raw
                self._pending_since = t_s
            if t_s - self._pending_since >= self.min_dwell_s:
                self.level = raw
        return self.level

    def reset(self) -> None:
        """Forget the class (after signal loss: old history says nothing about now)."""
        self.level = Level.UNKNOWN
        self._pending = Level.UNKNOWN
