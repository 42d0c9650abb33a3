"""Simulated hearts in a block of short bouts (HI AIM's 15 × 20/20 s sprints): heart rate
lags the effort, climbing over the first bouts and never settling within one; it does not fall
back to rest in a 20 s pause; over the block a participant who pushes reaches 85 % HRmax, one
who struggles does not."""

from __future__ import annotations

import pytest

from hiaim_monitor.protocols import load_protocol
from simulators.physiology import HeartModel, Response, session_target
from tests.simulators.test_sim_physiology import person

PROTOCOL = load_protocol("hi-aim")
(BLOCK,) = PROTOCOL.blocks
BLOCK_START_S = sum(p.duration_s for p in PROTOCOL.phases[:BLOCK.first_phase])
PERIOD_S = BLOCK.work_s + BLOCK.rest_s


def block_trace(p) -> list[float]:
    """% HRmax each second of the block (the model's heart rate, without beat noise)."""
    model = HeartModel(p, target=session_target(p, PROTOCOL, 0.0))
    out = []
    for k in range(int(BLOCK.repeat * PERIOD_S)):
        model.beats_until(BLOCK_START_S + k)
        out.append(100 * model.hr_bpm / p.hrmax_bpm)
    return out


def bout_peaks(trace: list[float]) -> list[float]:
    n = int(PERIOD_S)
    return [max(trace[k * n:(k + 1) * n]) for k in range(BLOCK.repeat)]


@pytest.mark.parametrize("fitness", [0.1, 0.5, 0.9])
def test_a_participant_who_pushes_climbs_to_the_target_over_the_block(fitness):
    trace = block_trace(person(fitness=fitness, seed=11))
    peaks = bout_peaks(trace)
    assert max(trace) >= 85  # reached over the 15 bouts
    # Heart rate lags a 20 s effort: it climbs bout by bout before it levels off.
    assert peaks[0] < peaks[2] < max(peaks[4:])
    second_half = trace[len(trace) // 2:]
    assert min(second_half) > 70  # a 20 s pause is no rest
    # Within each bout it never settles: it swings by several % HRmax.
    n = int(PERIOD_S)
    swings = [max(trace[k * n:(k + 1) * n]) - min(trace[k * n:(k + 1) * n])
              for k in range(5, BLOCK.repeat)]
    assert min(swings) > 3


def test_one_who_struggles_stays_under_the_target_and_one_who_overshoots_goes_past_it():
    assert max(block_trace(person(response=Response.STRUGGLES, seed=11))) < 85
    assert max(block_trace(person(response=Response.OVERSHOOTS, seed=11))) > 90
