"""A block of short bouts is judged as a whole: the block's peak, its time at or above target
over the whole block (rests included), the time to first reach target, each bout's own peak
(from its work start to the next bout's), and achieved by the block's rule. Pinned on a
hand-built heart-rate trace whose every figure can be counted by hand."""

import numpy as np
import pytest

from hiaim_monitor.engine.blocks import (
    block_label,
    judge_block,
    prescribed_intervals,
    protocol_adherence,
    shown_peak_pct,
)
from hiaim_monitor.protocols import AchievedRule, parse_protocol
from hiaim_monitor.schedule import SessionSchedule, planned_windows
from tests.block_trace import BLOCK_S, block_protocol, known_trace, levels_of


def judged(protocol, trace=None, windows=None):
    t, pct, level = trace or known_trace()
    block = protocol.blocks[0]
    if windows is None:
        windows = planned_windows(protocol)[block.first_phase:block.last_phase + 1]
    return judge_block(block, windows, t, pct, level, protocol)


def test_a_block_is_measured_as_a_whole_on_a_known_trace():
    a = judged(block_protocol())
    assert a.is_block and a.block_index == 0 and a.phase_index == 1
    assert a.phase_name == "Sprints 4 × 20/20 s"
    assert (a.start_s, a.end_s, a.planned_s, a.ran_s) == (60, 220, BLOCK_S, BLOCK_S)
    assert a.peak_pct == 92  # the untrusted 99 % does not count
    assert a.seconds_in_target == 15  # 125–129 s and 200–209 s, over the whole block
    assert a.seconds_below_target == BLOCK_S - 15 - 1  # and 1 s of no data: the 99 %
    assert a.seconds_no_data == 1
    assert a.fraction_in_target_after_ramp == pytest.approx(15 / BLOCK_S)
    assert a.time_to_target_s == 65  # first at 85 % or more at 125 s; the block began at 60
    # Each bout's peak runs from its work start to the next bout's: bout 1's peak came in
    # its rest, 10 s after the work ended.
    assert a.bout_peaks_pct == (82, 88, 84, 92)
    assert (a.target_pct, a.achieved_by) == (85, "peak")
    assert a.judged and a.achieved and a.outcome == "achieved"


def test_each_rule_judges_the_same_trace_its_own_way():
    # peak: the block's peak 92 % reached 85 %.
    assert judged(block_protocol("peak")).achieved
    # time: 15 s of 160 s at or above target (9.4 %).
    assert not judged(block_protocol("time", 0.5)).achieved
    assert judged(block_protocol("time", 0.09)).achieved
    assert not judged(block_protocol("time", 0.1)).achieved
    # bouts: bouts 2 and 4 of 4 peaked at or above 85 %.
    assert judged(block_protocol("bouts", 0.5)).achieved
    assert not judged(block_protocol("bouts", 0.75)).achieved


def test_a_block_whose_peak_stays_below_target_is_not_achieved_whatever_the_rule():
    t, pct, level = known_trace()
    pct = np.minimum(pct, 84.9)
    level = np.minimum(level, levels_of(pct))
    for rule in AchievedRule:
        a = judged(block_protocol(rule.value, 0.0 if rule is not AchievedRule.PEAK else 0.5),
                   (t, pct, level))
        assert a.peak_pct == pytest.approx(84.9)
        assert a.time_to_target_s is None and a.seconds_in_target == 0
        if rule is AchievedRule.PEAK:
            assert not a.achieved
    # The peak is shown rounded down: 84.9 % is read "84 %", never an 85 that failed.
    assert shown_peak_pct(84.9) == 84 and shown_peak_pct(85.0) == 85


def test_the_last_bout_without_a_trailing_rest_ends_with_the_block():
    protocol = block_protocol(trailing_rest=False)
    a = judged(protocol)
    assert (a.end_s, a.planned_s) == (200, BLOCK_S - 20)
    # Bout 4 is its 20 s of work: 180–200 s, before the 87 % came.
    assert a.bout_peaks_pct == (82, 88, 84, 75)
    assert a.seconds_in_target == 5


def test_pauses_are_cut_out_of_the_block():
    protocol = block_protocol()
    schedule = SessionSchedule(protocol)
    schedule.pause(120)  # in bout 2, before its rise; 30 s later it resumes
    schedule.resume(150)
    t, pct, level = known_trace()
    # The trace as the session ran: the block's samples from 120 s on come 30 s later, and
    # during the pause the heart rate was high (nobody was timed then).
    t_run = np.where(t >= 120, t + 30, t)
    paused_t = np.arange(120, 150, dtype=np.float64)
    t_all = np.concatenate([t_run[t < 120], paused_t, t_run[t >= 120]])
    pct_all = np.concatenate([pct[t < 120], np.full(30, 95.0), pct[t >= 120]])
    level_all = np.concatenate([level[t < 120], levels_of(np.full(30, 95.0)),
                                level[t >= 120]])
    block = protocol.blocks[0]
    windows = schedule.ended_phases(400)[block.first_phase:block.last_phase + 1]
    a = judge_block(block, windows, t_all, pct_all, level_all, protocol)
    assert (a.start_s, a.end_s, a.ran_s) == (60, 250, BLOCK_S)  # the real window
    assert a.peak_pct == 92 and a.seconds_in_target == 15  # the paused 95 % is left out
    assert a.time_to_target_s == 65  # running time
    assert a.bout_peaks_pct == (82, 88, 84, 92)


def test_a_block_cut_short_before_half_its_length_is_measured_but_not_judged():
    protocol = block_protocol()
    schedule = SessionSchedule(protocol)
    schedule.stop(130)  # 70 s of 160: under half
    block = protocol.blocks[0]
    windows = schedule.ended_phases(130)[block.first_phase:]
    a = judge_block(block, windows, *known_trace(), protocol)
    assert (a.ran_s, a.planned_s) == (70, BLOCK_S)
    assert not a.judged and not a.achieved and a.outcome == "not judged"
    assert a.peak_pct == 88 and a.bout_peaks_pct == (82, 88)  # measured all the same
    schedule = SessionSchedule(protocol)
    schedule.stop(150)  # 90 s of 160: judged on what it ran
    windows = schedule.ended_phases(150)[block.first_phase:]
    a = judge_block(block, windows, *known_trace(), protocol)
    assert a.judged and a.achieved and a.ran_s == 90
    assert a.bout_peaks_pct == (82, 88, 75)  # bout 3 ran 10 s


def test_a_protocol_judges_its_block_once_beside_its_long_phases():
    protocol = parse_protocol("""
name = "Mixed"
[[steps]]
name = "Long"
kind = "high"
duration_s = 120
target_min_pct = 85
[[steps]]
block = "Sprints"
repeat = 4
work_s = 20
rest_s = 20
target_min_pct = 85
""", source="mixed.toml", key="mixed")
    prescribed = prescribed_intervals(protocol)
    assert [(p.index, p.name, p.start_s, p.end_s) for p in prescribed] == [
        (0, "Long", 0, 120), (1, "Sprints 4 × 20/20 s", 120, 280)]
    pct = np.full(280, 90.0)
    results = protocol_adherence(np.arange(280.0), pct, levels_of(pct), protocol)
    assert [(a.phase_index, a.is_block) for a in results] == [(0, False), (1, True)]
    assert results[1].seconds_in_target == 160
    assert block_label(protocol.blocks[0]) == "Sprints 4 × 20/20 s"
