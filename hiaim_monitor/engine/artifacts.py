"""Streaming artifact filters, one pair per participant, fed on every engine tick.

``RRArtifactFilter`` judges RR intervals beat by beat; ``BpmJumpFilter`` judges the heart
rate a strap reports with each notification. Both carry their state across calls, so the
flags do not depend on how the data was split into notifications or ticks. Nothing is
dropped: the filters only say which values not to trust.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hiaim_monitor.engine.codes import PLAUSIBLE_BPM, PLAUSIBLE_RR_MS, BeatFlag, SampleFlag

# Plain ints for the per-beat loop: enum attribute look-ups cost more than the rule itself.
_OUT_OF_RANGE = int(BeatFlag.OUT_OF_RANGE)
_SUCCESSIVE_DIFF = int(BeatFlag.SUCCESSIVE_DIFF)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


class RRArtifactFilter:
    """Flags suspect RR intervals of one participant's beat stream.

    - Outside ``plausible_rr_ms`` → OUT_OF_RANGE.
    - Differs from the reference RR by more than ``max_change_fraction`` of it →
      SUCCESSIVE_DIFF: the "20 % rule" of Malik et al. 1989 (Pacing Clin Electrophysiol
      12:1163), which catches a premature beat, its compensatory pause and a missed beat
      (two RRs merged, about twice the reference).

    The reference is the median of the last ``reference_beats`` accepted RRs rather than the
    last accepted RR alone. A late premature beat can slip under the threshold (say 0.82 of
    the cycle); as the sole reference it would make its compensatory pause and the normal
    beats after it look 20 % too long, and flag a run of good beats. One such beat barely
    moves a median of five. The median lags a trend by about two beats, which at the 1–2 %
    per beat heart rate changes of exercise is 2–6 %, well inside 20 %.

    A genuine change of rhythm would otherwise be flagged forever: after ``reanchor_beats``
    consecutive SUCCESSIVE_DIFF beats that agree with each other within the same fraction,
    they become the reference. They stay flagged; later beats are judged against them. Four
    is more than the common artifact patterns produce in a row (an ectopic pair, a missed
    beat) and none of those agree with each other, so only a real shift re-anchors.
    """

    def __init__(
        self,
        *,
        max_change_fraction: float = 0.20,
        reference_beats: int = 5,
        reanchor_beats: int = 4,
        plausible_rr_ms: tuple[float, float] = PLAUSIBLE_RR_MS,
    ) -> None:
        if not 0.0 < max_change_fraction < 1.0:
            raise ValueError(f"max_change_fraction {max_change_fraction} is outside (0, 1)")
        if reference_beats < 1 or reanchor_beats < 1:
            raise ValueError("reference_beats and reanchor_beats must be at least 1")
        self.max_change_fraction = max_change_fraction
        self.reanchor_beats = reanchor_beats
        self._min_rr_ms, self._max_rr_ms = plausible_rr_ms
        self._accepted_ms: deque[float] = deque(maxlen=reference_beats)
        self._run_ms: list[float] = []  # consecutive SUCCESSIVE_DIFF beats, maybe a new rhythm
        self._run_min_ms = 0.0
        self._run_max_ms = 0.0
        self._ref_lo_ms = -math.inf  # accepted window around the reference, cached
        self._ref_hi_ms = math.inf

    @property
    def reference_rr_ms(self) -> float | None:
        """The RR new beats are compared with; None before the first accepted beat."""
        return _median(self._accepted_ms) if self._accepted_ms else None

    def reset(self) -> None:
        """Forget the rhythm, after a gap in the beats: the next in-range beat is accepted."""
        self._accepted_ms.clear()
        self._run_ms.clear()
        self._ref_lo_ms = -math.inf
        self._ref_hi_ms = math.inf

    def check(self, rr_ms: np.ndarray | Sequence[float]) -> npt.NDArray[np.uint8]:
        """BeatFlag per RR interval (oldest first), as uint8, same length as ``rr_ms``."""
        values = rr_ms.tolist() if isinstance(rr_ms, np.ndarray) else rr_ms
        return np.array(self.check_list(values), dtype=np.uint8)

    def check_list(self, values: Sequence[float]) -> list[int]:
        """``check`` for the engine's per-sample path: plain ints, no numpy."""
        flags = [0] * len(values)
        lo_ms, hi_ms = self._min_rr_ms, self._max_rr_ms
        for i, rr in enumerate(values):
            # Written so that nan fails every comparison and lands in OUT_OF_RANGE.
            if not lo_ms <= rr <= hi_ms:
                flags[i] = _OUT_OF_RANGE
                self._run_ms.clear()  # a run must be consecutive
            elif self._ref_lo_ms <= rr <= self._ref_hi_ms:
                self._run_ms.clear()
                self._accepted_ms.append(rr)
                self._update_reference()
            else:
                flags[i] = _SUCCESSIVE_DIFF
                self._extend_run(rr)
        return flags

    def _update_reference(self) -> None:
        ref_ms = _median(self._accepted_ms)
        self._ref_lo_ms = ref_ms * (1.0 - self.max_change_fraction)
        self._ref_hi_ms = ref_ms * (1.0 + self.max_change_fraction)

    def _extend_run(self, rr: float) -> None:
        run = self._run_ms
        if run:
            lo = min(self._run_min_ms, rr)
            hi = max(self._run_max_ms, rr)
        else:
            lo = hi = rr
        # Mutually consistent: every pair within the fraction of the smaller of the two.
        if hi - lo > self.max_change_fraction * lo:
            run.clear()
            lo = hi = rr
        run.append(rr)
        self._run_min_ms, self._run_max_ms = lo, hi
        if len(run) >= self.reanchor_beats:
            self._accepted_ms.clear()
            self._accepted_ms.extend(run)
            run.clear()
            self._update_reference()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``BpmJumpFilter.check`` says about one heart-rate sample.

    ``cleared_previous``: clear UNCONFIRMED_JUMP from this many samples just before this one
    (counted in calls to ``check``); the samples since the jump, now confirmed. Clearing the
    bit is a no-op on a sample in that span that does not carry it (an IMPLAUSIBLE one).
    """

    flag: SampleFlag
    cleared_previous: int = 0


_TRUSTED = Verdict(SampleFlag.NONE)
_IMPLAUSIBLE = Verdict(SampleFlag.IMPLAUSIBLE)
_PENDING = Verdict(SampleFlag.UNCONFIRMED_JUMP)


class BpmJumpFilter:
    """Flags heart-rate samples of one participant that jump faster than a heart can.

    Heart rate accelerates fastest at the onset of exercise, by vagal withdrawal: Bokhari
    et al. 2003 (J Pak Med Assoc 53:375) measured about 2.4 bpm/s over the first 10 s. The
    default allowance of 15 bpm per second elapsed, never less than 20 bpm, is this project's
    choice: several times that, because straps report a rate averaged over a few beats and
    rounded, so a sample may carry a couple of seconds' change at once.

    A jump is held as UNCONFIRMED_JUMP. If the next ``confirm_samples`` samples agree with
    it (each within the allowance of the one before), it was real: they are trusted and the
    verdict says how many earlier samples to clear. A sample back near the trusted value
    instead means the jump was a spike and stays flagged. After a gap of more than
    ``reset_after_s`` there is nothing to compare with, and the next plausible value is
    trusted outright.
    """

    def __init__(
        self,
        *,
        max_jump_bpm_per_s: float = 15.0,
        min_jump_bpm: float = 20.0,
        confirm_samples: int = 2,
        reset_after_s: float = 10.0,
        plausible_bpm: tuple[float, float] = PLAUSIBLE_BPM,
    ) -> None:
        if confirm_samples < 1:
            raise ValueError(f"confirm_samples must be at least 1, not {confirm_samples}")
        self.max_jump_bpm_per_s = max_jump_bpm_per_s
        self.min_jump_bpm = min_jump_bpm
        self.confirm_samples = confirm_samples
        self.reset_after_s = reset_after_s
        self._min_bpm, self._max_bpm = plausible_bpm
        self._trusted_bpm: float | None = None
        self._trusted_t_s = 0.0
        self._last_t_s = 0.0  # last plausible sample, trusted or pending
        self._pending_bpm = 0.0  # latest sample agreeing with the held jump
        self._pending_t_s = 0.0
        self._agreeing = -1  # samples agreeing with the jump after it; -1 = nothing held
        self._calls_since_jump = 0

    @property
    def trusted_bpm(self) -> float | None:
        return self._trusted_bpm

    @property
    def pending(self) -> bool:
        """A jump is held: samples since it may still be cleared by a confirmation."""
        return self._agreeing >= 0

    def reset(self) -> None:
        """Forget the trusted value, after a signal loss."""
        self._trusted_bpm = None
        self._agreeing = -1

    def _allowed_bpm(self, elapsed_s: float) -> float:
        return max(self.min_jump_bpm, self.max_jump_bpm_per_s * elapsed_s)

    def _trust(self, bpm: float, t_s: float) -> None:
        self._trusted_bpm = bpm
        self._trusted_t_s = self._last_t_s = t_s
        self._agreeing = -1

    def check(self, bpm: float, t_s: float) -> Verdict:
        """Verdict on the sample ``bpm`` taken at ``t_s`` (monotonic seconds)."""
        if self._agreeing >= 0:
            self._calls_since_jump += 1
        if not self._min_bpm <= bpm <= self._max_bpm:  # nan fails too
            return _IMPLAUSIBLE
        if not math.isfinite(t_s):
            # A broken timestamp says nothing about elapsed time: judge it as simultaneous.
            t_s = self._last_t_s
        trusted = self._trusted_bpm
        if trusted is None or t_s - self._last_t_s > self.reset_after_s:
            self._trust(bpm, t_s)
            return _TRUSTED
        self._last_t_s = max(self._last_t_s, t_s)
        if self._agreeing >= 0 and abs(bpm - self._pending_bpm) <= self._allowed_bpm(
            max(0.0, t_s - self._pending_t_s)
        ):
            # Checked before the trusted value: with time the allowance around an old
            # trusted value widens until it covers a held jump's level too.
            self._agreeing += 1
            self._pending_bpm, self._pending_t_s = bpm, t_s
            if self._agreeing < self.confirm_samples:
                return _PENDING
            cleared = self._calls_since_jump  # the jump and every sample since, not this one
            self._trust(bpm, t_s)
            return Verdict(SampleFlag.NONE, cleared)
        if abs(bpm - trusted) <= self._allowed_bpm(max(0.0, t_s - self._trusted_t_s)):
            self._trust(bpm, t_s)  # a held jump, if any, was a spike: it stays flagged
            return _TRUSTED
        # A new jump: hold it.
        self._pending_bpm, self._pending_t_s = bpm, t_s
        self._agreeing = 0
        self._calls_since_jump = 0
        return _PENDING
