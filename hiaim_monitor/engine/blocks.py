"""A block of short bouts (N × work s / rest s) judged as a whole, and what counts as one
prescribed interval of a protocol: a long work phase, or a whole block.

Why a block is judged as a whole: heart rate lags the workload by 20–60 s (the ramp the
long phases' ``ramp_allowance_s`` allows for), so within a 20 s bout it never settles, and
"time in target during the bout" under-reads what happened: the peak of a bout's effort
comes in the rest after it. A block is therefore measured over its whole running time,
rests included: the peak % HRmax it reached, the time at or above its ``target_min_pct``,
the time to first reach that target, and each bout's own peak; it is achieved by the rule
its file sets (``achieved_by``: peak, time or bouts).

The result has the same shape as a long phase's (``PhaseAdherence``, with the block fields
filled in), stored under the block's first phase, so everything that counts intervals
counts a block once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from hiaim_monitor import config
from hiaim_monitor.engine.adherence import (
    PhaseAdherence,
    judge_window,
    target_of,
    target_of_kind,
)
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.intervals import sample_durations_s
from hiaim_monitor.protocols import AchievedRule, Block, PhaseKind, TrainingProtocol
from hiaim_monitor.schedule import PhaseWindow, planned_windows, running_time

_EPS_S: Final = 1e-9  # absorbs float error when a block ran exactly the share needed
# A % HRmax is compared with a block's target as it is reported: to the hundredth, as the
# summary and the exports keep it, so a figure shown at the target has reached it.
PCT_DECIMALS: Final = 2


def block_label(block: Block, *, translated: bool = True) -> str:
    """The block as one line with its repeats: "Sprints 15 × 20/20 s" (its name in the
    current language unless ``translated`` is False)."""
    name = block.display_name if translated else block.name
    return f"{name} {block.repeat} × {block.work_s:g}/{block.rest_s:g} s"


def shown_peak_pct(peak_pct: float) -> int:
    """A peak as a whole % for people to read: rounded down, so a peak shown at the target
    (85 %) has reached it (84.6 % shows as 84, never as an 85 that was not achieved)."""
    return math.floor(round(peak_pct, PCT_DECIMALS))


def reached(pct: float | None, target_pct: float) -> bool:
    """Whether a peak (or a sample) reached ``target_pct``, as it is reported."""
    return pct is not None and round(pct, PCT_DECIMALS) >= target_pct


@dataclass(frozen=True, slots=True)
class Prescribed:
    """One interval the protocol prescribes, as it lays it out: a long work phase, or a
    whole block of short bouts. ``index`` is the phase its result is stored under (the
    block's first phase)."""

    index: int
    name: str  # English; a block's label with its repeats
    kind: PhaseKind
    target: Level
    start_s: float  # the protocol's own times: no pause, skip or extension
    end_s: float
    block: Block | None = None

    @property
    def planned_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def display_name(self) -> str:
        return self.name if self.block is None else block_label(self.block)


def prescribed_intervals(protocol: TrainingProtocol) -> list[Prescribed]:
    """Every interval ``protocol`` prescribes, in order: each long work phase, and each
    block once (from its first phase to its last, rests included)."""
    windows = planned_windows(protocol)
    out: list[Prescribed] = []
    for w in windows:
        block = protocol.block_of(w.index)
        if block is not None:
            if w.index == block.first_phase:
                out.append(Prescribed(w.index, block_label(block, translated=False),
                                      block.kind, target_of_kind(block.kind), w.start_s,
                                      windows[block.last_phase].end_s, block))
            continue
        target = target_of(w.phase)
        if target is not None:
            out.append(Prescribed(w.index, w.phase.name, w.phase.kind, target, w.start_s,
                                  w.end_s))
    return out


@dataclass(frozen=True, slots=True)
class JudgedSpan:
    """What is judged once: a long work phase's window, or the windows a block ran."""

    windows: tuple[PhaseWindow, ...]
    block: Block | None = None


class SpanCollector:
    """Takes the windows of ended phases in order and says when an interval is complete: a
    long work phase at once, a block when its last phase has ended (or, through ``flush``,
    when the session ended in the middle of it: stop, or a --duration cap)."""

    def __init__(self, protocol: TrainingProtocol) -> None:
        self.protocol = protocol
        self._pending: list[PhaseWindow] = []

    def add(self, window: PhaseWindow) -> list[JudgedSpan]:
        block = self.protocol.block_of(window.index)
        out = []
        if self._pending and (block is None or block.index != self._pending[0].phase.block):
            out += self.flush()  # cannot happen with a schedule; never lose a block
        if block is None:
            if window.phase.kind.is_work:
                out.append(JudgedSpan((window,)))
            return out
        if not self._pending and window.index != block.first_phase:
            return out  # the rest of a block already judged (the session ended inside it)
        self._pending.append(window)
        if window.index >= block.last_phase:
            out += self.flush()
        return out

    def flush(self) -> list[JudgedSpan]:
        """The block begun but not ended, if any: judged on what it ran."""
        if not self._pending:
            return []
        windows, self._pending = tuple(self._pending), []
        return [JudgedSpan(windows, self.protocol.block_of(windows[0].index))]


def judge_span(span: JudgedSpan, t_s: np.ndarray, pct: np.ndarray, level: np.ndarray,
               protocol: TrainingProtocol, *,
               max_gap_s: float = config.MAX_CREDIT_GAP_S) -> PhaseAdherence:
    """The result of one interval: a long phase by today's rule, a block as a whole."""
    if span.block is None:
        return judge_window(span.windows[0], t_s, pct, level, protocol, max_gap_s=max_gap_s)
    return judge_block(span.block, span.windows, t_s, pct, level, protocol,
                       max_gap_s=max_gap_s)


def _to_running(t_s: float, pauses: Sequence[tuple[float, float]]) -> float:
    """Session time ``t_s`` with the pauses before it cut out (as ``running_time`` does)."""
    return t_s - sum(min(max(t_s, a), b) - a for a, b in pauses)


def judge_block(block: Block, windows: Sequence[PhaseWindow], t_s: npt.ArrayLike,
                pct: npt.ArrayLike, level: npt.ArrayLike, protocol: TrainingProtocol, *,
                max_gap_s: float = config.MAX_CREDIT_GAP_S) -> PhaseAdherence:
    """Judge ``block`` from the windows its phases really ran (in order, from its first
    phase; fewer than all when the session ended inside it). Pauses are cut out first, as
    for a long phase, so every figure counts only time the countdown ran. A block that ran
    less than the protocol's ``min_judged_fraction`` of its planned length is measured but
    not judged."""
    if not windows or windows[0].index != block.first_phase:
        raise ValueError(f"block {block.name!r} is judged from its first phase on")
    pauses = tuple(p for w in windows for p in w.pauses)
    t_all = np.asarray(t_s, dtype=np.float64)
    p_all = np.asarray(pct, dtype=np.float64)
    lv_all = np.asarray(level)
    if pauses:
        t_all, keep = running_time(t_all, pauses)
        p_all, lv_all = p_all[keep], lv_all[keep]
    start_s = windows[0].start_s
    end_s = _to_running(windows[-1].end_s, pauses)  # running time from here on
    ran_s = max(0.0, end_s - start_s)

    i0, i1 = np.searchsorted(t_all, (start_s, end_s), side="left")
    # Keep the first sample after the block: it says how long the last one inside holds.
    held = sample_durations_s(t_all[i0:i1 + 1], end_s, max_gap_s)[: i1 - i0]
    t = t_all[i0:i1]
    dur = np.minimum(held, end_s - t)
    p = p_all[i0:i1]
    trusted = (lv_all[i0:i1] >= Level.BELOW) & np.isfinite(p)
    target_pct = block.target_min_pct
    at_or_above = trusted & (np.round(p, PCT_DECIMALS) >= target_pct)
    s_at = float(dur[at_or_above].sum())
    s_below = float(dur[trusted & ~at_or_above].sum())
    no_data = max(0.0, ran_s - s_at - s_below)
    peak = float(p[trusted].max()) if trusted.any() else None
    # First reached: the first trusted sample at or above target. Not held for
    # TARGET_HOLD_S as in a long phase: heart rate may touch the target only at the top of
    # a bout's rise, and that is what the block was for (the samples are smoothed already).
    hits_at = np.flatnonzero(at_or_above)
    time_to_target = float(t[hits_at[0]] - start_s) if hits_at.size else None

    # A bout's peak is the highest % from its work start to the next bout's work start
    # (the block's end for the last): heart rate lags effort by 20–60 s, so a bout's own
    # response peaks in the rest after it, not during its 20 s of work.
    bout_starts: dict[int, float] = {}
    for w in windows:
        bout_starts.setdefault(w.phase.bout, _to_running(w.start_s, pauses))
    edges = [*bout_starts.values(), end_s]
    bout_peaks: list[float | None] = []
    for lo, hi in itertools.pairwise(edges):
        inside = trusted & (t >= lo) & (t < hi)
        bout_peaks.append(float(p[inside].max()) if inside.any() else None)

    planned_s = sum(protocol.phases[i].duration_s for i in block.phase_indices)
    judged = ran_s + _EPS_S >= protocol.min_judged_fraction * planned_s
    if block.achieved_by is AchievedRule.PEAK:
        ok = reached(peak, target_pct)
    elif block.achieved_by is AchievedRule.TIME:
        ok = ran_s > 0 and s_at / ran_s + _EPS_S >= block.achieved_fraction
    else:
        hits = sum(1 for b in bout_peaks if reached(b, target_pct))
        ok = bool(bout_peaks) and hits / len(bout_peaks) + _EPS_S >= block.achieved_fraction
    fraction = s_at / ran_s if ran_s > 0 else 0.0

    shown_start, shown_end = windows[0].start_s, windows[-1].end_s  # session clock
    if ran_s <= 0:  # skipped the moment it began: report where the protocol put it
        shown_start = windows[0].planned_start_s
        shown_end = planned_windows(protocol)[block.last_phase].end_s
    return PhaseAdherence(
        phase_index=block.first_phase, phase_name=block_label(block, translated=False),
        kind=block.kind, start_s=float(shown_start), end_s=float(shown_end),
        target=target_of_kind(block.kind), seconds_in_target=s_at, seconds_above_target=0.0,
        seconds_below_target=s_below, seconds_no_data=no_data,
        fraction_in_target_after_ramp=fraction, time_to_target_s=time_to_target,
        peak_pct=peak, achieved=judged and ok, planned_s=float(planned_s), ran_s=ran_s,
        judged=judged, block_index=block.index, bout_peaks_pct=tuple(bout_peaks),
        achieved_by=block.achieved_by.value, target_pct=float(target_pct))


def protocol_adherence(t_s: npt.ArrayLike, pct: npt.ArrayLike, level: npt.ArrayLike,
                       protocol: TrainingProtocol, *,
                       end_s: float | None = None) -> list[PhaseAdherence]:
    """Judge every interval of ``protocol`` (long work phases, and blocks as a whole) that
    has ended by ``end_s`` (all when None), laid out as the protocol plans it; one still
    running is not judged. Phases start at session time 0."""
    t = np.asarray(t_s, dtype=np.float64)
    p = np.asarray(pct, dtype=np.float64)
    lv = np.asarray(level)
    spans = SpanCollector(protocol)
    out: list[PhaseAdherence] = []
    for window in planned_windows(protocol):
        if end_s is not None and window.end_s > end_s:
            break
        out += [judge_span(span, t, p, lv, protocol) for span in spans.add(window)]
    return out
