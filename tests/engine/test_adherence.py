import json

import numpy as np
import pytest

from hiaim_monitor.engine.adherence import (
    judge_window,
    phase_adherence,
    phase_target,
    summarise_session,
)
from hiaim_monitor.engine.blocks import protocol_adherence
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.protocols import Phase, PhaseKind
from hiaim_monitor.schedule import SessionSchedule
from tests.conftest import make_protocol

# Warm-up 0–60 s, then High k/4 at 60, 300, 540 and 780 s (180 s each), 60 s rests between.
FOUR_HIGHS = dict(name="Four highs", repeat=4, work="High", work_s=180, rest="Rest", rest_s=60,
                  ramp_allowance_s=60, achieved_fraction=0.5,
                  thresholds={"intermediate_pct": 70, "high_pct": 85, "ceiling_pct": 100})
PROTOCOL = make_protocol(**FOUR_HIGHS)
TH = PROTOCOL.thresholds
HIGH_STARTS_S = (60, 300, 540, 780)
HIGH = Phase("High", PhaseKind.HIGH, 180.0, 85.0, None)
INTERMEDIATE = Phase("Steady", PhaseKind.INTERMEDIATE, 180.0, 70.0, 85.0)


def levels_of(pct: np.ndarray) -> np.ndarray:
    """Plain classification by the test thresholds (no hysteresis needed here)."""
    edges = (TH.intermediate_pct, TH.high_pct, TH.ceiling_pct)
    return np.digitize(pct, edges).astype(np.int8)


def one_hz(pct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.arange(pct.size, dtype=np.float64), pct, levels_of(pct)


def judge(t, pct, level, phase=HIGH, start_s=0.0, end_s=180.0, **kw):
    args = {"thresholds": TH, "ramp_allowance_s": 60.0, "achieved_fraction": 0.5} | kw
    return phase_adherence(t, pct, level, phase_index=0, phase=phase, start_s=start_s,
                           end_s=end_s, **args)


def session_reaching_three_of_four() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pct = np.full(int(PROTOCOL.total_s), 60.0)
    for start, reach_after_s in zip(HIGH_STARTS_S, (40, 20, None, 70), strict=True):
        if reach_after_s is None:
            pct[start:start + 180] = 80.0  # works hard, never reaches high intensity
        else:
            pct[start + reach_after_s:start + 180] = 90.0
    pct[60 + 90] = 93.0
    return one_hz(pct)


def test_participant_reaching_target_in_three_of_four_high_intervals_achieves_three():
    t, pct, level = session_reaching_three_of_four()
    phases = protocol_adherence(t, pct, level, PROTOCOL)
    assert [a.phase_name for a in phases] == [f"High {k}/4" for k in range(1, 5)]
    assert [a.phase_index for a in phases] == [1, 3, 5, 7]
    assert [a.start_s for a in phases] == list(HIGH_STARTS_S)
    assert [a.achieved for a in phases] == [True, True, False, True]
    assert [a.time_to_target_s for a in phases] == [40, 20, None, 70]
    assert [a.peak_pct for a in phases] == [93, 90, 80, 90]
    assert [a.seconds_in_target for a in phases] == [140, 160, 0, 110]
    assert [a.seconds_below_target for a in phases] == [40, 20, 180, 70]
    assert [a.fraction_in_target_after_ramp for a in phases] == pytest.approx(
        [1, 1, 0, 110 / 120])

    summary = summarise_session(t, pct * 1.6, pct, level, end_s=PROTOCOL.total_s,
                                adherence=phases)
    assert (summary.intervals_achieved, summary.intervals_prescribed) == (3, 4)


def test_target_counts_as_reached_only_after_5_seconds_continuously_in_target():
    pct = np.full(180, 60.0)
    pct[10:13] = 90.0  # a 3 s blip does not count
    pct[40:] = 90.0
    assert judge(*one_hz(pct)).time_to_target_s == 40
    pct[10:15] = 90.0  # 5 s does
    assert judge(*one_hz(pct)).time_to_target_s == 10


def test_ramp_allowance_excludes_the_first_60_seconds():
    early = np.where(np.arange(180) < 60, 90.0, 60.0)
    a = judge(*one_hz(early))
    assert a.seconds_in_target == 60
    assert a.fraction_in_target_after_ramp == 0 and not a.achieved

    late = np.where(np.arange(180) < 60, 60.0, 90.0)
    a = judge(*one_hz(late))
    assert a.seconds_in_target == 120
    assert a.fraction_in_target_after_ramp == 1 and a.achieved


def test_a_phase_no_longer_than_the_ramp_is_judged_whole():
    pct = np.where(np.arange(30) < 10, 60.0, 90.0)
    a = judge(*one_hz(pct), end_s=30.0)
    assert a.fraction_in_target_after_ramp == pytest.approx(20 / 30)


def test_achieved_needs_the_protocol_fraction_of_post_ramp_time_in_target():
    pct = np.where(np.arange(180) < 120, 60.0, 90.0)  # 60 of the 120 judged seconds
    assert judge(*one_hz(pct)).achieved
    assert not judge(*one_hz(pct), achieved_fraction=0.6).achieved


def test_above_the_ceiling_counts_as_in_target_for_a_high_phase():
    a = judge(*one_hz(np.full(180, 104.0)))
    assert a.seconds_in_target == 179 + 1 and a.seconds_above_target == 0
    assert a.achieved and a.peak_pct == 104


def test_high_intensity_in_an_intermediate_phase_is_above_target():
    pct = np.concatenate([np.full(60, 75.0), np.full(60, 90.0), np.full(60, 60.0)])
    a = judge(*one_hz(pct), phase=INTERMEDIATE)
    assert a.target is Level.INTERMEDIATE
    assert (a.seconds_in_target, a.seconds_above_target, a.seconds_below_target) == (60, 60, 60)
    assert not a.achieved  # none of the 120 s after the ramp is in target


def test_unknown_samples_and_lost_signal_are_no_data():
    t, pct, level = one_hz(np.full(180, 90.0))
    level[50:80] = Level.UNKNOWN
    pct[50:80] = np.nan  # artifacts carry no usable value
    keep = (t < 100) | (t >= 120)  # 20 samples lost; the one before the hole holds 2 s
    a = judge(t[keep], pct[keep], level[keep])
    assert a.seconds_no_data == 30 + 19
    assert a.seconds_in_target == 180 - 49
    assert a.seconds_in_target + a.seconds_below_target + a.seconds_no_data == 180
    assert a.peak_pct == 90


def test_only_samples_inside_the_phase_count_and_the_last_holds_to_the_phase_end():
    t = np.arange(0.5, 20.0)  # half a second off the phase grid
    pct = np.full(t.size, 90.0)
    a = judge(t, pct, levels_of(pct), start_s=5.0, end_s=15.0)
    # First sample inside is at 5.5; the one at 14.5 holds only until 15.
    assert a.seconds_in_target == 9.5
    assert a.seconds_no_data == 0.5
    assert a.time_to_target_s == 0.5


def test_an_ongoing_phase_is_not_judged():
    t, pct, level = session_reaching_three_of_four()
    assert [a.phase_index for a in protocol_adherence(t, pct, level, PROTOCOL, end_s=500)] \
        == [1, 3]
    assert len(protocol_adherence(t, pct, level, PROTOCOL, end_s=480)) == 2
    assert protocol_adherence(t, pct, level, PROTOCOL, end_s=200) == []


def test_zone_and_level_seconds_add_up_to_trusted_time():
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0, 1200, 1000))
    pct = rng.uniform(35, 110, t.size)
    level = levels_of(pct)
    level[rng.random(t.size) < 0.1] = Level.UNKNOWN
    s = summarise_session(t, pct * 1.8, pct, level, end_s=1200.0, adherence=[])
    trusted_s = 1200.0 - s.seconds_no_data
    assert set(s.seconds_in_level) == {"below", "intermediate", "high", "above_ceiling"}
    assert set(s.seconds_in_zone) == {"0", "1", "2", "3", "4", "5"}
    assert sum(s.seconds_in_zone.values()) == pytest.approx(trusted_s)
    assert sum(s.seconds_in_level.values()) == pytest.approx(trusted_s)
    assert 0 < trusted_s < 1200


def test_zone_edges_belong_to_the_zone_above():
    pct = np.array([49.9, 50.0, 59.9, 60.0, 89.9, 90.0, 120.0])
    s = summarise_session(np.arange(7.0), pct * 2, pct, levels_of(pct), end_s=7.0,
                          adherence=[])
    assert s.seconds_in_zone == {"0": 1, "1": 2, "2": 1, "3": 0, "4": 1, "5": 2}
    assert s.seconds_in_level == {"below": 4, "intermediate": 0, "high": 2,
                                  "above_ceiling": 1}


def test_heart_rate_summary_ignores_untrusted_samples():
    pct = np.full(10, 60.0)
    bpm = np.array([100.0] * 5 + [120.0] * 5)
    level = levels_of(pct)
    level[2] = Level.UNKNOWN
    bpm[2] = 230.0  # an artifact spike
    s = summarise_session(np.arange(10.0), bpm, pct, level, end_s=10.0, adherence=[])
    assert s.peak_bpm == 120
    assert s.mean_bpm == pytest.approx((4 * 100 + 5 * 120) / 9)
    assert s.seconds_no_data == 1


def test_empty_arrays_give_no_data_rather_than_errors():
    t, pct, level = np.array([]), np.array([]), np.array([], dtype=np.int8)
    a = judge(t, pct, level)
    assert a.seconds_no_data == 180 and a.seconds_in_target == 0
    assert a.peak_pct is None and a.time_to_target_s is None
    assert a.fraction_in_target_after_ramp == 0 and not a.achieved
    phases = protocol_adherence(t, pct, level, PROTOCOL)
    assert len(phases) == 4 and not any(p.achieved for p in phases)
    s = summarise_session(t, pct, pct, level, end_s=600.0, adherence=phases)
    assert s.mean_bpm is None and s.peak_bpm is None
    assert s.seconds_no_data == 600
    assert (s.intervals_achieved, s.intervals_prescribed) == (0, 4)


def test_phase_target_follows_the_phase_kind_and_rest_has_none():
    assert phase_target(HIGH, TH) is Level.HIGH
    assert phase_target(INTERMEDIATE, TH) is Level.INTERMEDIATE
    with pytest.raises(ValueError, match="not a work phase"):
        phase_target(PROTOCOL.phases[0], TH)


def test_results_serialise_to_json():
    t, pct, level = session_reaching_three_of_four()
    phases = protocol_adherence(t, pct, level, PROTOCOL)
    doc = json.loads(json.dumps([a.to_dict() for a in phases]))
    assert doc[0]["kind"] == "high" and doc[0]["target"] == "high"
    assert doc[2]["time_to_target_s"] is None and doc[2]["achieved"] is False
    s = summarise_session(t, pct * 1.6, pct, level, end_s=PROTOCOL.total_s, adherence=phases)
    back = json.loads(json.dumps(s.to_dict()))
    assert back["intervals_achieved"] == 3
    assert back["seconds_in_level"] == {"below": 1020 - 410 - 180, "intermediate": 180,
                                        "high": 140 + 160 + 110, "above_ceiling": 0}


# -- a phase cut short: planned against ran, and "not judged" below the protocol's share ---
def high_from(t0_s: float, n_s: int = 1200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1 Hz samples at 60 % HRmax, then 90 % (high) from ``t0_s`` on."""
    pct = np.where(np.arange(n_s) >= t0_s, 90.0, 60.0)
    return one_hz(pct)


def cut(schedule: SessionSchedule, index: int):
    return next(w for w in schedule.ended_phases(1e9) if w.index == index)


def test_a_high_phase_stopped_68_s_into_180_is_not_judged():
    # The case: in target for the last 17 s of 68, all of them after the ramp, so
    # the fraction in target is 1.0 and it used to count as achieved.
    t, pct, level = high_from(60 + 51)
    schedule = SessionSchedule(PROTOCOL)
    schedule.stop(60 + 68)
    result = judge_window(cut(schedule, 1), t, pct, level, PROTOCOL)
    assert result.fraction_in_target_after_ramp == 1.0 and result.seconds_in_target == 17
    assert (result.planned_s, result.ran_s) == (180.0, 68.0)
    assert not result.judged and not result.achieved and result.outcome == "not judged"
    doc = json.loads(json.dumps(result.to_dict()))
    assert (doc["achieved"], doc["judged"], doc["outcome"]) == (None, False, "not judged")
    figures = summarise_session(t, pct * 2, pct, level, end_s=128.0, adherence=[result])
    assert (figures.intervals_achieved, figures.intervals_judged,
            figures.intervals_prescribed) == (0, 0, 1)


def test_a_phase_skipped_after_half_its_length_is_still_judged_both_ways():
    t, pct, level = high_from(60 + 30)
    schedule = SessionSchedule(PROTOCOL)
    schedule.skip(60 + 90)  # half of 180 s: the default share
    hit = judge_window(cut(schedule, 1), t, pct, level, PROTOCOL)
    assert (hit.ran_s, hit.judged, hit.outcome) == (90.0, True, "achieved")
    t, pct, level = high_from(60 + 89)  # in target only in the last second
    miss = judge_window(cut(schedule, 1), t, pct, level, PROTOCOL)
    assert (miss.judged, miss.outcome) == (True, "not achieved")


def test_the_share_a_phase_must_run_is_the_protocols_min_judged_fraction():
    strict = make_protocol(**FOUR_HIGHS, min_judged_fraction=0.75)
    assert strict.min_judged_fraction == 0.75 and PROTOCOL.min_judged_fraction == 0.5
    t, pct, level = high_from(60 + 30)
    schedule = SessionSchedule(strict)
    schedule.skip(60 + 120)  # two thirds of 180 s
    assert judge_window(cut(schedule, 1), t, pct, level, strict).outcome == "not judged"


def test_a_pause_does_not_count_as_time_the_phase_ran():
    t, pct, level = high_from(60 + 30)
    schedule = SessionSchedule(PROTOCOL)
    schedule.pause(60 + 40)
    schedule.resume(60 + 140)  # 100 s paused: the window is 160 s, the countdown ran 60
    schedule.stop(60 + 160)
    result = judge_window(cut(schedule, 1), t, pct, level, PROTOCOL)
    assert (result.start_s, result.end_s, result.ran_s) == (60.0, 220.0, 60.0)
    assert result.outcome == "not judged"


def test_a_phase_that_ran_whole_is_judged_as_before():
    t, pct, level = high_from(60 + 30)
    result = protocol_adherence(t, pct, level, PROTOCOL, end_s=240.0)[0]
    assert (result.planned_s, result.ran_s, result.outcome) == (180.0, 180.0, "achieved")


def test_a_phase_skipped_the_moment_it_began_is_reported_with_its_planned_times():
    schedule = SessionSchedule(PROTOCOL)
    schedule.skip(100.0)  # High 1/4 ran 40 s
    schedule.skip(100.0)  # Rest 1/4 skipped the moment it began
    schedule.skip(100.0)  # so was High 2/4
    t, pct, level = high_from(0)
    never_ran = judge_window(cut(schedule, 3), t, pct, level, PROTOCOL)
    assert (never_ran.start_s, never_ran.end_s, never_ran.ran_s) == (300.0, 480.0, 0.0)
    assert never_ran.outcome == "not judged" and never_ran.seconds_in_target == 0
