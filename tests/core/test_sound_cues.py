"""The sound cue planner: which cue a class hears at each beat of the heartbeat, however the
beats fall (10–30 Hz, some late), and what pause, Next phase, +1 min and Stop do to it."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.protocols import PhasePosition, parse_protocol
from hiaim_monitor.schedule import SessionSchedule
from hiaim_monitor.sound_cues import MAX_LATE_S, Cue, CuePlanner

# A warm-up of 30 s, a block of 3 × (20 s work / 20 s rest), a cool-down of 30 s.
BLOCK = parse_protocol("""
name = "Block"
[[steps]]
name = "Warm-up"
kind = "warm-up"
duration_s = 30
target_min_pct = 50
[[steps]]
block = "Sprints"
repeat = 3
work_s = 20
rest_s = 20
target_min_pct = 85
[[steps]]
name = "Cool-down"
kind = "cool-down"
duration_s = 30
target_min_pct = 40
""", source="block.toml", key="block")
START_MONO_S = 1000.0  # the monotonic clock when the session started
# Each change by the clock (session s) and the tone it starts with; the end is a rest.
CHANGES = [(30, Cue.WORK), (50, Cue.REST), (70, Cue.WORK), (90, Cue.REST), (110, Cue.WORK),
           (130, Cue.REST), (150, Cue.REST), (180, Cue.REST)]
END_S = 180.0


def expected_cues(changes=CHANGES):
    """(moment s, cue, seconds before the change) of everything a run by the clock plays:
    the warm-up's tone at the start, then 3-2-1 and a tone for every change."""
    out = [(0.0, Cue.REST, 0)]
    for t_s, tone in changes:
        out += [(t_s - 3.0, Cue.COUNT, 3), (t_s - 2.0, Cue.COUNT, 2),
                (t_s - 1.0, Cue.COUNT, 1), (float(t_s), tone, 0)]
    return out


class Run:
    """A session on a schedule the test steers, its snapshots fed to one planner."""

    def __init__(self, protocol=BLOCK):
        self.protocol = protocol
        self.schedule = SessionSchedule(protocol)
        self.planner = CuePlanner()
        self.heard = []  # (session s, CueCall)

    def snapshot(self, t_s):
        sched = self.schedule
        finished = sched.finished_at(t_s)
        return SessionSnapshot(START_MONO_S + t_s, t_s, self.protocol,
                               None if finished else sched.position_at(t_s), finished, (),
                               paused=sched.paused)

    def beat(self, t_s):
        call = self.planner.update(self.snapshot(t_s))
        if call is not None:
            self.heard.append((t_s, call))
        return call

    def beats(self, times):
        for t_s in times:
            self.beat(float(t_s))

    def cues(self):
        return [(call.cue, call.before_s) for _, call in self.heard]


def steady(from_s, to_s, every_s=0.1):
    return np.arange(from_s, to_s, every_s)


def test_a_run_by_the_clock_counts_down_every_change_and_sounds_work_and_rest():
    run = Run()
    run.beats(steady(0.0, END_S + 10, 0.05))
    want = expected_cues()
    assert run.cues() == [(cue, before_s) for _, cue, before_s in want]
    for (t_s, call), (due_s, _, _) in zip(run.heard, want, strict=True):
        assert 0.0 <= t_s - due_s < 0.05 + 1e-9
        assert call.late_s == pytest.approx(t_s - due_s, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 0.2), st.floats(0.0, 0.39))
def test_jittery_beats_neither_miss_nor_double_a_cue(seed, late_share, late_s):
    """Beats at 10–30 Hz, a share of them up to 0.39 s late (so no gap passes 0.49 s):
    every cue once, in order, within half a second of its moment."""
    rng = np.random.default_rng(seed)
    gaps = rng.uniform(1 / 30, 1 / 10, 6000)
    gaps[rng.random(gaps.size) < late_share] += late_s
    times = np.cumsum(gaps)
    run = Run()
    run.beats(times[times < END_S + 10])
    want = expected_cues()
    assert run.cues() == [(cue, before_s) for _, cue, before_s in want]
    for (t_s, call), (due_s, _, _) in zip(run.heard, want, strict=True):
        assert 0.0 <= t_s - due_s <= MAX_LATE_S
        assert call.late_s <= MAX_LATE_S


def test_a_cue_more_than_half_a_second_late_is_dropped_not_played_late():
    run = Run()
    # 0.1 s beats, but none between 26.8 and 27.6 s (the "3" of the first work, at 27 s,
    # would come 0.6 s late), none between 29.9 and 30.7 s (its start tone, at 30 s).
    run.beats([t for t in steady(0.0, 45.0) if not (26.8 < t < 27.6 or 29.9 < t < 30.7)])
    heard = [(round(t_s, 1), call.cue, call.before_s) for t_s, call in run.heard]
    assert heard == [(0.0, Cue.REST, 0), (28.0, Cue.COUNT, 2), (29.0, Cue.COUNT, 1)]


def test_the_same_snapshot_twice_plays_its_cue_once():
    run = Run()
    run.beats(steady(0.0, 26.95))
    snap = run.snapshot(27.0)
    assert run.planner.update(snap).before_s == 3
    assert run.planner.update(snap) is None


def test_nothing_plays_while_paused_and_the_count_goes_on_after_resume():
    run = Run()
    run.beats(steady(0.0, 27.45))  # "3" heard at 27.0
    run.schedule.pause(27.5)
    run.beats(steady(27.5, 60.0))  # paused: the countdown stands at 2.5 s
    assert run.cues()[-1] == (Cue.COUNT, 3)
    run.schedule.resume(60.0)
    run.beats(steady(60.0, 63.05))
    heard = [(round(t_s, 1), call.cue, call.before_s) for t_s, call in run.heard[2:]]
    assert heard == [(60.5, Cue.COUNT, 2), (61.5, Cue.COUNT, 1), (62.5, Cue.WORK, 0)]


def test_next_phase_mid_countdown_stops_the_count_and_sounds_the_phase_skipped_to():
    run = Run()
    run.beats(steady(0.0, 28.45))  # "3" and "2" heard
    run.schedule.skip(28.5)
    run.beats(steady(28.5, 35.0))
    heard = [(round(t_s, 1), call.cue, call.before_s) for t_s, call in run.heard]
    assert heard == [(0.0, Cue.REST, 0), (27.0, Cue.COUNT, 3), (28.0, Cue.COUNT, 2),
                     (28.5, Cue.WORK, 0)]
    # The phase skipped to runs its full 20 s and counts down as usual.
    run.beats(steady(35.0, 49.0))
    assert [(round(t_s, 1), c.before_s) for t_s, c in run.heard[4:]] == [
        (45.5, 3), (46.5, 2), (47.5, 1), (48.5, 0)]


def test_skipping_several_phases_in_one_beat_sounds_only_the_one_landed_on():
    run = Run()
    run.beats(steady(0.0, 10.0))
    for _ in range(3):  # warm-up, work 1 and rest 1 skipped at 10 s: work 2 runs
        run.schedule.skip(10.0)
    run.beat(10.0)
    assert run.heard[-1][1].cue is Cue.WORK and run.heard[-1][1].change == 3
    assert len(run.heard) == 2


def test_next_phase_while_paused_sounds_the_new_phase_when_the_operator_resumes():
    run = Run()
    run.beats(steady(0.0, 10.0))
    run.schedule.pause(10.0)
    run.schedule.skip(12.0)
    run.beats(steady(10.0, 20.0))
    assert len(run.heard) == 1  # only the start
    run.schedule.resume(20.0)
    run.beat(20.05)
    assert run.heard[-1][1].cue is Cue.WORK


def test_plus_one_minute_mid_countdown_counts_down_again_at_the_new_end():
    run = Run()
    run.beats(steady(0.0, 27.95))  # "3" heard
    run.schedule.extend(28.0, by_s=60)
    run.beats(steady(28.0, 90.5))
    heard = [(round(t_s, 1), call.cue, call.before_s) for t_s, call in run.heard]
    assert heard == [(0.0, Cue.REST, 0), (27.0, Cue.COUNT, 3), (87.0, Cue.COUNT, 3),
                     (88.0, Cue.COUNT, 2), (89.0, Cue.COUNT, 1), (90.0, Cue.WORK, 0)]


def test_the_end_by_the_clock_sounds_rest_once_and_then_nothing():
    run = Run()
    run.beats(steady(0.0, END_S + 20, 0.05))
    assert run.heard[-1][1].cue is Cue.REST and run.heard[-1][1].change == len(BLOCK.phases)
    assert run.heard[-1][0] == pytest.approx(END_S)
    run.beats(steady(END_S + 20, END_S + 80))
    assert run.heard[-1][0] == pytest.approx(END_S)


@pytest.mark.parametrize("stop_s", [150.0, END_S - 1.5])
def test_stop_ends_the_session_without_a_cue(stop_s):
    run = Run()
    run.beats(steady(0.0, stop_s, 0.05))
    heard_before = len(run.heard)
    run.schedule.stop(stop_s)
    run.beats(steady(stop_s, stop_s + 20))
    assert len(run.heard) == heard_before


def test_stop_during_a_pause_on_the_last_second_sounds_nothing():
    run = Run()
    run.beats(steady(0.0, END_S - 0.2, 0.05))
    run.schedule.pause(END_S - 0.2)
    run.beats(steady(END_S - 0.2, END_S + 10))
    run.schedule.stop(END_S + 10)
    heard_before = len(run.heard)
    run.beat(END_S + 105)
    assert len(run.heard) == heard_before


def position(index, elapsed_s, protocol=BLOCK):
    phases = protocol.phases
    nxt = phases[index + 1] if index + 1 < len(phases) else None
    return PhasePosition(index, phases[index], elapsed_s,
                         phases[index].duration_s - elapsed_s, nxt)


def snap_at(t_s, pos, **kw):
    return SessionSnapshot(START_MONO_S + t_s, t_s, BLOCK, pos, False, (), **kw)


def test_joining_half_way_through_a_phase_plays_nothing_until_its_next_mark():
    planner = CuePlanner()
    assert planner.update(snap_at(27.5, position(0, 27.5))) is None  # 2.5 s left: no "3"
    call = planner.update(snap_at(28.0, position(0, 28.0)))
    assert (call.cue, call.before_s) == (Cue.COUNT, 2)


def test_waiting_to_start_counts_down_to_the_first_phase():
    planner = CuePlanner()
    calls = [planner.update(snap_at(t, None)) for t in (-5.0, -3.0, -2.6, -2.0, -1.0)]
    assert [(c.cue, c.before_s) if c else None for c in calls] == [
        None, (Cue.COUNT, 3), None, (Cue.COUNT, 2), (Cue.COUNT, 1)]
    call = planner.update(snap_at(0.1, position(0, 0.1)))
    assert (call.cue, call.change, call.late_s) == (Cue.REST, 0, pytest.approx(0.1))


def test_a_work_phase_sounds_work_and_every_other_kind_sounds_rest():
    planner = CuePlanner()
    kinds = []
    for i, phase in enumerate(BLOCK.phases):
        call = planner.update(snap_at(float(i), position(i, 0.0)))
        kinds.append((phase.kind.value, call.cue))
    assert kinds == [("warm-up", Cue.REST), ("high", Cue.WORK), ("recovery", Cue.REST),
                     ("high", Cue.WORK), ("recovery", Cue.REST), ("high", Cue.WORK),
                     ("recovery", Cue.REST), ("cool-down", Cue.REST)]


def test_a_paused_snapshot_plays_nothing_even_at_a_mark():
    planner = CuePlanner()
    planner.update(snap_at(26.9, position(0, 26.9)))
    paused = dataclasses.replace(snap_at(27.1, position(0, 27.1)), paused=True)
    assert planner.update(paused) is None
