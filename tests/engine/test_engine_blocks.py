"""The engine judges a block of short bouts once, as a whole, when its last phase has ended,
or when a stop, a skip or a --duration cap ends it early; its bouts are never judged one by
one, and every count of intervals counts the block once."""

import pytest

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.blocks import shown_peak_pct
from hiaim_monitor.engine.engine import ZoneEngine
from hiaim_monitor.protocols import load_protocol
from tests.block_trace import block_protocol
from tests.engine.test_engine import make, person, run

# block_protocol(): warm-up 0–60 s, Sprints 4 × 20/20 s 60–220 s (phases 1–8), cool-down.
PROTOCOL = block_protocol()
BLOCK = PROTOCOL.blocks[0]


def hard_in_bouts(t):
    """HRmax 200: 60 % outside the block; in it 90 % (180 bpm) from 10 s into each bout's
    work to 10 s into its rest (heart rate lags the effort), 70 % otherwise."""
    if not 60 <= t < 220:
        return 120
    return 180 if 10 <= (t - 60) % 40 < 30 else 140


def results(engine):
    return [a for a in engine.people[0].adherence]


def test_the_block_is_judged_once_when_its_last_phase_has_ended():
    clock, engine = make(PROTOCOL)
    run(clock, engine, hard_in_bouts, 200)  # bouts 1–3 over, bout 4 running
    assert results(engine) == []  # no bout was judged on its own
    assert engine.snapshot().participants[0].intervals_judged == 0
    outputs = run(clock, engine, hard_in_bouts, 219)
    wall_peak = engine.snapshot().participants[0].block_peak_pct  # the tile's "peak so far"
    outputs += run(clock, engine, hard_in_bouts, 230)
    handed = [a for out in outputs for _code, a in out.adherence]
    (block,) = results(engine)
    assert handed == [block]  # handed to storage once
    assert (block.phase_index, block.block_index, block.phase_name) == (
        1, 0, "Sprints 4 × 20/20 s")
    assert (block.start_s, block.end_s, block.ran_s) == (60, 220, 160)
    assert block.peak_pct == pytest.approx(90, abs=0.5)
    assert wall_peak == shown_peak_pct(block.peak_pct)  # the wall said what is judged
    assert len(block.bout_peaks_pct) == 4
    assert all(p == pytest.approx(90, abs=0.5) for p in block.bout_peaks_pct)
    # 20 s of every 40 at 90 %, less the smoother's few seconds of rise each time.
    assert 60 <= block.seconds_in_target <= 80
    assert block.achieved and block.outcome == "achieved"
    view = engine.snapshot().participants[0]
    assert (view.intervals_achieved, view.intervals_judged) == (1, 1)
    summary = engine.summary()[0]
    assert (summary["intervals_achieved"], summary["intervals_judged"],
            summary["intervals_prescribed"]) == (1, 1, 1)
    (entry,) = summary["adherence"]
    assert entry["block_index"] == 0 and entry["achieved_by"] == "peak"
    assert entry["target_pct"] == 85 and len(entry["bout_peaks_pct"]) == 4


def test_skipped_bouts_still_make_one_block_judged_when_its_last_phase_ends():
    clock, engine = make(PROTOCOL)
    run(clock, engine, hard_in_bouts, 110)
    engine.schedule.skip(110.0)  # bout 2's work cut to 10 s; its rest starts at 110
    run(clock, engine, hard_in_bouts, 125)
    assert results(engine) == []
    # Skip every remaining phase of the block, the last one too: it ends at the skip.
    for _ in range(BLOCK.last_phase - engine.schedule.index_at(clock.monotonic()) + 1):
        engine.schedule.skip(clock.monotonic())
    run(clock, engine, hard_in_bouts, 130)
    (block,) = results(engine)
    assert block.end_s == 125 and block.ran_s == 65
    assert len(block.bout_peaks_pct) == 4  # every bout began, the last two for no time
    assert block.bout_peaks_pct[2:] == (None, None)
    assert block.judged is False  # 65 s of 160: under half, measured but not judged
    assert engine.snapshot().participants[0].intervals_judged == 0


@pytest.mark.parametrize(("stop_s", "judged"), [(120.0, False), (150.0, True)])
def test_a_stop_inside_the_block_judges_it_on_what_it_ran(stop_s, judged):
    clock, engine = make(PROTOCOL)
    run(clock, engine, hard_in_bouts, stop_s)
    engine.schedule.stop(stop_s)
    assert results(engine) == []
    rest = engine.conclude()
    ((code, block),) = rest.adherence
    assert code == "P1" and block.block_index == 0
    assert (block.ran_s, block.planned_s, block.judged) == (stop_s - 60, 160, judged)
    assert block.achieved is judged  # it reached 90 % in bout 1 already
    assert engine.conclude().adherence == ()  # judged once


def test_a_duration_cap_inside_the_block_judges_it_like_a_stop():
    clock = SimulatedClock()
    engine = ZoneEngine(PROTOCOL, [person()], clock, start_mono_s=0.0, duration_s=170.0)
    run(clock, engine, hard_in_bouts, 173)
    (block,) = engine.summary()[0]["adherence"]
    assert (block["start_s"], block["end_s"], block["ran_s"]) == (60, 170, 110)
    assert block["outcome"] == "achieved" and len(block["bout_peaks_pct"]) == 3


def test_hi_aim_judges_its_sprint_block_as_one_interval_beside_the_step_ups():
    protocol = load_protocol("hi-aim")
    (block,) = protocol.blocks
    work = [i for i, p in enumerate(protocol.phases) if p.kind.is_work]
    long_work = [i for i in work if protocol.phases[i].block is None]
    starts = {}
    t = 0.0
    for i, phase in enumerate(protocol.phases):
        starts[i] = t
        t += phase.duration_s
    block_start = starts[block.first_phase]

    def effort(t):  # 78 % in the step-ups; 90 % late in each sprint and early in its rest
        phase = protocol.phase_at(t)
        if phase is None:
            return 110
        if phase.phase.block is not None:
            return 180 if 10 <= (t - block_start) % 40 < 30 else 150
        return 156 if phase.phase.kind.is_work else 120

    clock, engine = make(protocol)
    run(clock, engine, effort, protocol.total_s + 5, step_s=2.0)
    adherence = results(engine)
    assert [a.phase_index for a in adherence] == [*long_work, block.first_phase]
    sprints = adherence[-1]
    assert sprints.phase_name == "Sprints 15 × 20/20 s" and len(sprints.bout_peaks_pct) == 15
    assert sprints.achieved
    view = engine.snapshot().participants[0]
    assert (view.intervals_achieved, view.intervals_judged) == (len(long_work) + 1,
                                                                len(long_work) + 1)
