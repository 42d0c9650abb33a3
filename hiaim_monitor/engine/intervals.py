"""Bouts of intermediate and high intensity found in one participant's trace, with no
protocol: what the participant actually did, whatever the schedule said.

Pure numpy over arrays read from the engine's ring buffers; run-length encoding replaces a
per-sample loop, so a three-hour trace at 4 Hz takes a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hiaim_monitor import config
from hiaim_monitor.engine.codes import Level

_EPS_S: Final = 1e-9  # absorbs float error in sums of sample times

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


def sample_durations_s(t_s: npt.ArrayLike, end_s: float | None = None,
                       max_gap_s: float = config.MAX_CREDIT_GAP_S) -> FloatArray:
    """Seconds each sample stands for (sample and hold): the time to the next sample, or to
    ``end_s`` for the last one (0 without ``end_s``), never more than ``max_gap_s``.

    A longer gap means the signal was lost; the excess is credited to no one.
    """
    t = np.asarray(t_s, dtype=np.float64)
    dur = np.empty_like(t)
    if t.size == 0:
        return dur
    dur[:-1] = np.diff(t)
    dur[-1] = 0.0 if end_s is None else end_s - t[-1]
    return np.clip(dur, 0.0, max_gap_s)


def contiguous_runs(mask: npt.ArrayLike, t_s: npt.ArrayLike,
                    max_gap_s: float = config.MAX_CREDIT_GAP_S) -> tuple[IndexArray, IndexArray]:
    """Runs of consecutive True samples, also broken where the signal was lost (samples more
    than ``max_gap_s`` apart). Returns (first index, one past the last index) per run."""
    m = np.asarray(mask, dtype=bool)
    t = np.asarray(t_s, dtype=np.float64)
    if m.size == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    # joined[i]: sample i continues the run of sample i - 1.
    joined = np.zeros(m.size, dtype=bool)
    joined[1:] = m[1:] & m[:-1] & (np.diff(t) <= max_gap_s)
    starts = np.flatnonzero(m & ~joined)
    ends_incl = np.flatnonzero(m & ~np.append(joined[1:], False))
    return starts, ends_incl + 1


@dataclass(frozen=True, slots=True)
class DetectedInterval:
    kind: Level  # INTERMEDIATE or HIGH (HIGH includes time above the ceiling)
    start_s: float  # session clock
    end_s: float
    duration_s: float  # end - start, short interruptions included
    mean_pct: float  # % HRmax, time-weighted over the bout's own samples
    peak_pct: float  # % HRmax
    time_at_level_s: float  # s actually at the bout's level (interruptions left out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.name.lower(),
            "start_s": self.start_s,
            "end_s": self.end_s,
            "duration_s": self.duration_s,
            "mean_pct": self.mean_pct,
            "peak_pct": self.peak_pct,
            "time_at_level_s": self.time_at_level_s,
        }


def detect_intervals(t_s: npt.ArrayLike, pct: npt.ArrayLike, level: npt.ArrayLike, *,
                     min_high_s: float = config.BOUT_MIN_HIGH_S,
                     min_intermediate_s: float = config.BOUT_MIN_INTERMEDIATE_S,
                     merge_gap_s: float = config.BOUT_MERGE_GAP_S,
                     max_gap_s: float = config.MAX_CREDIT_GAP_S,
                     end_s: float | None = None) -> list[DetectedInterval]:
    """Bouts of high (level >= HIGH) and intermediate (level == INTERMEDIATE) intensity,
    sorted by start.

    Runs of one kind less than ``merge_gap_s`` apart (other levels, untrusted samples or
    lost signal in between) make one bout. A bout counts once the time actually spent at
    its level reaches the kind's minimum. ``end_s`` lets the last sample hold until then.
    """
    t = np.asarray(t_s, dtype=np.float64)
    p = np.asarray(pct, dtype=np.float64)
    lv = np.asarray(level)
    if not t.shape == p.shape == lv.shape or t.ndim != 1:
        raise ValueError("t_s, pct and level must be 1-D arrays of the same length")
    if t.size == 0:
        return []
    dur = sample_durations_s(t, end_s, max_gap_s)
    found = [
        *_bouts(Level.HIGH, lv >= Level.HIGH, t, p, dur, min_high_s, merge_gap_s, max_gap_s),
        *_bouts(Level.INTERMEDIATE, lv == Level.INTERMEDIATE, t, p, dur, min_intermediate_s,
                merge_gap_s, max_gap_s),
    ]
    return sorted(found, key=lambda b: (b.start_s, b.kind))


def _bouts(kind: Level, mask: npt.NDArray[np.bool_], t: FloatArray, pct: FloatArray,
           dur: FloatArray, min_s: float, merge_gap_s: float,
           max_gap_s: float) -> list[DetectedInterval]:
    starts, stops = contiguous_runs(mask, t, max_gap_s)
    if starts.size == 0:
        return []
    run_start_s = t[starts]
    run_end_s = t[stops - 1] + dur[stops - 1]
    # Bout k takes runs first[k] .. first[k + 1] - 1.
    new_bout = np.ones(starts.size, dtype=bool)
    new_bout[1:] = run_start_s[1:] - run_end_s[:-1] >= merge_gap_s
    first = np.flatnonzero(new_bout)
    last = np.append(first[1:], starts.size) - 1
    lo = starts[first]  # first sample of each bout

    # Sums over [lo[k], lo[k + 1]) are sums over bout k: nothing of this kind lies between
    # bouts. Other samples are masked out, as untrusted ones may hold NaN.
    own_dur = np.where(mask, dur, 0.0)
    time_s = np.add.reduceat(own_dur, lo)
    pct_s = np.add.reduceat(np.where(mask, pct * own_dur, 0.0), lo)
    peaks = np.maximum.reduceat(np.where(mask, pct, -np.inf), lo)
    # A bout with no held time (possible only with a zero minimum) has its peak as mean.
    mean = np.divide(pct_s, time_s, out=peaks.copy(), where=time_s > 0)

    start_s, end_s = run_start_s[first], run_end_s[last]
    keep = np.flatnonzero(time_s >= min_s - _EPS_S)
    return [
        DetectedInterval(kind, float(start_s[k]), float(end_s[k]),
                         float(end_s[k] - start_s[k]), float(mean[k]), float(peaks[k]),
                         float(time_s[k]))
        for k in keep
    ]
