import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.intervals import detect_intervals, sample_durations_s

LO, MID, HI, CEIL, UNK = (Level.BELOW, Level.INTERMEDIATE, Level.HIGH, Level.ABOVE_CEILING,
                          Level.UNKNOWN)
PCT_OF = {LO: 60.0, MID: 78.0, HI: 90.0, CEIL: 102.0, UNK: np.nan}


def trace(*segments: tuple[int, Level]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1 Hz samples from (seconds, level) pieces; untrusted samples carry NaN % HRmax."""
    level = np.concatenate([np.full(n, lv, dtype=np.int8) for n, lv in segments])
    pct = np.array([PCT_OF[Level(v)] for v in level])
    return np.arange(level.size, dtype=np.float64), pct, level


def of_kind(bouts, kind):
    return [b for b in bouts if b.kind is kind]


def test_a_sample_holds_until_the_next_one_but_lost_signal_is_credited_to_no_one():
    t = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
    assert sample_durations_s(t, end_s=11.5).tolist() == [1, 1, 2, 1, 0.5]
    assert sample_durations_s(t).tolist() == [1, 1, 2, 1, 0]
    assert sample_durations_s(t, end_s=30.0, max_gap_s=3.0).tolist() == [1, 1, 3, 1, 3]
    assert sample_durations_s(np.array([])).size == 0


def test_29_seconds_of_high_is_not_a_bout_but_31_seconds_is():
    assert detect_intervals(*trace((60, LO), (29, HI), (60, LO))) == []
    (bout,) = detect_intervals(*trace((60, LO), (31, HI), (60, LO)))
    assert bout.kind is HI
    assert (bout.start_s, bout.end_s, bout.duration_s) == (60, 91, 31)
    assert bout.mean_pct == pytest.approx(90) and bout.peak_pct == 90


def test_time_above_the_ceiling_counts_as_high_intensity():
    (bout,) = detect_intervals(*trace((10, LO), (20, HI), (15, CEIL), (10, LO)))
    assert bout.kind is HI and bout.duration_s == 35 and bout.peak_pct == 102


def test_two_40_s_high_runs_with_a_5_s_dip_merge_into_one_bout():
    bouts = detect_intervals(*trace((30, LO), (40, HI), (5, MID), (40, HI), (30, LO)))
    (bout,) = bouts  # the dip is too short to be an intermediate bout of its own
    assert (bout.start_s, bout.end_s, bout.duration_s) == (30, 115, 85)
    assert bout.time_at_level_s == 80


def test_two_40_s_high_runs_15_s_apart_stay_two_bouts():
    bouts = detect_intervals(*trace((30, LO), (40, HI), (15, LO), (40, HI), (30, LO)))
    assert [(b.start_s, b.end_s) for b in bouts] == [(30, 70), (85, 125)]


def test_a_signal_gap_longer_than_the_merge_gap_splits_a_bout():
    t = np.concatenate([np.arange(0.0, 40.0), np.arange(60.0, 100.0)])
    pct = np.full(t.size, 90.0)
    level = np.full(t.size, HI, dtype=np.int8)
    bouts = detect_intervals(t, pct, level)
    # The last sample before the gap holds for max_gap_s (2 s), then nothing is credited.
    assert [(b.start_s, b.end_s) for b in bouts] == [(0, 41), (60, 99)]


def test_a_short_signal_gap_inside_a_bout_does_not_split_it():
    t = np.concatenate([np.arange(0.0, 40.0), np.arange(45.0, 85.0)])
    level = np.full(t.size, HI, dtype=np.int8)
    (bout,) = detect_intervals(t, np.full(t.size, 90.0), level, end_s=85.0)
    assert (bout.start_s, bout.end_s) == (0, 85)
    assert bout.time_at_level_s == 41 + 40


def test_untrusted_samples_inside_a_bout_are_bridged_but_not_counted():
    (bout,) = detect_intervals(*trace((10, LO), (20, HI), (3, UNK), (20, HI), (10, LO)))
    assert (bout.start_s, bout.end_s) == (10, 53)
    assert bout.time_at_level_s == 40
    assert bout.mean_pct == pytest.approx(90)  # the NaNs of the artifact do not leak in


def test_intermediate_bouts_need_60_seconds():
    assert detect_intervals(*trace((30, LO), (59, MID), (30, LO))) == []
    (bout,) = detect_intervals(*trace((30, LO), (61, MID), (30, LO)))
    assert bout.kind is MID and bout.duration_s == 61


def test_mean_is_weighted_by_time_not_by_sample_count_and_peak_is_the_maximum():
    # 20 s at 4 Hz and 90 %, then 20 s at 1 Hz and 100 %: 80 samples against 20.
    t = np.concatenate([np.arange(0.0, 20.0, 0.25), np.arange(20.0, 40.0)])
    pct = np.where(t < 20, 90.0, 100.0)
    (bout,) = detect_intervals(t, pct, np.full(t.size, HI, dtype=np.int8), end_s=40.0)
    assert bout.mean_pct == pytest.approx(95.0)
    assert bout.peak_pct == 100.0


def test_bouts_of_both_kinds_come_sorted_by_start():
    bouts = detect_intervals(*trace((10, LO), (70, MID), (40, HI), (20, LO), (35, HI), (70, MID)))
    assert [(b.kind, b.start_s) for b in bouts] == [(MID, 10), (HI, 80), (HI, 140), (MID, 175)]


def test_empty_input_gives_no_bouts():
    empty = np.array([])
    assert detect_intervals(empty, empty, empty.astype(np.int8)) == []


def test_arrays_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same length"):
        detect_intervals(np.arange(3.0), np.zeros(2), np.zeros(3, dtype=np.int8))


def test_a_bout_serialises_to_json():
    (bout,) = detect_intervals(*trace((5, LO), (40, HI), (5, LO)))
    doc = json.loads(json.dumps(bout.to_dict()))
    assert doc == {"kind": "high", "start_s": 5.0, "end_s": 45.0, "duration_s": 40.0,
                   "mean_pct": 90.0, "peak_pct": 90.0, "time_at_level_s": 40.0}


pieces = st.lists(
    st.tuples(
        st.integers(1, 90),  # samples in the piece
        st.sampled_from(list(Level)),
        st.sampled_from([0.25, 0.5, 1.0, 1.5]),  # seconds between its samples
        st.one_of(st.just(0.0), st.floats(0.0, 30.0)),  # extra lost-signal gap after it
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(pieces, st.floats(0.0, 60.0), st.floats(0.0, 90.0), st.floats(0.0, 20.0))
def test_bouts_of_one_kind_never_overlap_and_each_lasts_its_minimum(
        pieces, min_high_s, min_intermediate_s, merge_gap_s):
    t_parts, levels = [], []
    now = 0.0
    for n, lv, dt, gap in pieces:
        t_parts.append(now + dt * np.arange(n))
        levels.append(np.full(n, lv, dtype=np.int8))
        now += dt * n + gap
    t = np.concatenate(t_parts) if t_parts else np.array([])
    level = np.concatenate(levels) if levels else np.array([], dtype=np.int8)
    pct = np.array([PCT_OF[Level(v)] for v in level])

    bouts = detect_intervals(t, pct, level, min_high_s=min_high_s,
                             min_intermediate_s=min_intermediate_s, merge_gap_s=merge_gap_s)
    assert [b.start_s for b in bouts] == sorted(b.start_s for b in bouts)
    for kind, min_s in ((HI, min_high_s), (MID, min_intermediate_s)):
        same = of_kind(bouts, kind)
        for a, b in itertools.pairwise(same):
            assert a.end_s <= b.start_s
        for b in same:
            assert b.duration_s >= b.time_at_level_s - 1e-9
            assert b.time_at_level_s >= min_s - 1e-6
            assert b.duration_s >= min_s - 1e-6
