"""The zone engine, driven with hand-made and simulated samples on the simulated clock."""


import gc
import os
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.alarms import NO_VALID_HEART_RATE, AlarmKind
from hiaim_monitor.engine.classify import level_of
from hiaim_monitor.engine.codes import BeatFlag, Level, SampleFlag
from hiaim_monitor.engine.engine import EngineConfig, ZoneEngine
from hiaim_monitor.engine.snapshot import SignalState
from hiaim_monitor.exports.common import flag_names
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import BatteryReading, HeartRateSample, PacketDropped
from hiaim_monitor.schedule import SessionSchedule
from tests.conftest import make_protocol

FOUR_HIGH = make_protocol(name="4 x 2 min", repeat=4, work_s=120, rest_s=60, ramp_allowance_s=30)
HRMAX = 200.0


def person(i=1, **kw):
    return Participant(f"P{i}", f"Name{i}", f"S{i}", measured_hrmax(HRMAX), **kw)


def sample(clock, strap, bpm, *, contact=SensorContact.DETECTED, rr=None):
    rr = (60000.0 / bpm,) if rr is None and bpm > 0 else (rr or ())
    return HeartRateSample(strap, clock.monotonic(), clock.now_utc(), int(bpm), tuple(rr),
                           contact)


def make(protocol=FOUR_HIGH, people=None, **cfg):
    clock = SimulatedClock()
    people = people or [person()]
    engine = ZoneEngine(protocol, people, clock, start_mono_s=0.0, cfg=EngineConfig(**cfg))
    return clock, engine


def run(clock, engine, bpm_at, until_s, strap="S1", step_s=1.0):
    """Feed one sample per second from ``bpm_at(t)``, one tick per sample; the ticks'
    outputs."""
    outputs = []
    while clock.monotonic() < until_s:
        outputs.append(engine.ingest([sample(clock, strap, bpm_at(clock.monotonic()))]))
        clock.advance(step_s)
    return outputs


def four_intervals_missing_the_third(t):
    phase = FOUR_HIGH.phase_at(t)
    if phase is None or phase.phase.kind.value != "high":
        return 120  # 60 % HRmax
    if phase.index == 5:  # the third hard interval: stuck at 80 %
        return 160
    return 180  # 90 %


def test_participant_reaching_target_in_three_of_four_intervals_is_reported_so():
    clock, engine = make()
    run(clock, engine, four_intervals_missing_the_third, FOUR_HIGH.total_s + 5)
    view = engine.snapshot().participants[0]
    assert (view.intervals_achieved, view.intervals_judged) == (3, 4)
    result = engine.summary()[0]
    assert [a["achieved"] for a in result["adherence"]] == [True, True, False, True]
    assert result["intervals_achieved"] == 3 and result["intervals_prescribed"] == 4
    first = result["adherence"][0]
    assert first["peak_pct"] == pytest.approx(90, abs=0.5)
    assert 5 <= first["time_to_target_s"] <= 20  # smoothing plus the 5 s dwell
    high_bouts = [d for d in result["detected_intervals"] if d["kind"] == "high"]
    assert len(high_bouts) == 3


def test_time_in_target_this_phase_counts_up_live():
    clock, engine = make()
    run(clock, engine, lambda t: 180, 60 + 70)
    view = engine.snapshot().participants[0]
    assert view.target is Level.HIGH
    assert 50 <= view.in_target_s <= 70
    assert view.level is Level.HIGH and view.pct_hrmax == 90 and view.bpm == 180


def test_hovering_one_bpm_around_a_threshold_does_not_flicker():
    clock, engine = make()
    edge = HRMAX * 0.85  # 170 bpm
    run(clock, engine, lambda t: 175, 30)
    levels = []
    for k in range(120):
        engine.ingest([sample(clock, "S1", edge + (1 if k % 2 else -1))])
        levels.append(engine.snapshot().participants[0].level)
        clock.advance(1)
    assert set(levels) == {Level.HIGH}


def test_the_shown_number_is_the_smoothed_value_and_never_contradicts_its_class():
    # 68 % → 72 % → 88 % → 101 % → 80 % (HRmax 200), with noise: the class lags the smoothed
    # value at every edge (hysteresis, 5 s dwell), and a view must never say "72 % easy".
    clock, engine = make(protocol=load_protocol("intermediate-high"),
                         people=[person(resting_bpm=60.0)])
    rng = np.random.default_rng(5)
    plan = [(136, 30), (144, 30), (176, 30), (202, 30), (160, 30)]
    th = engine.protocol.thresholds
    lagged = 0
    for target_bpm, seconds in plan:
        for _ in range(seconds):
            engine.ingest([sample(clock, "S1", target_bpm + int(rng.integers(-3, 4)))])
            clock.advance(1)
            view = engine.snapshot().participants[0]
            smoothed_pct = float(engine.samples.latest(0, 1)["pct"][0])
            assert level_of(view.pct_hrmax, th) is view.level, (view.pct_hrmax, view.level)
            # bpm and % are one value: the bpm's own % is the shown % to rounding.
            assert abs(100 * view.bpm / HRMAX - view.pct_hrmax) <= 0.75
            # The smoothed value itself, unless that would contradict the class.
            rounded = round(smoothed_pct)
            assert view.pct_hrmax == rounded or level_of(rounded, th) is not view.level
            lagged += level_of(rounded, th) is not view.level
    assert lagged >= 5  # the class really lagged the value, and the number waited with it
    assert view.level is Level.INTERMEDIATE and view.pct_hrmax == 80


def test_the_shown_bpm_is_smoothed_not_the_raw_sample():
    clock, engine = make()
    run(clock, engine, lambda t: 120, 30)
    engine.ingest([sample(clock, "S1", 130)])  # one step up: smoothing takes it in gradually
    view = engine.snapshot().participants[0]
    assert 120 < view.bpm < 130 and abs(view.pct_hrmax - 100 * view.bpm / HRMAX) <= 0.75


def test_reaching_the_ceiling_says_above_ceiling_before_the_alarm():
    clock, engine = make()
    run(clock, engine, lambda t: 190, 30)
    levels = []
    for _ in range(20):  # 101 %: smoothed, it only creeps up to 101, so no margin above 100
        engine.ingest([sample(clock, "S1", 202)])
        clock.advance(1)
        view = engine.snapshot().participants[0]
        levels.append(view.level)
        if AlarmKind.ABOVE_CEILING in view.alarms:
            assert view.level is Level.ABOVE_CEILING and view.pct_hrmax >= 100
    assert levels[-1] is Level.ABOVE_CEILING
    assert AlarmKind.ABOVE_CEILING in engine.snapshot().participants[0].alarms


def test_strap_silent_5_s_is_stale_and_12_s_lost_with_no_number():
    clock, engine = make()
    run(clock, engine, lambda t: 150, 10)
    clock.advance(4)  # 5 s since the last sample
    stale = engine.snapshot().participants[0]
    assert stale.signal is SignalState.STALE and stale.bpm == 150
    # A stale value keeps the class it was shown with (dimmed on the wall, grey in tables).
    assert stale.age_s == pytest.approx(5) and stale.level is Level.INTERMEDIATE
    clock.advance(7)
    engine.ingest([])
    lost = engine.snapshot().participants[0]
    assert lost.signal is SignalState.LOST
    assert lost.bpm is None and lost.pct_hrmax is None and lost.level is None
    assert AlarmKind.SIGNAL_LOST in lost.alarms
    engine.ingest([sample(clock, "S1", 150)])
    back = engine.snapshot().participants[0]
    assert back.signal is SignalState.LIVE and AlarmKind.SIGNAL_LOST not in back.alarms
    kinds = [(e.kind, e.raised) for e in engine.alarms.history]
    assert kinds == [(AlarmKind.SIGNAL_LOST, True), (AlarmKind.SIGNAL_LOST, False)]


@pytest.mark.parametrize("bad_bpm", [0, 255, 20])
def test_strap_sending_only_implausible_values_goes_stale_then_lost_with_an_alarm(bad_bpm):
    clock, engine = make()
    outputs = run(clock, engine, lambda t: 150, 10)
    outputs += run(clock, engine, lambda t: bad_bpm, 15)  # 5 s of packets nobody can use
    stale = engine.snapshot().participants[0]
    assert stale.signal is SignalState.STALE and stale.bpm == 150
    assert stale.age_s == pytest.approx(6)  # of the last usable value, not the last packet
    assert AlarmKind.SIGNAL_LOST not in stale.alarms
    outputs += run(clock, engine, lambda t: bad_bpm, 30)
    lost = engine.snapshot().participants[0]
    assert lost.signal is SignalState.LOST
    assert lost.bpm is None and lost.pct_hrmax is None and lost.level is None
    assert AlarmKind.SIGNAL_LOST in lost.alarms
    raised = engine.alarms.history[-1]
    assert raised.kind is AlarmKind.SIGNAL_LOST and raised.raised
    assert raised.detail == NO_VALID_HEART_RATE
    assert 19 <= raised.t_s <= 21  # lost 10 s after the last usable value, at 9 s
    # Every packet is kept, flagged.
    kept = engine.samples.latest(0, 20)
    assert kept["bpm"].tolist() == [bad_bpm] * 20
    assert all(f & SampleFlag.IMPLAUSIBLE for f in kept["flags"])
    handed = sum(len(rows.samples["bpm"]) for out in outputs for rows in out.rows)
    assert handed == 30  # for storage too, every one
    run(clock, engine, lambda t: 140, 32)
    back = engine.snapshot().participants[0]
    assert back.signal is SignalState.LIVE and back.bpm == 140
    assert AlarmKind.SIGNAL_LOST not in back.alarms
    kinds = [(e.kind, e.raised) for e in engine.alarms.history]
    assert kinds == [(AlarmKind.SIGNAL_LOST, True), (AlarmKind.SIGNAL_LOST, False)]


def test_a_never_confirmed_jump_among_bad_values_does_not_keep_the_signal_alive():
    clock, engine = make()
    run(clock, engine, lambda t: 100, 10)
    run(clock, engine, lambda t: 200 if t == 12 else 0, 25)  # a spike, then zeros
    data = engine.samples.latest(0, 15)
    assert data["flags"][2] & SampleFlag.UNCONFIRMED_JUMP
    view = engine.snapshot().participants[0]
    assert view.signal is SignalState.LOST and view.bpm is None
    assert AlarmKind.SIGNAL_LOST in view.alarms


def test_after_a_loss_of_usable_values_the_class_starts_afresh():
    clock, engine = make()
    run(clock, engine, lambda t: 180, 40)  # high
    run(clock, engine, lambda t: 0, 60)
    engine.ingest([sample(clock, "S1", 110)])  # 55 %: below, at once, no 5 s dwell on high
    view = engine.snapshot().participants[0]
    assert view.signal is SignalState.LIVE and view.level is Level.BELOW


def test_a_strap_that_never_sent_a_usable_value_goes_lost_10_s_after_its_first_packet():
    clock, engine = make()
    run(clock, engine, lambda t: 0, 5)
    view = engine.snapshot().participants[0]
    assert view.signal is SignalState.STALE and view.bpm is None
    run(clock, engine, lambda t: 0, 12)
    view = engine.snapshot().participants[0]
    assert view.signal is SignalState.LOST and view.bpm is None
    assert AlarmKind.SIGNAL_LOST in view.alarms


def test_a_strap_off_the_skin_says_so_rather_than_signal_lost():
    clock, engine = make()
    run(clock, engine, lambda t: 0, 12)  # lost: nothing usable
    assert AlarmKind.SIGNAL_LOST in engine.snapshot().participants[0].alarms
    for _ in range(6):
        engine.ingest([sample(clock, "S1", 0, contact=SensorContact.NOT_DETECTED, rr=())])
        clock.advance(1)
    view = engine.snapshot().participants[0]
    assert view.signal is SignalState.NO_CONTACT
    assert view.alarms == (AlarmKind.NO_CONTACT,)


def test_a_flickering_contact_bit_with_bad_values_raises_signal_lost_once():
    clock, engine = make()
    run(clock, engine, lambda t: 150, 10)
    for k in range(40):
        contact = SensorContact.NOT_DETECTED if k % 2 else SensorContact.DETECTED
        engine.ingest([sample(clock, "S1", 0, contact=contact, rr=())])
        view = engine.snapshot().participants[0]
        assert view.bpm is None or k < 10  # the old number goes with the signal
        clock.advance(1)
    assert view.signal in (SignalState.LOST, SignalState.NO_CONTACT)
    assert [(e.kind, e.raised) for e in engine.alarms.history] == [
        (AlarmKind.SIGNAL_LOST, True)]


def test_no_contact_shows_check_strap_and_raises_an_alarm_after_5_s():
    clock, engine = make()
    run(clock, engine, lambda t: 150, 10)
    for _ in range(7):
        engine.ingest([sample(clock, "S1", 150, contact=SensorContact.NOT_DETECTED, rr=())])
        clock.advance(1)
    view = engine.snapshot().participants[0]
    assert view.signal is SignalState.NO_CONTACT and view.bpm is None
    assert AlarmKind.NO_CONTACT in view.alarms
    flags = engine.samples.latest(0, 7)["flags"]
    assert all(f & SampleFlag.NO_CONTACT for f in flags)
    assert (engine.samples.latest(0, 7)["level"] == Level.UNKNOWN).all()


def test_ceiling_alarm_needs_10_s_above_and_clears_below():
    clock, engine = make()
    run(clock, engine, lambda t: 180, 20)
    run(clock, engine, lambda t: 205, 28)  # 102.5 %, 8 s: not yet
    assert AlarmKind.ABOVE_CEILING not in engine.snapshot().participants[0].alarms
    run(clock, engine, lambda t: 205, 40)
    assert AlarmKind.ABOVE_CEILING in engine.snapshot().participants[0].alarms
    run(clock, engine, lambda t: 180, 60)
    assert AlarmKind.ABOVE_CEILING not in engine.snapshot().participants[0].alarms


def test_personal_ceiling_is_used_for_the_alarm():
    clock, engine = make(people=[person(ceiling_pct=88.0)])
    run(clock, engine, lambda t: 182, 30)  # 91 %: over the personal 88 %
    assert AlarmKind.ABOVE_CEILING in engine.snapshot().participants[0].alarms


def test_battery_low_is_raised_below_15_and_cleared_by_a_fresh_battery():
    _, engine = make()
    engine.ingest([BatteryReading("S1", 0.0, 12)])
    assert engine.snapshot().participants[0].alarms == (AlarmKind.BATTERY_LOW,)
    engine.ingest([BatteryReading("S1", 1.0, 100)])
    assert engine.snapshot().participants[0].alarms == ()


def test_implausible_and_unconfirmed_jumps_are_flagged_kept_and_not_classified():
    clock, engine = make()
    run(clock, engine, lambda t: 120, 20)
    for bpm in (250, 121, 200, 120, 122):
        engine.ingest([sample(clock, "S1", bpm)])
        clock.advance(1)
    data = engine.samples.latest(0, 5)
    assert data["bpm"].tolist() == [250, 121, 200, 120, 122]  # kept
    assert data["flags"][0] & SampleFlag.IMPLAUSIBLE
    assert data["flags"][2] & SampleFlag.UNCONFIRMED_JUMP
    assert data["level"][0] == Level.UNKNOWN and data["level"][2] == Level.UNKNOWN
    assert not data["flags"][1] and not data["flags"][3]


def test_confirmed_jump_is_trusted_after_all():
    clock, engine = make()
    run(clock, engine, lambda t: 120, 20)
    for bpm in (160, 161, 162, 161):
        engine.ingest([sample(clock, "S1", bpm)])
        clock.advance(1)
    flags = engine.samples.latest(0, 4)["flags"]
    assert not (flags & SampleFlag.UNCONFIRMED_JUMP).any()


def test_injected_ectopic_beats_are_flagged_at_their_indices():
    clock, engine = make()
    rr = [800.0] * 40
    rr[10], rr[11] = 560.0, 1040.0  # premature beat and its compensatory pause
    rr[25], rr[26] = 540.0, 1060.0
    for k in range(0, 40, 2):  # two beats a notification
        engine.ingest([sample(clock, "S1", 75, rr=tuple(rr[k:k + 2]))])
        clock.advance(1.6)
    flags = engine.beats.latest(0)["flags"]
    assert np.flatnonzero(flags).tolist() == [10, 11, 25, 26]
    assert all(flags[i] & BeatFlag.SUCCESSIVE_DIFF for i in (10, 11, 25, 26))


def test_beat_times_are_rebuilt_from_rr_not_arrival():
    clock, engine = make()
    engine.ingest([sample(clock, "S1", 75, rr=(800.0, 800.0))])
    clock.advance(2.3)  # late arrival: beat times must not follow it
    engine.ingest([sample(clock, "S1", 75, rr=(800.0, 800.0))])
    t = engine.beats.latest(0)["t_s"]
    assert np.diff(t) == pytest.approx([0.8, 0.8, 0.8], abs=1e-4)


def test_malformed_packets_and_unknown_straps_are_counted_not_fatal():
    clock, engine = make()
    engine.ingest([PacketDropped("S1", 0.0, "short", b"\x10"), sample(clock, "S9", 100)])
    assert engine.unknown_events == 1
    assert engine.summary()[0]["packets_dropped"] == 1


def test_heart_rate_reserve_option_classifies_on_reserve():
    people = [person(resting_bpm=60.0)]
    clock, engine = make(people=people, heart_rate_reserve=True)
    run(clock, engine, lambda t: 172, 20)  # (172-60)/(200-60) = 80 % HRR; 86 % HRmax
    view = engine.snapshot().participants[0]
    assert view.pct_hrmax == pytest.approx(80, abs=0.5)
    assert view.level is Level.INTERMEDIATE


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_memory_does_not_grow_over_a_3_hour_session_of_40_participants():
    people = [person(i) for i in range(40)]
    clock = SimulatedClock()
    engine = ZoneEngine(load_protocol("intermediate-high"), people, clock, start_mono_s=0.0)
    rng = np.random.default_rng(1)
    wall = clock.now_utc()

    def ten_minutes():
        # Ticks of 10 s keep the test quick; ingest and snapshot are what they are.
        for _ in range(60):
            bpm = rng.normal(140, 10, size=(10, 40)).clip(60, 200).round()
            t0 = clock.monotonic()
            batch = [HeartRateSample(f"S{i}", t0 + k, wall, int(bpm[k, i]),
                                     (60000 / bpm[k, i],) * 2, SensorContact.DETECTED)
                     for k in range(10) for i in range(40)]
            clock.advance(10)
            engine.ingest(batch)
            engine.snapshot()

    ten_minutes()  # warm up: allocator arenas, caches, lazily made objects
    gc.collect()
    before = resident_bytes()
    for _ in range(17):
        ten_minutes()
    gc.collect()
    grown = resident_bytes() - before
    # 408,000 samples and 816,000 beats went in: a leak of even 16 bytes each would show.
    assert grown < 4 * 1024 * 1024, f"resident memory grew by {grown / 1e6:.1f} MB"
    assert engine.samples.written.tolist() == [180 * 60] * 40
    assert engine.samples.nbytes + engine.beats.nbytes < 40 * 2.1e6  # fixed, ~2 MB each


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(12))))
def test_any_sample_order_within_a_tick_gives_the_same_classes(order):
    def classes(perm):
        clock, engine = make(people=[person(1), person(2)])
        batch = []
        for k in range(12):
            strap = "S1" if k % 2 else "S2"
            t = float(k // 2)
            bpm = 150 + 10 * (k % 3)
            batch.append(HeartRateSample(strap, t, clock.now_utc(), bpm, (60000 / bpm,),
                                         SensorContact.DETECTED))
        clock.advance(6)
        engine.ingest([batch[i] for i in perm])
        return [engine.samples.latest(r)["level"].tolist() for r in (0, 1)]

    assert classes(order) == classes(list(range(12)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["S1", "S2", "S?"]),
    st.floats(-100, 1e5, allow_nan=False),
    st.integers(0, 65535),
    st.lists(st.floats(0, 70000, allow_nan=False), max_size=9),
    st.sampled_from(list(SensorContact)),
), max_size=30))
def test_no_input_crashes_ingest(events):
    clock, engine = make(people=[person(1), person(2)])
    batch = [HeartRateSample(s, t, clock.now_utc(), b, tuple(rr), c)
             for s, t, b, rr, c in events]
    engine.ingest(batch)
    clock.advance(100)
    engine.ingest([])
    engine.snapshot()
    engine.summary()


# -- operator actions: phases judged on the windows they really ran -------------------------
def high_between(t0, t1):
    return lambda t: 180 if t0 <= t < t1 else 120  # 90 % inside, 60 % outside


def test_a_skipped_high_phase_is_judged_on_the_time_it_ran():
    # Hard 1 is 60–180 s; the participant works only until 120 s, so the full phase is a miss.
    clock, engine = make()
    run(clock, engine, high_between(60, 120), 120)
    engine.schedule.skip(120.0)
    run(clock, engine, high_between(60, 120), 200)
    first = engine.summary()[0]["adherence"][0]
    assert (first["start_s"], first["end_s"]) == (60.0, 120.0)
    assert first["achieved"] and first["fraction_in_target_after_ramp"] > 0.9
    assert engine.snapshot().participants[0].intervals_achieved == 1

    clock, plain = make()
    run(clock, plain, high_between(60, 120), 200)
    assert not plain.summary()[0]["adherence"][0]["achieved"]


def test_an_extended_high_phase_is_judged_on_its_longer_window():
    # The participant reaches target only at 130 s: too late for 60–180, in time for 60–240.
    clock, engine = make()
    run(clock, engine, high_between(130, 240), 100)
    engine.schedule.extend(100.0, by_s=60)
    run(clock, engine, high_between(130, 240), 250)
    view = engine.snapshot().participants[0]
    first = engine.summary()[0]["adherence"][0]
    assert (first["start_s"], first["end_s"]) == (60.0, 240.0)
    assert first["achieved"] and (view.intervals_achieved, view.intervals_judged) == (1, 1)
    assert engine.snapshot().position.phase.name == "Easy 1/4"

    clock, plain = make()
    run(clock, plain, high_between(130, 240), 250)
    assert not plain.summary()[0]["adherence"][0]["achieved"]


def test_pause_time_is_left_out_of_judging_and_live_time_in_target():
    def bpm_at(t):
        return 120 if t < 60 or 100 <= t < 130 or t >= 210 else 180  # rests in the pause

    clock, engine = make()
    run(clock, engine, bpm_at, 100)
    engine.schedule.pause(100.0)
    run(clock, engine, bpm_at, 110)
    during = engine.snapshot()
    run(clock, engine, bpm_at, 125)
    assert engine.snapshot().participants[0].in_target_s == pytest.approx(
        during.participants[0].in_target_s, abs=2.5)
    assert engine.snapshot().position.remaining_s == during.position.remaining_s == 80
    engine.schedule.resume(130.0)
    run(clock, engine, bpm_at, 220)
    first = engine.summary()[0]["adherence"][0]
    assert (first["start_s"], first["end_s"]) == (60.0, 210.0)
    # 90 s judged after the ramp, about 10 s of them climbing back after the pause.
    assert first["fraction_in_target_after_ramp"] > 0.8 and first["achieved"]
    assert first["seconds_in_target"] + first["seconds_below_target"] <= 120 + 1e-6


def test_stop_ends_the_session_judges_the_running_phase_and_ends_the_summary():
    clock, engine = make()
    run(clock, engine, lambda t: 180, 150)
    engine.schedule.stop(150.0)
    assert engine.snapshot().finished and engine.snapshot().position is None
    run(clock, engine, lambda t: 180, 160)
    result = engine.summary()[0]
    assert result["duration_s"] == 150
    assert [(a["start_s"], a["end_s"]) for a in result["adherence"]] == [(60.0, 150.0)]


def test_extensions_lengthen_the_session_and_a_cap_still_cuts_it():
    clock, engine = make()
    engine.schedule.extend(10.0)
    assert engine.duration_s == FOUR_HIGH.total_s + 60
    clock.advance(FOUR_HIGH.total_s + 30)
    assert not engine.snapshot().finished
    capped = ZoneEngine(FOUR_HIGH, [person()], clock, start_mono_s=0.0, duration_s=100)
    capped.schedule.extend(10.0)
    assert capped.duration_s == 100 and capped.snapshot().finished


def test_a_schedule_for_another_protocol_is_refused():
    with pytest.raises(ValueError, match="another protocol"):
        ZoneEngine(FOUR_HIGH, [person()], SimulatedClock(), start_mono_s=0.0,
                   schedule=SessionSchedule(load_protocol("intermediate-high")))


def test_a_high_phase_stopped_68_s_in_is_not_judged_in_the_summary_or_on_the_tiles():
    # HI AIM's first high phase runs 840–1020 s; the session stops 68 s into it with the
    # participant in target for its last 20 s or so: too little of the phase to judge.
    protocol = load_protocol("intermediate-high")
    clock, engine = make(protocol)
    run(clock, engine, lambda t: 180 if t >= 880 else 120, 908)
    engine.schedule.stop(908.0)
    run(clock, engine, lambda t: 180, 912)
    engine.judge_ended_now()
    high = engine.summary()[0]["adherence"][-1]
    assert (high["phase_name"], high["planned_s"], high["ran_s"]) == ("High 1/4", 180.0, 68.0)
    assert high["fraction_in_target_after_ramp"] == 1.0
    assert (high["achieved"], high["outcome"]) == (None, "not judged")
    view = engine.snapshot().participants[0]
    assert (view.intervals_achieved, view.intervals_judged) == (0, 1)  # the intermediate


def test_a_session_capped_by_duration_judges_the_phase_it_cut_like_a_stop():
    # --duration 1000 ends HI AIM 160 s into its first 180 s high phase: enough to judge.
    protocol = load_protocol("intermediate-high")
    clock = SimulatedClock()
    engine = ZoneEngine(protocol, [person()], clock, start_mono_s=0.0, duration_s=1000.0)
    run(clock, engine, lambda t: 180 if t >= 850 else 120, 1003)
    high = engine.summary()[0]["adherence"][-1]
    assert (high["phase_name"], high["start_s"], high["end_s"]) == ("High 1/4", 840.0, 1000.0)
    assert (high["ran_s"], high["outcome"]) == (160.0, "achieved")
    assert engine.snapshot().participants[0].intervals_judged == 2


def test_ingest_hands_out_each_sample_once_with_its_arrival_contact_and_energy():
    clock, engine = make()
    stamped = clock.now_utc() + timedelta(seconds=2, microseconds=123_457)  # the driver's
    first = engine.ingest([
        HeartRateSample("S1", 0.0, stamped, 120, (500.0,), SensorContact.NOT_SUPPORTED, 731),
        HeartRateSample("S1", 0.9, stamped + timedelta(seconds=1), 121, (), SensorContact.DETECTED),
        BatteryReading("S1", 0.5, 80)])
    (rows,) = first.rows
    assert rows.study_code == "P1"
    assert [(s.wall_utc, s.bpm, s.contact, s.energy_kj) for s in rows.sample_rows()] == [
        (stamped, 120, SensorContact.NOT_SUPPORTED, 731),
        (stamped + timedelta(seconds=1), 121, SensorContact.DETECTED, None)]
    assert [b.rr_ms for b in rows.beat_rows()] == [500.0]
    assert [(r.study_code, r.report.level_pct) for r in first.strap_reports] == [("P1", 80)]
    assert first.phase_change is not None and first.phase_change.index == 0
    assert not rows.samples["bpm"].flags.writeable  # the output never changes
    clock.advance(1)
    second = engine.ingest([])
    assert second.rows == () and second.phase_change is None  # nothing twice


def test_a_confirmed_jump_corrects_samples_handed_out_in_earlier_ticks():
    clock, engine = make()
    run(clock, engine, lambda t: 120, 10)
    outputs = run(clock, engine, lambda t: 160 + t % 2, 14)
    first_jump = next(s for s in outputs[0].rows[0].sample_rows())
    assert first_jump.flags & SampleFlag.UNCONFIRMED_JUMP
    corrections = [c for out in outputs for rows in out.rows for c in rows.corrections]
    assert first_jump.t_s in [c.t_s for c in corrections]
    assert all(not c.flags & SampleFlag.UNCONFIRMED_JUMP for c in corrections)


def test_conclude_hands_out_what_is_left_and_says_the_session_is_over():
    protocol = load_protocol("intermediate-high")
    clock, engine = make(protocol)
    run(clock, engine, lambda t: 150, 908)  # into High 1/4 (840–1020 s)
    engine.schedule.stop(908.0)
    rest = engine.conclude()
    assert [(pid, a.phase_name, a.judged) for pid, a in rest.adherence] == [
        ("P1", "High 1/4", False)]
    assert rest.phase_change is not None and rest.phase_change.index is None
    assert [e.action.value for e in rest.operator] == ["stop"]


BLE_ID, ANT_ID = "ble:AA:BB:CC:DD:EE:01", "ant:12345"


def dual_mode():
    return Participant("P1", "Name1", BLE_ID, measured_hrmax(HRMAX), other_strap_ids=(ANT_ID,))


def test_a_dual_mode_strap_heard_on_two_radios_is_one_participant_counted_once():
    """The same heart heard over BLE and ANT+ at once is one tile and one row of samples:
    the beats are stored once, by the radio that came first, and the view names it."""
    clock, engine = make(people=[dual_mode()])
    rows = []
    for i in range(20):
        both = [sample(clock, BLE_ID, 120 + i), sample(clock, ANT_ID, 120 + i)]
        rows += engine.ingest(both).rows
        clock.advance(1.0)
    assert engine.unknown_events == 0
    assert {r.study_code for r in rows} == {"P1"}
    assert sum(len(r.samples["t_s"]) for r in rows) == 20
    assert sum(len(r.beats["t_s"]) for r in rows) == 20
    (view,) = engine.snapshot().participants
    assert view.bpm is not None and view.signal is SignalState.LIVE
    assert view.via_strap_id == BLE_ID
    assert engine.people[0].duplicates == 20


def test_a_dual_mode_strap_moves_to_the_other_radio_when_the_first_goes_silent():
    clock, engine = make(people=[dual_mode()])
    kept = []
    for i in range(30):
        batch = [sample(clock, ANT_ID, 130)]
        if i < 10:  # the BLE link drops after ten seconds; ANT+ goes on
            batch.insert(0, sample(clock, BLE_ID, 130))
        kept += [len(r.samples["t_s"]) for r in engine.ingest(batch).rows]
        clock.advance(1.0)
    # Ten by BLE, then ANT+ once BLE has been silent for the switch time, and nothing twice.
    gap = int(EngineConfig().radio_switch_after_s)
    assert sum(kept) == 30 - gap + 1
    (view,) = engine.snapshot().participants
    assert view.via_strap_id == ANT_ID and view.signal is SignalState.LIVE


def test_the_status_shown_is_the_status_of_the_radio_in_use():
    from hiaim_monitor.samples import StrapState, StrapStatus

    clock, engine = make(people=[dual_mode()])
    t = clock.monotonic()
    engine.ingest([StrapStatus(BLE_ID, t, StrapState.STREAMING), sample(clock, BLE_ID, 120)])
    # ANT+ is heard but its samples are not taken: its status does not cover BLE's.
    engine.ingest([StrapStatus(ANT_ID, t, StrapState.CONNECTING)])
    assert engine.snapshot().participants[0].strap_state is StrapState.STREAMING


def test_two_participants_cannot_share_an_id_through_a_second_radio():
    a = Participant("P1", "A", "ble:AA:BB:CC:DD:EE:01", measured_hrmax(HRMAX),
                    other_strap_ids=("ant:1",))
    b = Participant("P2", "B", "ant:1", measured_hrmax(HRMAX))
    with pytest.raises(ValueError, match="share one strap"):
        make(people=[a, b])


def broadcast_sample(clock, strap, bpm):
    """A heart rate heard in a Polar strap's advertisement: no RR."""
    return HeartRateSample(strap, clock.monotonic(), clock.now_utc(), bpm, (),
                           SensorContact.DETECTED, broadcast=True)


def test_broadcast_samples_are_flagged_stored_without_beats_and_the_view_says_no_rr():
    clock, engine = make()
    outputs = []
    for _ in range(10):
        outputs.append(engine.ingest([broadcast_sample(clock, "S1", 150)]))
        clock.advance(1.0)
    view = engine.snapshot().participants[0]
    assert view.no_rr and view.bpm == 150  # shown live, with the mark
    flags = engine.samples.latest(0, 10)["flags"]
    assert all(int(f) & SampleFlag.BROADCAST for f in flags)
    assert engine.beats.written[0] == 0
    stored = [rows for out in outputs for rows in out.rows]
    assert stored and all(len(rows.beats["t_s"]) == 0 for rows in stored)
    assert all(int(f) & SampleFlag.BROADCAST for rows in stored for f in rows.samples["flags"])
    # A heart rate only is still trusted: it is classified like any other.
    assert view.level is not None and view.level is not Level.UNKNOWN

    # The strap moves to a connection: RR come, the mark goes.
    engine.ingest([sample(clock, "S1", 150, rr=(400.0,))])
    view = engine.snapshot().participants[0]
    assert not view.no_rr
    assert not int(engine.samples.latest(0, 1)["flags"][0]) & SampleFlag.BROADCAST
    assert engine.beats.written[0] == 1


def test_exports_name_the_broadcast_flag():
    assert flag_names(int(SampleFlag.BROADCAST | SampleFlag.MALFORMED),
                      SampleFlag) == "malformed|broadcast"
