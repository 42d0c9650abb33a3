"""The virtual heart: kinetics, variability, drift and how each response type trains."""

from __future__ import annotations

import itertools
import statistics

import pytest

from hiaim_monitor.protocols import PhaseKind, load_protocol
from simulators.physiology import (
    HeartModel,
    Response,
    VirtualParticipant,
    phase_target_bpm,
    session_target,
)
from simulators.roster import make_virtual_class


def person(**overrides: object) -> VirtualParticipant:
    fields: dict[str, object] = dict(
        study_code="P1",
        display_name="Inge",
        age_years=65,
        resting_bpm=70.0,
        hrmax_bpm=160.0,
        fitness=0.5,
        response=Response.NORMAL,
        seed=7,
    )
    fields.update(overrides)
    return VirtualParticipant(**fields)  # type: ignore[arg-type]


def beat_times(rr_ms: list[float], start_t_s: float = 0.0) -> list[float]:
    out, t = [], start_t_s
    for rr in rr_ms:
        t += rr / 1000.0
        out.append(t)
    return out


def time_to_63_pct(p: VirtualParticipant, from_bpm: float, to_bpm: float) -> float:
    """Seconds until the heart rate, smoothed over 9 beats as a viewer would see it, has
    covered 63 % of a step from ``from_bpm`` to ``to_bpm``."""
    model = HeartModel(p, initial_bpm=from_bpm, target=to_bpm)
    rr = model.beats_until(300.0)
    times = beat_times(rr)
    mark = from_bpm + 0.63 * (to_bpm - from_bpm)
    rising = to_bpm > from_bpm
    for i in range(4, len(rr) - 4):
        window = rr[i - 4 : i + 5]
        hr = 60_000.0 / statistics.fmean(window)
        if (hr >= mark) if rising else (hr <= mark):
            return times[i]
    raise AssertionError("the heart rate never covered 63 % of the step")


def test_same_seed_gives_identical_beats_however_the_calls_are_split() -> None:
    one = HeartModel(person(), target=140.0).beats_until(120.0)
    other = HeartModel(person(), target=140.0)
    split: list[float] = []
    for t in (0.3, 0.31, 7.0, 50.5, 120.0):
        split += other.beats_until(t)
    assert split == one
    assert HeartModel(person(seed=8), target=140.0).beats_until(120.0) != one


@pytest.mark.parametrize("fitness", [0.0, 0.5, 1.0])
def test_heart_rate_rises_to_a_high_target_with_a_30_to_60_s_time_constant(
    fitness: float,
) -> None:
    p = person(fitness=fitness)
    t63_s = time_to_63_pct(p, from_bpm=80.0, to_bpm=0.9 * p.hrmax_bpm)
    assert 27.0 <= t63_s <= 63.0  # 30–60 s, give or take the smoothing and the noise
    assert t63_s == pytest.approx(p.rise_tau_s, abs=5.0)


def test_fitter_hearts_rise_faster() -> None:
    slow = time_to_63_pct(person(fitness=0.1), 80.0, 144.0)
    fast = time_to_63_pct(person(fitness=0.9), 80.0, 144.0)
    assert fast < slow


@pytest.mark.parametrize("fitness", [0.0, 0.5, 1.0])
def test_heart_rate_falls_faster_than_it_rises(fitness: float) -> None:
    p = person(fitness=fitness)
    rise_s = time_to_63_pct(p, from_bpm=90.0, to_bpm=145.0)
    fall_s = time_to_63_pct(p, from_bpm=145.0, to_bpm=90.0)
    assert fall_s < 0.8 * rise_s
    assert 0.5 - 1e-9 <= p.fall_tau_s / p.rise_tau_s <= 0.7 + 1e-9


def test_beat_times_rebuilt_from_rr_match_the_model_clock() -> None:
    model = HeartModel(person(), start_t_s=1000.0, target=120.0)
    rr: list[float] = []
    for t in range(1001, 1601):
        rr += model.beats_until(float(t))
        # The last beat ended no later than now, and the next one is not yet complete.
        assert beat_times(rr, 1000.0)[-1] == pytest.approx(model.t_s, abs=1e-6)
        assert float(t) - model.t_s < 60_000.0 / model.hr_bpm / 1000.0 * 1.5
    assert model.beat_count == len(rr)


def test_respiratory_variability_shrinks_as_heart_rate_rises() -> None:
    def beat_to_beat_sd_ms(bpm: float) -> float:
        model = HeartModel(person(), initial_bpm=bpm, target=bpm)
        rr = model.beats_until(120.0)
        return statistics.stdev(rr)

    assert beat_to_beat_sd_ms(75.0) > 2 * beat_to_beat_sd_ms(140.0)
    assert beat_to_beat_sd_ms(75.0) > 8.0  # a resting heart is not a metronome


def test_respiratory_variability_is_a_breathing_rhythm() -> None:
    # At rest the RR series swings with a period of about 4 s (0.25 Hz).
    model = HeartModel(person(seed=3), initial_bpm=75.0, target=75.0)
    rr = model.beats_until(600.0)
    times = beat_times(rr)
    mean = statistics.fmean(rr)
    upward_crossings = sum(1 for a, b in itertools.pairwise(rr) if a < mean <= b)
    breaths_per_s = upward_crossings / times[-1]
    assert 0.15 <= breaths_per_s <= 0.4


def test_heart_rate_drifts_up_a_few_bpm_over_an_hour_at_constant_load() -> None:
    p = person()
    model = HeartModel(p, initial_bpm=130.0, target=130.0)
    model.beats_until(300.0)
    after_5_min = model.hr_bpm
    model.beats_until(3600.0)
    drift_bpm = model.hr_bpm - after_5_min
    assert 1.0 <= drift_bpm <= 8.0


def test_before_and_after_the_session_participants_are_at_rest() -> None:
    protocol = load_protocol("intermediate-high")
    p = person()
    target = session_target(p, protocol, session_start_s=100.0)
    assert target(0.0) == p.resting_bpm + 10
    assert target(100.0 + protocol.total_s + 1) == p.resting_bpm + 10
    assert target(100.0) > p.resting_bpm + 10  # warm-up
    assert phase_target_bpm(p, None) == p.resting_bpm + 10


def test_targets_follow_the_phase_kind() -> None:
    protocol = load_protocol("intermediate-high")
    p = person()
    by_kind: dict[PhaseKind, list[float]] = {}
    for i, phase in enumerate(protocol.phases):
        pct = 100 * phase_target_bpm(p, phase, i) / p.hrmax_bpm
        by_kind.setdefault(phase.kind, []).append(pct)
    assert all(85 <= pct <= 98 for pct in by_kind[PhaseKind.HIGH])
    assert all(70 <= pct <= 85 for pct in by_kind[PhaseKind.INTERMEDIATE])
    assert max(by_kind[PhaseKind.RECOVERY]) < min(by_kind[PhaseKind.INTERMEDIATE])


def high_phase_pct_hrmax(
    p: VirtualParticipant, protocol_name: str, *, after_s: float = 0.0
) -> list[float]:
    """The heart rate a strap would report (4-beat mean), as % HRmax, in high phases from
    ``after_s`` into each."""
    protocol = load_protocol(protocol_name)
    model = HeartModel(p, target=session_target(p, protocol, 0.0))
    rr = model.beats_until(protocol.total_s)
    out = []
    for i, t in enumerate(beat_times(rr)):
        pos = protocol.phase_at(t)
        if (
            i >= 3
            and pos is not None
            and pos.phase.kind is PhaseKind.HIGH
            and pos.elapsed_s >= after_s
        ):
            out.append(100 * 60_000.0 / statistics.fmean(rr[i - 3 : i + 1]) / p.hrmax_bpm)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_struggling_participant_stays_below_the_high_band(seed: int) -> None:
    p = person(response=Response.STRUGGLES, seed=seed, fitness=0.3)
    assert statistics.fmean(high_phase_pct_hrmax(p, "intermediate-high")) < 85.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_overshooting_participant_goes_past_95_pct(seed: int) -> None:
    p = person(response=Response.OVERSHOOTS, seed=seed, fitness=0.3)
    assert max(high_phase_pct_hrmax(p, "intermediate-high")) > 95.0


def test_normal_participants_reach_the_high_band_once_their_heart_has_caught_up() -> None:
    for p in make_virtual_class(8, seed=5):
        if p.response is Response.NORMAL:
            # Two time constants into each 4-minute interval the heart has caught up.
            late = high_phase_pct_hrmax(p, "norwegian-4x4", after_s=2 * p.rise_tau_s)
            assert statistics.fmean(late) >= 85.0, p


def test_participant_figures_are_checked() -> None:
    with pytest.raises(ValueError, match="fitness"):
        person(fitness=1.5)
    with pytest.raises(ValueError, match="below HRmax"):
        person(resting_bpm=170.0)
