"""The protocol on the session clock as the operator steers it: pause, resume, skip, extend,
stop; and with no actions, exactly the protocol's own timing."""

import contextlib
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.schedule import ActionKind, SessionSchedule, planned_windows, running_time
from tests.conftest import make_protocol

# Warm-up 0–120, then 4 × (4 min hard, 3 min easy) without the last easy, cool-down.
FOUR_BY_FOUR = make_protocol(name="4 x 4", repeat=4, work_s=240, rest_s=180, warm_up_s=120,
                             trailing_rest=False, cool_down_s=60)
TOTAL_S = FOUR_BY_FOUR.total_s  # 120 + 4*240 + 3*180 + 60 = 1680


def spans(windows):
    """(index, start_s, end_s) of each window, to compare with numbers."""
    return [(w.index, w.start_s, w.end_s) for w in windows]


def test_pausing_30_s_mid_interval_freezes_its_countdown_and_ends_the_session_30_s_later():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.pause(240.0)  # two minutes into the first hard interval
    assert sched.paused
    for t in (240.0, 255.0, 269.9):
        pos = sched.position_at(t)
        assert pos.index == 1 and pos.remaining_s == pytest.approx(120)
        assert pos.elapsed_s == pytest.approx(120)
    assert not sched.finished_at(1e9)  # nothing ends while paused
    sched.resume(270.0)
    assert not sched.paused
    assert sched.position_at(280.0).remaining_s == pytest.approx(110)
    assert sched.position_at(389.9).index == 1
    assert sched.position_at(390.0).index == 2  # ended 30 s late
    assert sched.end_s == pytest.approx(TOTAL_S + 30)
    assert not sched.finished_at(TOTAL_S + 29.9) and sched.finished_at(TOTAL_S + 30)
    hard = sched.ended_phases(400.0)[1]
    assert (hard.start_s, hard.end_s) == (120.0, 390.0)
    assert hard.pauses == ((240.0, 270.0),) and hard.paused_s == 30
    assert hard.running_s == 240 and not hard.cut_short


def test_skip_ends_the_phase_now_and_the_next_starts_now_with_its_full_duration():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.skip(200.0)  # 80 s into the first hard interval
    pos = sched.position_at(200.0)
    assert pos.index == 2 and pos.phase.name == "Easy 1/4"
    assert pos.elapsed_s == 0 and pos.remaining_s == 180
    hard = sched.ended_phases(200.0)[1]
    assert (hard.start_s, hard.end_s, hard.cut_short) == (120.0, 200.0, True)
    assert sched.end_s == TOTAL_S - 160


def test_extend_adds_60_s_to_the_current_phase_and_everything_after_shifts():
    sched = SessionSchedule(FOUR_BY_FOUR)
    action = sched.extend(300.0)
    assert action.detail == {"phase_index": 1, "phase_name": "Hard 1/4", "by_s": 60.0}
    assert sched.position_at(300.0).remaining_s == 120
    windows = spans(sched.phase_windows())
    plain = spans(SessionSchedule(FOUR_BY_FOUR).phase_windows())
    assert windows[1] == (1, 120.0, 420.0)
    assert [(i, s - 60, e - 60) for i, s, e in windows[2:]] == plain[2:]
    assert sched.end_s == TOTAL_S + 60


def test_stop_finishes_the_session_now():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.pause(500.0)
    sched.stop(530.0)
    assert sched.finished_at(530.0) and not sched.paused
    assert sched.position_at(530.0) is None
    assert spans(sched.phase_windows())[-1] == (2, 360.0, 530.0)
    assert sched.ended_phases(530.0)[-1].cut_short
    assert [a.kind for a in sched.actions] == [ActionKind.PAUSE, ActionKind.STOP]


def test_skipping_while_paused_starts_the_next_phase_paused_at_its_full_length():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.pause(200.0)
    sched.skip(210.0)
    assert sched.paused and sched.position_at(230.0).remaining_s == 180
    sched.resume(240.0)
    assert spans(sched.phase_windows(240.0))[-1] == (2, 210.0, 420.0)


def test_skipping_the_last_phase_ends_the_session():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.skip(TOTAL_S - 30)
    assert sched.finished_at(TOTAL_S - 30) and sched.end_s == TOTAL_S - 30


def test_every_action_is_recorded_for_storage_in_order():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.pause(10.0)
    resumed = sched.resume(25.0)
    sched.skip(40.0)
    sched.extend(50.0, by_s=30)
    sched.stop(60.0)
    assert [(a.kind.value, a.t_s) for a in sched.actions] == [
        ("pause", 10.0), ("resume", 25.0), ("skip", 40.0), ("extend", 50.0), ("stop", 60.0)]
    assert resumed.detail["paused_s"] == 15.0


@pytest.mark.parametrize(("act", "message"), [
    (lambda s: s.resume(10.0), "not paused"),
    (lambda s: (s.pause(10.0), s.pause(20.0)), "already paused"),
    (lambda s: s.skip(TOTAL_S + 1), "session ended"),
    (lambda s: (s.stop(100.0), s.skip(120.0)), "session ended"),
    (lambda s: (s.stop(100.0), s.stop(100.0)), "session ended"),
    (lambda s: s.extend(10.0, by_s=-60), "positive number"),
    (lambda s: s.extend(10.0, by_s=0), "positive number"),
    (lambda s: s.extend(10.0, by_s=math.nan), "positive number"),
    (lambda s: (s.skip(100.0), s.pause(50.0)), "time order"),
    (lambda s: (s.ended_phases(400.0), s.skip(300.0)), "time order"),
    (lambda s: s.pause(math.inf), "finite"),
])
def test_invalid_actions_are_refused_with_one_sentence(act, message):
    sched = SessionSchedule(FOUR_BY_FOUR)
    with pytest.raises(ValueError, match=message) as caught:
        act(sched)
    text = str(caught.value)
    assert text.endswith(".") and text.count(". ") == 0 and "\n" not in text


def test_a_refused_action_changes_nothing():
    sched = SessionSchedule(FOUR_BY_FOUR)
    before = sched.phase_windows()
    with pytest.raises(ValueError):
        sched.resume(100.0)
    assert sched.phase_windows() == before and sched.actions == [] and sched.version == 0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["hi-aim", "norwegian-4x4", "7x30s", "novakovic-8x1", "tabata", "15-15"]),
       st.floats(-100, 10_000, allow_nan=False))
def test_with_no_actions_the_schedule_is_exactly_the_protocol(preset, t_s):
    protocol = load_protocol(preset)
    sched = SessionSchedule(protocol)
    assert sched.position_at(t_s) == protocol.phase_at(t_s)
    assert sched.finished_at(t_s) == (protocol.phase_at(t_s) is None and t_s >= 0)
    start = 0.0
    for (i, s, e), phase in zip(spans(sched.phase_windows()), protocol.phases, strict=True):
        assert (s, e) == (start, start + phase.duration_s)
        assert protocol.phase_at(s).index == i
        start = e
    # Untouched, the plan is the protocol's own layout: one shape, equal windows.
    assert sched.phase_windows() == planned_windows(protocol)
    assert [w.index for w in sched.ended_phases(t_s)] == [
        i for i, _, e in spans(sched.phase_windows()) if e <= t_s]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["pause", "resume", "skip", "extend"]),
                          st.floats(0, 120, allow_nan=False)), max_size=12),
       st.floats(0, 3000, allow_nan=False))
def test_any_valid_action_sequence_keeps_windows_contiguous_and_countdowns_sane(steps, probe):
    sched = SessionSchedule(FOUR_BY_FOUR)
    t = 0.0
    for kind, gap in steps:
        t += gap
        with contextlib.suppress(ValueError):  # refusals are tested elsewhere
            getattr(sched, kind)(t)
    windows = spans(sched.phase_windows())
    for (_, _, e), (_, s, _) in itertools.pairwise(windows):
        assert e == s
    pos = sched.position_at(probe)
    if pos is not None:
        assert pos.elapsed_s >= -1e-9 and pos.remaining_s >= -1e-9


def test_running_time_cuts_pauses_out_and_stays_sorted():
    t, keep = running_time([0.0, 5.0, 10.0, 15.0, 20.0], ((4.0, 12.0),))
    assert keep.tolist() == [True, False, False, True, True]
    assert t.tolist() == [0.0, 7.0, 12.0]


def test_phases_not_run_after_a_skip_keep_their_planned_unshifted_times():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.skip(200.0)  # Hard 1/4 ran 80 s
    sched.skip(200.0)  # Easy 1/4 skipped the moment it began
    sched.skip(200.0)  # so was Hard 2/4
    sched.pause(230.0)
    sched.resume(250.0)
    sched.stop(260.0)  # Easy 2/4 ran 40 s in a 60 s window; nothing after it ran
    runs = sched.phase_runs(260.0)
    assert [(r["planned_start_s"], r["planned_end_s"], r["planned_s"]) for r in runs[:6]] == [
        (0, 120, 120), (120, 360, 240), (360, 540, 180), (540, 780, 240), (780, 960, 180),
        (960, 1200, 240)]
    assert [(r["phase_name"], r["start_s"], r["end_s"], r["ran_s"], r["cut_short"])
            for r in runs[:5]] == [
        ("Warm-up", 0.0, 120.0, 120.0, False), ("Hard 1/4", 120.0, 200.0, 80.0, True),
        ("Easy 1/4", None, None, 0.0, False), ("Hard 2/4", None, None, 0.0, False),
        ("Easy 2/4", 200.0, 260.0, 40.0, True)]
    assert all(r["start_s"] is None and r["ran_s"] == 0 for r in runs[5:])
    assert runs[-1]["planned_end_s"] == TOTAL_S
    # The skips moved the live plan (what the timeline shows), not what is reported.
    assert spans(sched.phase_windows())[3] == (3, 200.0, 200.0)


def test_a_phase_still_running_when_reported_ran_until_then():
    sched = SessionSchedule(FOUR_BY_FOUR)
    runs = sched.phase_runs(150.0)  # a session capped at 150 s
    assert [(r["start_s"], r["end_s"], r["ran_s"], r["cut_short"]) for r in runs[:3]] == [
        (0.0, 120.0, 120.0, False), (120.0, 150.0, 30.0, True), (None, None, 0.0, False)]
    assert sched.phase_runs(1e9)[-1]["ran_s"] == 60.0  # a whole session: every phase ran


def test_cut_at_gives_the_running_phase_ended_there_and_changes_nothing():
    sched = SessionSchedule(FOUR_BY_FOUR)
    sched.pause(200.0)
    sched.resume(230.0)
    window = sched.cut_at(250.0)
    assert (window.index, window.start_s, window.end_s, window.cut_short) == (
        1, 120.0, 250.0, True)
    assert (window.pauses, window.running_s) == (((200.0, 230.0),), 100.0)
    assert sched.cut_at(-1.0) is None and sched.version == 2
    assert spans(sched.phase_windows())[1] == (1, 120.0, 390.0)
