"""Virtual participants: a heart that follows the workload a training protocol asks for.

The model is deliberately simple, but every part of it is something the monitor has to cope
with in a real class:

- Heart rate approaches its target with first-order kinetics. The rise takes a time constant
  of 30–60 s (longer for less fit people); the initial fall after effort is faster, because
  vagal reactivation drives the first 30 s of recovery (Imai et al. 1994, J Am Coll Cardiol
  24:1529), so the fall time constant is 0.5–0.7 of the rise.
- Beat-to-beat variability: respiratory sinus arrhythmia, a sinus on the RR interval at the
  breathing frequency (about 0.25 Hz at rest, inside the HF band 0.15–0.4 Hz of the Task
  Force 1996, Circulation 93:1043), whose amplitude shrinks as exercise withdraws vagal tone
  and is smaller in older people (Umetani et al. 1998, J Am Coll Cardiol 31:593); plus
  Gaussian noise.
- Cardiovascular drift: heart rate creeps up a few bpm over a long bout under load at the
  same workload (Coyle & González-Alonso 2001, Exerc Sport Sci Rev 29:88).
- Blocks of short bouts (``block_target_pct``): a near-maximal 20 s sprint asks more than
  the heart can give in 20 s, and a 10–20 s pause is no rest, so heart rate climbs over the
  block instead of falling back to rest in every pause.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hiaim_monitor.protocols import Phase, PhaseKind, TrainingProtocol
from hiaim_monitor.session_cue import SessionCue

AT_REST_ABOVE_RESTING_BPM: Final = 10.0  # sitting on the bike, chatting: a bit above resting
_RSA_REST_HZ: Final = 0.25  # breathing ~15/min at rest
_RSA_LOAD_GAIN_HZ: Final = 0.15  # breathing speeds up with effort
_RR_NOISE_FRACTION: Final = 0.008  # SD of the white noise on RR, as a fraction of the RR
_DRIFT_BPM_PER_H: Final = 8.0  # drift build-up at full load (heart rate reserve used = 1)
_DRIFT_DECAY_S: Final = 3600.0  # so an hour at ~60 % load adds about 3 bpm
_MIN_RR_MS: Final = 250.0  # 240 bpm: nothing faster is a heartbeat
_UNBOUNDED_BAND_ABOVE_MIN_PCT: Final = 6.0  # aim for a band with no upper limit, % HRmax


class Response(StrEnum):
    """How a participant answers the protocol's intensity demands."""

    NORMAL = "normal"  # reaches the bands, with some spread
    STRUGGLES = "struggles"  # stays a few % HRmax under the high band
    OVERSHOOTS = "overshoots"  # pushes to ~96–103 % HRmax in high phases


@dataclass(frozen=True, slots=True)
class VirtualParticipant:
    study_code: str
    display_name: str
    age_years: int
    resting_bpm: float
    hrmax_bpm: float  # the participant's own HRmax; % HRmax targets refer to it
    fitness: float = 0.5  # 0 deconditioned … 1 fit; sets the heart-rate kinetics
    response: Response = Response.NORMAL
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fitness <= 1.0:
            raise ValueError(f"fitness {self.fitness} is outside 0–1")
        if not 0 < self.resting_bpm < self.hrmax_bpm:
            raise ValueError(
                f"resting {self.resting_bpm} bpm must be positive and below HRmax "
                f"{self.hrmax_bpm} bpm"
            )

    @property
    def rise_tau_s(self) -> float:
        """Time constant of the heart-rate rise: 60 s deconditioned, 30 s fit."""
        return 60.0 - 30.0 * self.fitness

    @property
    def fall_tau_s(self) -> float:
        """Time constant of the fall: 0.7 (deconditioned) to 0.5 (fit) of the rise."""
        return self.rise_tau_s * (0.7 - 0.2 * self.fitness)

    @property
    def at_rest_bpm(self) -> float:
        return self.resting_bpm + AT_REST_ABOVE_RESTING_BPM


TargetBpm = float | Callable[[float], float]  # a constant, or a function of time (s)


class HeartModel:
    """One participant's heart, advanced beat by beat.

    Deterministic: the same participant (seed) and target give the same beats however
    ``beats_until`` calls are split. A beat's RR is drawn when the beat starts, from the state
    and target at that moment, and is returned once the beat has completed.
    """

    def __init__(
        self,
        participant: VirtualParticipant,
        *,
        start_t_s: float = 0.0,
        target: TargetBpm | None = None,
        initial_bpm: float | None = None,
    ) -> None:
        self.participant = participant
        self._rng = random.Random(participant.seed)
        self._target: TargetBpm = participant.at_rest_bpm if target is None else target
        self._t_s = start_t_s
        self._hr_bpm = self.target_at(start_t_s) if initial_bpm is None else initial_bpm
        self._drift_bpm = 0.0
        self._breath_phase_rad = self._rng.uniform(0.0, 2 * math.pi)
        # Older hearts vary less from beat to beat (Umetani 1998: RMSSD roughly halves
        # between 20 and 70 years).
        self._rsa_rest_ms = max(8.0, 50.0 - 0.45 * participant.age_years)
        self._pending: tuple[float, float] | None = None  # (rr_ms, target_bpm) of next beat
        self._beat_count = 0

    @property
    def t_s(self) -> float:
        """Time the last completed beat ended (the model's own time)."""
        return self._t_s

    @property
    def hr_bpm(self) -> float:
        """Underlying heart rate without beat-to-beat variability, drift included."""
        return self._clamped(self._hr_bpm + self._drift_bpm)

    @property
    def beat_count(self) -> int:
        return self._beat_count

    def set_target_bpm(self, target: TargetBpm) -> None:
        """A new target (constant bpm or a function of time), used from the next beat on."""
        self._target = target

    def target_at(self, t_s: float) -> float:
        return self._target(t_s) if callable(self._target) else float(self._target)

    def beats_until(self, t_s: float) -> list[float]:
        """RR intervals (ms, oldest first) of every beat completed by ``t_s``."""
        out: list[float] = []
        while True:
            if self._pending is None:
                self._pending = self._draw_beat()
            rr_ms, target_bpm = self._pending
            if self._t_s + rr_ms / 1000.0 > t_s:
                return out
            self._complete_beat(rr_ms, target_bpm)
            self._pending = None
            out.append(rr_ms)

    def _clamped(self, bpm: float) -> float:
        return min(max(bpm, 30.0), 1.05 * self.participant.hrmax_bpm)

    def _load(self, bpm: float) -> float:
        """Fraction of the heart-rate reserve in use, 0..1."""
        p = self.participant
        return min(1.0, max(0.0, (bpm - p.resting_bpm) / (p.hrmax_bpm - p.resting_bpm)))

    def _draw_beat(self) -> tuple[float, float]:
        hr = self.hr_bpm
        rr0_ms = 60_000.0 / hr
        # Exercise withdraws vagal tone, and with it the respiratory modulation.
        rsa_ms = self._rsa_rest_ms * max(0.05, (1.0 - self._load(hr)) ** 1.5)
        rr_ms = rr0_ms + rsa_ms * math.sin(self._breath_phase_rad)
        rr_ms += self._rng.gauss(0.0, _RR_NOISE_FRACTION * rr0_ms)
        return max(_MIN_RR_MS, rr_ms), self.target_at(self._t_s)

    def _complete_beat(self, rr_ms: float, target_bpm: float) -> None:
        p = self.participant
        dt_s = rr_ms / 1000.0
        tau_s = p.rise_tau_s if target_bpm > self._hr_bpm else p.fall_tau_s
        self._hr_bpm += (target_bpm - self._hr_bpm) * (1.0 - math.exp(-dt_s / tau_s))
        load = self._load(self.hr_bpm)
        self._drift_bpm += (
            _DRIFT_BPM_PER_H / 3600.0 * load - self._drift_bpm / _DRIFT_DECAY_S
        ) * dt_s
        breath_hz = _RSA_REST_HZ + _RSA_LOAD_GAIN_HZ * load
        self._breath_phase_rad = (self._breath_phase_rad + 2 * math.pi * breath_hz * dt_s) % (
            2 * math.pi
        )
        self._t_s += dt_s
        self._beat_count += 1


def phase_target_pct(participant: VirtualParticipant, phase: Phase, phase_index: int = 0) -> float:
    """Where this participant's heart rate heads in ``phase``, in % of their HRmax."""
    lo = phase.target_min_pct
    hi = phase.target_max_pct
    centre = (lo + hi) / 2 if hi is not None else lo + _UNBOUNDED_BAND_ABOVE_MIN_PCT
    # One generator per (participant, phase): a target never depends on call order. String
    # seeds are hashed with SHA-512 by ``random``, so they are stable across runs.
    rng = random.Random(f"{participant.seed}:phase:{phase_index}")
    habit_pct = random.Random(f"{participant.seed}:habit").gauss(0.0, 1.5)
    response = participant.response
    if phase.block is not None:
        return block_target_pct(participant, phase, rng, habit_pct)
    if phase.kind is PhaseKind.HIGH:
        if response is Response.STRUGGLES:
            return lo - rng.uniform(3.0, 6.0)
        if response is Response.OVERSHOOTS:
            return rng.uniform(96.0, 103.0)
        return min(98.0, centre + habit_pct + rng.gauss(0.0, 1.5))
    if phase.kind is PhaseKind.INTERMEDIATE:
        if response is Response.STRUGGLES:
            return centre - rng.uniform(2.0, 5.0)
        if response is Response.OVERSHOOTS:
            # They cannot hold back: intermediate bouts creep into the high band.
            return (hi if hi is not None else centre) + rng.uniform(0.0, 3.0)
        return centre + habit_pct + rng.gauss(0.0, 1.5)
    # Warm-up, recovery, cool-down: people ease off to the lower part of the band.
    width = (hi - lo) if hi is not None else 2 * _UNBOUNDED_BAND_ABOVE_MIN_PCT
    return lo + 0.4 * width + habit_pct + rng.gauss(0.0, 1.5)


# Where the heart heads in a block of short bouts, % HRmax. With the first-order kinetics
# above, a bout's band centre (as for a long phase) and rest in every pause would leave a
# compliant participant's heart falling through a 15 × 20/20 s block and peaking near 80 %,
# where measured classes reach high intensity: heart rate averaged 86 % HRmax over Tabata
# workouts of 20 s efforts and 10 s pauses (Emberts et al. 2013, J Sports Sci Med 12:612).
# A near-maximal sprint is supramaximal work (Tabata's bouts were at 170 % of VO2max; Tabata
# et al. 1996, Med Sci Sports Exerc 28:1327), so the heart heads for its maximum; in a pause
# of 10–20 s the legs keep turning and the heart recovers only part of the way.
_SPRINT_PCT: Final = 100.0  # a near-maximal bout: heading for HRmax (clamped at 105 %)
_OVERSHOOT_SPRINT_PCT: Final = (102.0, 106.0)
_PAUSE_PCT: Final = 75.0  # a pause within a block, after a sprint
_STRUGGLER_PAUSE_PCT: Final = 60.0  # one who did not push has less to recover from


def block_target_pct(participant: VirtualParticipant, phase: Phase, rng: random.Random,
                     habit_pct: float) -> float:
    """``phase_target_pct`` for a phase of a block of short bouts (its work or a pause)."""
    response = participant.response
    if phase.kind.is_work:
        if response is Response.STRUGGLES:  # as in a long phase: never pushes to the target
            return phase.target_min_pct - rng.uniform(3.0, 6.0)
        if response is Response.OVERSHOOTS:
            return rng.uniform(*_OVERSHOOT_SPRINT_PCT)
        return _SPRINT_PCT + habit_pct + rng.gauss(0.0, 1.5)
    pause = _STRUGGLER_PAUSE_PCT if response is Response.STRUGGLES else _PAUSE_PCT
    return pause + habit_pct + rng.gauss(0.0, 1.5)


def phase_target_bpm(
    participant: VirtualParticipant, phase: Phase | None, phase_index: int = 0
) -> float:
    """Target heart rate for ``phase``; ``None`` (before or after the session) is at rest."""
    if phase is None:
        return participant.at_rest_bpm
    bpm = participant.hrmax_bpm * phase_target_pct(participant, phase, phase_index) / 100.0
    # Light pedalling never takes anyone below their sitting heart rate.
    return max(bpm, participant.at_rest_bpm)


def session_target(
    participant: VirtualParticipant, protocol: TrainingProtocol, session_start_s: float
) -> Callable[[float], float]:
    """Target heart rate as a function of clock time, for a session starting at
    ``session_start_s``: at rest before it and after it ends."""
    cache: dict[int, float] = {}

    def target_bpm(t_s: float) -> float:
        if t_s < session_start_s:
            return participant.at_rest_bpm
        pos = protocol.phase_at(t_s - session_start_s)
        if pos is None:
            return participant.at_rest_bpm
        if pos.index not in cache:
            cache[pos.index] = phase_target_bpm(participant, pos.phase, pos.index)
        return cache[pos.index]

    return target_bpm


def cue_target(participant: VirtualParticipant, cue: SessionCue) -> Callable[[float], float]:
    """Target heart rate as a function of clock time, following what the operator runs:
    at rest while ``cue`` has no phase (no session, or after a stop), else the cued phase's
    target, so a pause, skip or extension reaches the heart from its next beat on."""
    # The model asks once per beat; a phase's target draws from seeded generators, so it is
    # worked out once per (index, phase). The key holds the phase too: after a protocol change
    # the same index can be another phase. Only the sensor thread calls this, and the cue
    # swaps whole tuples, so no lock is needed.
    cache: dict[tuple[int, Phase], float] = {}

    def target_bpm(t_s: float) -> float:
        cued = cue.phase_at(t_s)
        if cued is None:
            return participant.at_rest_bpm
        key = (cued.index, cued.phase)
        bpm = cache.get(key)
        if bpm is None:
            bpm = cache[key] = phase_target_bpm(participant, cued.phase, cued.index)
        return bpm

    return target_bpm
