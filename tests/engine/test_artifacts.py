"""Streaming artifact filters: suspect RR intervals and implausible heart-rate jumps."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiaim_monitor.engine.artifacts import BpmJumpFilter, RRArtifactFilter, Verdict
from hiaim_monitor.engine.codes import BeatFlag, SampleFlag
from hiaim_monitor.hrm import decode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from simulators.fleet import make_strap
from simulators.physiology import VirtualParticipant
from simulators.roster import make_virtual_class

OK = BeatFlag.NONE
DIFF = BeatFlag.SUCCESSIVE_DIFF
OUT = BeatFlag.OUT_OF_RANGE


def flagged(flags: np.ndarray) -> list[int]:
    return np.flatnonzero(flags).tolist()


# --- RRArtifactFilter: hand-made series -------------------------------------------------


def test_premature_beat_and_its_compensatory_pause_are_both_flagged() -> None:
    # 800 ms rhythm; a premature beat at 65 % of the cycle, then the full compensatory pause.
    rr_ms = [800, 805, 795, 800, 810, 520, 1080, 800, 795, 805]
    flags = RRArtifactFilter().check(rr_ms)
    assert flags.dtype == np.uint8 and len(flags) == len(rr_ms)
    assert flagged(flags) == [5, 6]
    assert flags[5] == DIFF and flags[6] == DIFF


def test_missed_beat_is_flagged_and_the_beats_after_it_are_not() -> None:
    rr_ms = [700, 705, 695, 700, 1400, 702, 698, 700]
    assert flagged(RRArtifactFilter().check(rr_ms)) == [4]


@pytest.mark.parametrize("change_per_beat", [0.98, 1.02])
def test_gradual_change_of_two_percent_per_beat_is_not_flagged(change_per_beat: float) -> None:
    # Heart rate rising (RR shortening) or falling 2 % per beat for 40 beats: 2.2x in all.
    rr_ms = [900 * change_per_beat**k for k in range(40)]
    rr_ms = [rr for rr in rr_ms if 300 <= rr <= 1900]
    assert flagged(RRArtifactFilter().check(rr_ms)) == []


def test_late_premature_beat_that_passes_does_not_spoil_the_beats_after_it() -> None:
    # A premature beat at 83 % of the cycle passes the 20 % rule, and so does its pause.
    # Were the last beat the reference, 1000 ms after 830 ms would look 20 % too long.
    rr_ms = [1000, 1000, 1000, 1000, 1000, 830, 1170, 1000, 1000, 1000]
    assert flagged(RRArtifactFilter().check(rr_ms)) == []


@pytest.mark.parametrize("rr_ms", [100.0, 249.0, 2001.0, 5000.0, 0.0, -800.0])
def test_out_of_range_rr_is_flagged_and_does_not_move_the_reference(rr_ms: float) -> None:
    f = RRArtifactFilter()
    flags = f.check([800, 800, rr_ms, 800, 810])
    assert flags.tolist() == [OK, OK, OUT, OK, OK]
    assert f.reference_rr_ms == pytest.approx(800)


def test_first_beat_is_accepted_when_in_range_and_becomes_the_reference() -> None:
    f = RRArtifactFilter()
    assert f.reference_rr_ms is None
    assert f.check([300, 400]).tolist() == [OK, DIFF]
    assert f.reference_rr_ms == 300


def test_reset_after_a_gap_accepts_the_next_beat_whatever_it_is() -> None:
    f = RRArtifactFilter()
    f.check([1000] * 6)
    f.reset()
    assert f.check([500, 505, 498]).tolist() == [OK, OK, OK]


def test_step_change_in_rhythm_reanchors_after_four_consistent_beats() -> None:
    f = RRArtifactFilter()
    assert f.reanchor_beats == 4
    before = [1000] * 8
    after = [700, 710, 690, 705, 700, 695, 702, 698]
    flags = f.check(before + after)
    # The first four beats of the new rhythm stay flagged; the fifth is judged against them.
    assert flagged(flags) == [8, 9, 10, 11]
    assert f.reference_rr_ms == pytest.approx(700, abs=10)


def test_artifacts_that_disagree_with_each_other_never_reanchor() -> None:
    # Bigeminy-like pairs: each short beat and each pause is flagged, the rhythm kept.
    rr_ms = [800] * 5 + [500, 1100] * 6 + [800] * 3
    flags = RRArtifactFilter().check(rr_ms)
    assert flagged(flags) == list(range(5, 17))
    assert flags[-3:].tolist() == [OK, OK, OK]


def test_empty_batches_and_numpy_input_are_handled() -> None:
    f = RRArtifactFilter()
    empty = f.check([])
    assert empty.dtype == np.uint8 and empty.shape == (0,)
    assert f.check(np.array([800.0, 805.0, 400.0])).tolist() == [OK, OK, DIFF]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_change_fraction"):
        RRArtifactFilter(max_change_fraction=1.5)
    with pytest.raises(ValueError, match="confirm_samples"):
        BpmJumpFilter(confirm_samples=0)


rr_values = st.floats(min_value=200.0, max_value=2100.0)


@given(
    rr_ms=st.lists(st.one_of(rr_values, st.sampled_from([400.0, 800.0, 1600.0])), max_size=80),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=20),
)
def test_flags_do_not_depend_on_how_beats_are_split_into_calls(
    rr_ms: list[float], cuts: list[int]
) -> None:
    whole = RRArtifactFilter().check(rr_ms)
    f = RRArtifactFilter()
    bounds = [0, *sorted(c for c in cuts if c <= len(rr_ms)), len(rr_ms)]
    pieces = [f.check(np.asarray(rr_ms[a:b])) for a, b in itertools.pairwise(bounds)]
    assert np.concatenate(pieces).tolist() == whole.tolist()


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40))
def test_no_float_crashes_the_rr_filter_and_non_finite_is_out_of_range(
    rr_ms: list[float],
) -> None:
    flags = RRArtifactFilter().check(rr_ms)
    assert len(flags) == len(rr_ms)
    for rr, flag in zip(rr_ms, flags.tolist(), strict=True):
        if not math.isfinite(rr) or not 250.0 <= rr <= 2000.0:
            assert flag == OUT
        else:
            assert flag in (OK, DIFF)


# --- RRArtifactFilter on simulated straps -----------------------------------------------

SESSION_START_S = 30.0
SESSION_END_S = SESSION_START_S + 20 * 60  # warm-up and the first round of intervals


def rr_batches(
    participant: VirtualParticipant, seed: int, faults: FaultConfig | None = None
) -> list[tuple[float, tuple[float, ...]]]:
    """(send time, RR intervals) of each notification, decoded as the driver would."""
    strap = make_strap(
        participant,
        1,
        protocol=load_protocol("hi-aim"),
        session_start_s=SESSION_START_S,
        start_t_s=0.0,
        faults=faults,
        seed=seed,
    )
    return [
        (note.t_s, decode_heart_rate_measurement(note.data).rr_intervals_ms)
        for note in strap.notifications_until(SESSION_END_S)
    ]


@cache
def simulated_class(seed: int) -> tuple[VirtualParticipant, ...]:
    return tuple(make_virtual_class(4, seed))


def expected_artifact_indices(
    clean: Sequence[tuple[float, tuple[float, ...]]], schedule: Sequence[ScheduledFault]
) -> list[int]:
    """Beat indices a schedule of ECTOPIC / MISSED_BEAT faults spoils, from the clean beats.

    A scheduled artefact acts on the first two beats of the first notification at or after
    its time that carries at least two (``FaultInjector.distort_rr``), one per notification.
    """
    todo = sorted(schedule, key=lambda f: f.at_s)
    out: list[int] = []
    first_beat = 0
    merged = 0  # each missed beat shifts later indices down by one
    for t_s, rr_ms in clean:
        if todo and todo[0].at_s <= t_s and len(rr_ms) >= 2:
            i = first_beat - merged
            if todo.pop(0).kind is FaultKind.ECTOPIC:
                out += [i, i + 1]  # the premature beat and its compensatory pause
            else:
                out.append(i)  # two RRs merged into one
                merged += 1
        first_beat += len(rr_ms)
    assert not todo, "every scheduled artefact found its beats"
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_simulated_ectopic_and_missed_beats_are_flagged_at_their_indices(seed: int) -> None:
    # One artefact about every half minute, through warm-up, intermediate, high and recovery.
    schedule = [
        ScheduledFault(FaultKind.ECTOPIC if k % 2 == 0 else FaultKind.MISSED_BEAT, 45.0 + 31.0 * k)
        for k in range(38)
    ]
    for person in simulated_class(seed):
        clean = rr_batches(person, seed)
        faulty = rr_batches(person, seed, FaultConfig(scheduled=tuple(schedule)))
        expected = expected_artifact_indices(clean, schedule)
        f = RRArtifactFilter()
        flags = np.concatenate([f.check(rr_ms) for _, rr_ms in faulty])
        # At high heart rates a premature beat can fall under 250 ms: OUT_OF_RANGE, not DIFF.
        assert flagged(flags) == expected, person.study_code


def test_clean_simulated_session_has_under_half_a_percent_false_flags() -> None:
    beats = false_flags = 0
    for seed in (3, 4):
        for person in simulated_class(seed):
            f = RRArtifactFilter()
            for _, rr_ms in rr_batches(person, seed):
                flags = f.check(rr_ms)
                beats += len(flags)
                false_flags += int(np.count_nonzero(flags))
    assert beats > 8 * 20 * 60  # eight people, 20 minutes, over 60 bpm
    assert false_flags / beats < 0.005


# --- BpmJumpFilter ----------------------------------------------------------------------


def run_bpm(samples: Sequence[tuple[float, float]], f: BpmJumpFilter | None = None) -> list[int]:
    """Final flag of each (t_s, bpm) sample, with confirmed jumps cleared as the engine would."""
    f = f or BpmJumpFilter()
    flags: list[int] = []
    for t_s, bpm in samples:
        verdict = f.check(bpm, t_s)
        for k in range(len(flags) - verdict.cleared_previous, len(flags)):
            flags[k] &= ~SampleFlag.UNCONFIRMED_JUMP
        flags.append(int(verdict.flag))
    return flags


def every_second(*bpm: float, start_s: float = 0.0) -> list[tuple[float, float]]:
    return [(start_s + k, b) for k, b in enumerate(bpm)]


JUMP = SampleFlag.UNCONFIRMED_JUMP
IMPL = SampleFlag.IMPLAUSIBLE


def test_single_spike_flags_only_the_spike() -> None:
    f = BpmJumpFilter()
    assert run_bpm(every_second(120, 120, 200, 121, 120), f) == [0, 0, JUMP, 0, 0]
    assert f.trusted_bpm == 120


def test_real_rise_confirmed_by_following_samples_clears_the_pending_flags() -> None:
    f = BpmJumpFilter()
    verdicts = [f.check(b, t) for t, b in every_second(120, 150, 151, 152)]
    assert verdicts == [
        Verdict(SampleFlag.NONE),
        Verdict(JUMP),
        Verdict(JUMP),
        Verdict(SampleFlag.NONE, cleared_previous=2),
    ]
    assert f.trusted_bpm == 152
    assert f.check(153, 4.0) == Verdict(SampleFlag.NONE)


def test_spike_lasting_two_samples_stays_flagged_when_the_rate_returns() -> None:
    assert run_bpm(every_second(120, 200, 198, 122, 121)) == [0, JUMP, JUMP, 0, 0]


def test_implausible_values_are_flagged_without_disturbing_the_state() -> None:
    f = BpmJumpFilter()
    assert run_bpm(every_second(120, 20, 121, 250, 122), f) == [0, IMPL, 0, IMPL, 0]
    assert f.trusted_bpm == 122


def test_cleared_count_spans_an_implausible_sample_inside_a_confirmed_jump() -> None:
    f = BpmJumpFilter()
    verdicts = [f.check(b, t) for t, b in every_second(120, 150, 250, 151, 152)]
    assert verdicts[2] == Verdict(IMPL)
    assert verdicts[4] == Verdict(SampleFlag.NONE, cleared_previous=3)
    assert run_bpm(every_second(120, 150, 250, 151, 152)) == [0, 0, IMPL, 0, 0]


def test_change_within_the_allowance_for_the_elapsed_time_is_trusted() -> None:
    # 25 bpm in 2 s is within 15 bpm/s; 25 bpm in 1 s exceeds the 20 bpm floor.
    assert run_bpm([(0.0, 100), (2.0, 125)]) == [0, 0]
    assert run_bpm([(0.0, 100), (1.0, 125)]) == [0, JUMP]


def test_new_level_after_a_twelve_second_gap_is_trusted_at_once() -> None:
    f = BpmJumpFilter()
    assert run_bpm([(0.0, 120), (1.0, 121), (13.0, 70), (14.0, 71)], f) == [0, 0, 0, 0]
    assert f.trusted_bpm == 71


def test_reset_trusts_the_next_value() -> None:
    f = BpmJumpFilter()
    run_bpm(every_second(120, 121), f)
    f.reset()
    assert f.check(60, 2.0) == Verdict(SampleFlag.NONE)


any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(st.lists(st.tuples(any_float, any_float), max_size=40))
def test_no_float_crashes_the_bpm_filter_and_non_finite_is_implausible(
    samples: list[tuple[float, float]],
) -> None:
    f = BpmJumpFilter()
    for t_s, bpm in samples:
        verdict = f.check(bpm, t_s)
        assert verdict.cleared_previous >= 0
        if not math.isfinite(bpm) or not 30.0 <= bpm <= 240.0:
            assert verdict == Verdict(IMPL)
        else:
            assert verdict.flag in (SampleFlag.NONE, JUMP)
