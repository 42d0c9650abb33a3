"""How closely one participant followed the protocol: per work phase, time in, above and
below the target class, and a session summary of time per class and per zone.

This is the trial's evidence of the intensity each participant reached, so time is counted
conservatively: untrusted samples and lost signal are "no data", never in target. A work
phase ends in one of three outcomes: achieved, not achieved, or not judged, when the
operator cut it short (skip, stop) before it ran the protocol's ``min_judged_fraction`` of
its prescribed length: seconds of data say nothing about the interval either way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hiaim_monitor import config
from hiaim_monitor.engine.codes import ZONE_EDGES_PCT, Level
from hiaim_monitor.engine.intervals import contiguous_runs, sample_durations_s
from hiaim_monitor.protocols import Phase, PhaseKind, Thresholds, TrainingProtocol
from hiaim_monitor.schedule import PhaseWindow, running_time

_EPS_S: Final = 1e-9  # absorbs float error when a phase ran exactly the share needed
_LEVEL_KEYS: Final = tuple(lv for lv in Level if lv is not Level.UNKNOWN)


@dataclass(frozen=True, slots=True)
class PhaseAdherence:
    phase_index: int  # index into protocol.phases
    phase_name: str
    kind: PhaseKind
    start_s: float  # session clock
    end_s: float
    target: Level
    seconds_in_target: float
    seconds_above_target: float
    seconds_below_target: float
    seconds_no_data: float  # untrusted samples and lost signal
    fraction_in_target_after_ramp: float  # 0–1 of the phase after the ramp allowance
    time_to_target_s: float | None  # from phase start; None if never reached
    peak_pct: float | None  # % HRmax; None without trusted data
    achieved: bool  # False when not judged
    planned_s: float | None = None  # prescribed length; None: as long as it ran
    ran_s: float | None = None  # countdown time it ran (pauses left out); None: planned_s
    judged: bool = True  # False: cut short before it ran enough to be judged
    # A block of short bouts judged as a whole (engine.blocks) fills these in; for it
    # seconds_in_target is the time at or above target_pct over the whole block, rests
    # included (nothing counts as above), fraction_in_target_after_ramp that time over the
    # block's running time (no ramp allowance), and phase_index its first phase.
    block_index: int | None = None  # into protocol.blocks; None: a long phase
    bout_peaks_pct: tuple[float | None, ...] = ()  # each bout that ran; None: no data
    achieved_by: str | None = None  # the block's AchievedRule: peak, time or bouts
    target_pct: float | None = None  # the block's target_min_pct, % HRmax

    @property
    def is_block(self) -> bool:
        return self.block_index is not None

    @property
    def outcome(self) -> str:
        """"achieved", "not achieved" or "not judged": the three states a report shows."""
        return outcome_of(self.judged, self.achieved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase_index": self.phase_index,
            "phase_name": self.phase_name,
            "kind": self.kind.value,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "target": self.target.name.lower(),
            "seconds_in_target": self.seconds_in_target,
            "seconds_above_target": self.seconds_above_target,
            "seconds_below_target": self.seconds_below_target,
            "seconds_no_data": self.seconds_no_data,
            "fraction_in_target_after_ramp": self.fraction_in_target_after_ramp,
            "time_to_target_s": self.time_to_target_s,
            "peak_pct": self.peak_pct,
            "planned_s": self.planned_s,
            "ran_s": self.ran_s,
            "judged": self.judged,
            "achieved": self.achieved if self.judged else None,  # null: neither way
            "outcome": self.outcome,
            **({"block_index": self.block_index, "target_pct": self.target_pct,
                "achieved_by": self.achieved_by, "bout_peaks_pct": list(self.bout_peaks_pct)}
               if self.is_block else {}),
        }


def phase_target(phase: Phase, thresholds: Thresholds) -> Level:
    """The class a work phase aims for. ``thresholds`` are already folded into the levels."""
    target = target_of(phase)
    if target is None:
        raise ValueError(f"phase {phase.name!r} ({phase.kind.value}) is not a work phase")
    return target


def target_of(phase: Phase | None) -> Level | None:
    """``phase_target`` for any phase: None outside work phases."""
    if phase is None or not phase.kind.is_work:
        return None
    return target_of_kind(phase.kind)


def target_of_kind(kind: PhaseKind) -> Level:
    """The level a work phase (or a block) of ``kind`` aims at."""
    return Level.INTERMEDIATE if kind is PhaseKind.INTERMEDIATE else Level.HIGH


def outcome_of(judged: bool, achieved: bool | None) -> str:
    """"achieved", "not achieved" or "not judged": the one rule for the three outcomes."""
    if not judged:
        return "not judged"
    return "achieved" if achieved else "not achieved"


def in_target(level: int, target: Level | None) -> bool:
    """One sample's ``level`` against ``target``: the scalar twin of ``_in_and_above``."""
    if target is None or level < 0:
        return False
    if target is Level.INTERMEDIATE:
        return level == Level.INTERMEDIATE
    return level >= Level.HIGH


def _in_and_above(level: np.ndarray, target: Level) -> tuple[np.ndarray, np.ndarray]:
    # Above the ceiling still reached high intensity: the ceiling is a safety alarm, not a
    # miss. For a high target nothing is above.
    if target is Level.HIGH:
        return level >= Level.HIGH, np.zeros(level.shape, dtype=bool)
    return level == target, level > target


def phase_adherence(t_s: npt.ArrayLike, pct: npt.ArrayLike, level: npt.ArrayLike, *,
                    phase_index: int, phase: Phase, start_s: float, end_s: float,
                    thresholds: Thresholds, ramp_allowance_s: float, achieved_fraction: float,
                    min_judged_fraction: float = 0.0, planned_s: float | None = None,
                    max_gap_s: float = config.MAX_CREDIT_GAP_S) -> PhaseAdherence:
    """Judge one finished work phase from the samples with ``start_s <= t < end_s``. A phase
    that ran less than ``min_judged_fraction`` of ``planned_s`` (its prescribed length;
    default: the window) is measured but not judged."""
    t_all = np.asarray(t_s, dtype=np.float64)
    i0, i1 = np.searchsorted(t_all, (start_s, end_s), side="left")
    # Keep the first sample after the phase: it says how long the last one inside holds.
    held = sample_durations_s(t_all[i0:i1 + 1], end_s, max_gap_s)[: i1 - i0]
    t = t_all[i0:i1]
    dur = np.minimum(held, end_s - t)
    p = np.asarray(pct, dtype=np.float64)[i0:i1]
    lv = np.asarray(level)[i0:i1]

    target = phase_target(phase, thresholds)
    trusted = lv >= Level.BELOW
    in_target, above = _in_and_above(lv, target)
    below = trusted & ~in_target & ~above
    s_in, s_above, s_below = (float(dur[m].sum()) for m in (in_target, above, below))
    phase_s = end_s - start_s
    no_data = max(0.0, phase_s - s_in - s_above - s_below)

    # Heart rate lags the workload: judge only the part after the ramp allowance.
    judged_from_s = start_s + ramp_allowance_s if phase_s > ramp_allowance_s else start_s
    overlap_s = np.clip(np.minimum(t + dur, end_s) - np.maximum(t, judged_from_s), 0.0, None)
    judged_s = end_s - judged_from_s
    fraction = float(overlap_s[in_target].sum() / judged_s) if judged_s > 0 else 0.0

    starts, stops = contiguous_runs(in_target, t, max_gap_s)
    run_s = t[stops - 1] + dur[stops - 1] - t[starts]
    reached = np.flatnonzero(run_s >= config.TARGET_HOLD_S)
    time_to_target = float(t[starts[reached[0]]] - start_s) if reached.size else None

    good = trusted & np.isfinite(p)
    peak = float(p[good].max()) if good.any() else None
    planned = phase_s if planned_s is None else float(planned_s)
    # A phase cut short after a few seconds would be judged on its ramp alone (stopped 68 s
    # into 180 s: 8 s after the ramp, all in target, "achieved"): report it as not judged.
    judged = phase_s + _EPS_S >= min_judged_fraction * planned
    return PhaseAdherence(
        phase_index=phase_index, phase_name=phase.name, kind=phase.kind,
        start_s=float(start_s), end_s=float(end_s), target=target,
        seconds_in_target=s_in, seconds_above_target=s_above, seconds_below_target=s_below,
        seconds_no_data=no_data, fraction_in_target_after_ramp=fraction,
        time_to_target_s=time_to_target, peak_pct=peak,
        achieved=judged and fraction >= achieved_fraction,
        planned_s=planned, ran_s=float(phase_s), judged=judged,
    )


@dataclass(frozen=True, slots=True)
class ParticipantSessionSummary:
    duration_s: float  # session clock from 0 to the end
    seconds_in_level: dict[str, float]  # "below", "intermediate", "high", "above_ceiling"
    seconds_in_zone: dict[str, float]  # "0".."5", ZONE_EDGES_PCT bands
    seconds_no_data: float
    mean_bpm: float | None  # time-weighted over trusted samples
    peak_bpm: float | None
    intervals_achieved: int
    intervals_judged: int  # cut-short phases that were not judged are left out
    intervals_prescribed: int  # work phases that ended, judged or not

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": self.duration_s,
            "seconds_in_level": dict(self.seconds_in_level),
            "seconds_in_zone": dict(self.seconds_in_zone),
            "seconds_no_data": self.seconds_no_data,
            "mean_bpm": self.mean_bpm,
            "peak_bpm": self.peak_bpm,
            "intervals_achieved": self.intervals_achieved,
            "intervals_judged": self.intervals_judged,
            "intervals_prescribed": self.intervals_prescribed,
        }


def summarise_session(t_s: npt.ArrayLike, bpm: npt.ArrayLike, pct: npt.ArrayLike,
                      level: npt.ArrayLike, *, end_s: float, adherence: list[PhaseAdherence],
                      max_gap_s: float = config.MAX_CREDIT_GAP_S) -> ParticipantSessionSummary:
    """Time per class and per zone, heart rate and intervals achieved, for one participant
    over the session [0, ``end_s``)."""
    t = np.asarray(t_s, dtype=np.float64)
    b = np.asarray(bpm, dtype=np.float64)
    p = np.asarray(pct, dtype=np.float64)
    lv = np.asarray(level)
    dur = np.minimum(sample_durations_s(t, end_s, max_gap_s), np.clip(end_s - t, 0.0, None))
    trusted = (lv >= Level.BELOW) & np.isfinite(p) & np.isfinite(b)
    dur_ok, lv_ok, p_ok, b_ok = dur[trusted], lv[trusted], p[trusted], b[trusted]

    by_level = np.bincount(lv_ok.astype(np.intp), weights=dur_ok, minlength=len(_LEVEL_KEYS))
    # side="right": a value on an edge belongs to the zone above it.
    zones = np.searchsorted(np.asarray(ZONE_EDGES_PCT), p_ok, side="right")
    by_zone = np.bincount(zones, weights=dur_ok, minlength=len(ZONE_EDGES_PCT) + 1)

    trusted_s = float(dur_ok.sum())
    if b_ok.size == 0:
        mean_bpm = peak_bpm = None
    else:
        weighted = trusted_s > 0
        mean_bpm = float(np.average(b_ok, weights=dur_ok) if weighted else b_ok.mean())
        peak_bpm = float(b_ok.max())
    return ParticipantSessionSummary(
        duration_s=float(end_s),
        seconds_in_level={key.name.lower(): float(by_level[key]) for key in _LEVEL_KEYS},
        seconds_in_zone={str(k): float(s) for k, s in enumerate(by_zone)},
        seconds_no_data=max(0.0, float(end_s) - trusted_s),
        mean_bpm=mean_bpm,
        peak_bpm=peak_bpm,
        intervals_achieved=sum(a.achieved for a in adherence),
        intervals_judged=sum(a.judged for a in adherence),
        intervals_prescribed=len(adherence),
    )


def judge_window(window: PhaseWindow, t_s: np.ndarray, pct: np.ndarray, level: np.ndarray,
                 protocol: TrainingProtocol, *,
                 max_gap_s: float = config.MAX_CREDIT_GAP_S) -> PhaseAdherence:
    """Adherence of one work phase on the window it really ran (a schedule's
    ``PhaseWindow``). Pauses are cut out first, so the ramp allowance and the fraction in
    target count only time the countdown ran; the result keeps the real window, or the
    planned one for a phase that never ran (skipped the moment it began)."""
    end_s = window.end_s
    if window.pauses:
        t_s, keep = running_time(t_s, window.pauses)
        pct, level = pct[keep], level[keep]
        end_s -= window.paused_s
    result = phase_adherence(
        t_s, pct, level, phase_index=window.index, phase=window.phase,
        start_s=window.start_s, end_s=end_s, thresholds=protocol.thresholds,
        ramp_allowance_s=protocol.ramp_allowance_s,
        achieved_fraction=protocol.achieved_fraction,
        min_judged_fraction=protocol.min_judged_fraction, planned_s=window.planned_s,
        max_gap_s=max_gap_s)
    # Time to target stays in running time.
    if not window.ran:
        return dataclasses.replace(result, start_s=window.planned_start_s,
                                   end_s=window.planned_end_s)
    return dataclasses.replace(result, end_s=float(window.end_s))
