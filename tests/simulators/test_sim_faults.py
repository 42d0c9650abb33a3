"""Fault injection on a virtual strap: each fault as the monitor will see it in the bytes."""

from __future__ import annotations

import statistics
from dataclasses import replace

import pytest

from hiaim_monitor.hrm import (
    HeartRateMeasurementError,
    SensorContact,
    decode_heart_rate_measurement,
)
from simulators.faults import FaultConfig, FaultKind, ScheduledFault
from simulators.physiology import HeartModel, Response, VirtualParticipant
from simulators.strap import Notification, VirtualStrap


def person(seed: int = 21) -> VirtualParticipant:
    return VirtualParticipant(
        study_code="P9",
        display_name="Lone",
        age_years=70,
        resting_bpm=72.0,
        hrmax_bpm=158.0,
        fitness=0.4,
        response=Response.NORMAL,
        seed=seed,
    )


def strap(faults: FaultConfig, *, target: float = 100.0, seed: int = 0) -> VirtualStrap:
    model = HeartModel(person(), target=target, initial_bpm=target)
    return VirtualStrap(model, faults=faults, seed=seed, index=9)


def decoded(notes: list[Notification]) -> list[tuple[float, object]]:
    return [(n.t_s, decode_heart_rate_measurement(n.data)) for n in notes]


def all_rr_ms(notes: list[Notification]) -> list[float]:
    return [rr for n in notes for rr in decode_heart_rate_measurement(n.data).rr_intervals_ms]


def test_no_faults_by_default() -> None:
    notes = strap(FaultConfig()).notifications_until(1800.0)
    assert len(notes) == pytest.approx(1800, abs=1)
    for _, m in decoded(notes):
        assert m.sensor_contact is SensorContact.DETECTED and not m.malformed
    rr = all_rr_ms(notes)
    median = statistics.median(rr)
    assert all(0.85 * median < x < 1.15 * median for x in rr)  # no artefacts


def test_a_scheduled_dropout_sends_nothing_during_it() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.DROPOUT, 100.0, 12.0))
    notes = strap(faults).notifications_until(200.0)
    times = [n.t_s for n in notes]
    assert not [t for t in times if 100.0 <= t < 112.0]
    assert any(99.0 <= t < 100.0 for t in times) and any(112.0 <= t < 113.1 for t in times)
    # Beats during the drop-out are lost with it: the first packet after it carries only
    # the beats of its own second, not a 12-second backlog.
    first_after = next(n for n in notes if n.t_s >= 112.0)
    assert len(decode_heart_rate_measurement(first_after.data).rr_raw) <= 2


def test_a_dropout_aimed_at_another_strap_leaves_this_one_alone() -> None:
    other = ScheduledFault(FaultKind.DROPOUT, 100.0, 12.0, target="sim:0001")
    mine = ScheduledFault(FaultKind.DROPOUT, 50.0, 5.0, target="P9")
    times = [n.t_s for n in strap(FaultConfig(scheduled=(other, mine))).notifications_until(200)]
    assert any(100.0 <= t < 112.0 for t in times)
    assert not any(50.0 <= t < 55.0 for t in times)


def test_a_stall_silences_the_strap_until_a_new_connection() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.STALL, 100.0))
    virtual = strap(faults)
    before = virtual.notifications_until(100.5)
    silent = virtual.notifications_until(300.0)  # however long: no reconnect, no data
    assert virtual.stalled and not silent
    assert before[-1].t_s < 100.0
    virtual.new_connection()
    after = virtual.notifications_until(320.0)
    assert len(after) == pytest.approx(20, abs=1) and not virtual.stalled
    # The beats of the stall are gone, not sent as a backlog.
    assert max(len(decode_heart_rate_measurement(n.data).rr_intervals_ms) for n in after) <= 3


def test_random_stalls_are_seeded_and_leave_the_other_faults_alone() -> None:
    def stalls(seed: int) -> list[float]:
        virtual = strap(FaultConfig(stalls_per_h=20.0), seed=seed)
        starts, t_s = [], 0.0
        while t_s < 3600.0:
            t_s += 1.0
            virtual.notifications_until(t_s)
            if virtual.stalled:
                starts.append(t_s)
                virtual.new_connection()  # the central reconnects at once
        return starts

    assert stalls(1) == stalls(1) and stalls(1) != stalls(2)
    assert 8 <= len(stalls(1)) <= 40  # about 20 an hour
    base = FaultConfig(ectopic_per_beat=0.01)
    plain = all_rr_ms(strap(base, seed=3).notifications_until(600.0))
    with_stalls = all_rr_ms(strap(replace(base, stalls_per_h=0.0001), seed=3)
                            .notifications_until(600.0))
    assert plain == with_stalls


def test_contact_loss_keeps_notifying_the_last_bpm_flagged_not_detected() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.CONTACT_LOSS, 60.0, 20.0))
    rows = decoded(strap(faults).notifications_until(120.0))
    during = [m for t, m in rows if 60.0 <= t < 80.0]
    before = [m for t, m in rows if t < 60.0]
    assert len(during) == pytest.approx(20, abs=1)
    assert all(m.sensor_contact is SensorContact.NOT_DETECTED for m in during)
    assert all(m.rr_raw == () and m.bpm == before[-1].bpm for m in during)
    assert all(m.sensor_contact is SensorContact.DETECTED for t, m in rows if t >= 81.0)


def test_an_ectopic_beat_is_a_short_rr_then_a_compensatory_long_one() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.ECTOPIC, 30.0))
    s = strap(faults, target=80.0)  # 80 bpm: each packet has at least one beat
    notes = s.notifications_until(60.0)
    clean = all_rr_ms(strap(FaultConfig(), target=80.0).notifications_until(60.0))
    rr = all_rr_ms(notes)
    assert len(rr) == len(clean)
    changed = [i for i, (a, b) in enumerate(zip(rr, clean, strict=True)) if abs(a - b) > 1]
    assert len(changed) == 2 and changed[1] == changed[0] + 1
    short_ms, long_ms = rr[changed[0]], rr[changed[1]]
    median = statistics.median(clean)
    assert short_ms < 0.8 * median and long_ms > 1.2 * median
    # Full compensatory pause: the pair lasts as long as the two beats it replaced.
    i = changed[0]
    assert short_ms + long_ms == pytest.approx(clean[i] + clean[i + 1], abs=2)


def test_a_missed_beat_merges_two_rr_intervals() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.MISSED_BEAT, 30.0))
    rr = all_rr_ms(strap(faults, target=80.0).notifications_until(60.0))
    clean = all_rr_ms(strap(FaultConfig(), target=80.0).notifications_until(60.0))
    assert len(rr) == len(clean) - 1
    assert sum(rr) == pytest.approx(sum(clean), abs=2)
    assert max(rr) > 1.8 * statistics.median(clean)


def test_a_truncated_packet_cannot_be_decoded() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.TRUNCATED, 10.0))
    bad = [n for n in strap(faults).notifications_until(20.0) if len(n.data) <= 1]
    assert len(bad) == 1 and 10.0 <= bad[0].t_s < 10.1
    with pytest.raises(HeartRateMeasurementError):
        decode_heart_rate_measurement(bad[0].data)


def test_an_odd_trailing_byte_decodes_as_malformed_without_inventing_an_rr() -> None:
    faults = FaultConfig().with_scheduled(ScheduledFault(FaultKind.ODD_BYTE, 10.0))
    rows = decoded(strap(faults).notifications_until(20.0))
    clean = decoded(strap(FaultConfig()).notifications_until(20.0))
    malformed = [(i, m) for i, (_, m) in enumerate(rows) if m.malformed]
    assert len(malformed) == 1
    i, m = malformed[0]
    assert m.rr_raw == clean[i][1].rr_raw


def test_random_faults_are_seeded() -> None:
    faults = FaultConfig(
        dropouts_per_h=20.0, malformed_per_notification=0.05, ectopic_per_beat=0.02
    )
    one = [n.data for n in strap(faults, seed=4).notifications_until(900.0)]
    assert one == [n.data for n in strap(faults, seed=4).notifications_until(900.0)]
    assert one != [n.data for n in strap(faults, seed=5).notifications_until(900.0)]


def test_switching_one_fault_on_does_not_move_the_others() -> None:
    drops = FaultConfig(dropouts_per_h=20.0)
    both = FaultConfig(dropouts_per_h=20.0, ectopic_per_beat=0.05)
    times_drops = [n.t_s for n in strap(drops, seed=2).notifications_until(1800.0)]
    times_both = [n.t_s for n in strap(both, seed=2).notifications_until(1800.0)]
    assert times_drops == times_both
    assert len(times_drops) < 1750  # the drop-outs did happen


def test_demo_faults_are_mild_but_present() -> None:
    counts = {"silent_s": 0.0, "no_contact": 0, "malformed": 0, "sent": 0}
    for seed in range(8):  # a class of eight, one hour
        notes = strap(FaultConfig.demo(), seed=seed).notifications_until(3600.0)
        counts["silent_s"] += 3600.0 - len(notes)
        for n in notes:
            counts["sent"] += 1
            try:
                m = decode_heart_rate_measurement(n.data)
            except HeartRateMeasurementError:
                counts["malformed"] += 1
                continue
            counts["malformed"] += m.malformed
            counts["no_contact"] += m.sensor_contact is SensorContact.NOT_DETECTED
    assert counts["silent_s"] + counts["no_contact"] > 0
    assert counts["silent_s"] < 0.1 * 8 * 3600  # most of the class streams most of the time
    assert counts["malformed"] < 0.01 * counts["sent"]


def test_fast_battery_drain_empties_the_strap() -> None:
    s = strap(FaultConfig(battery_start_pct=(50, 50), battery_drain_pct_per_h=3600.0))
    s.notifications_until(100.0)
    assert s.battery_empty and s.battery_pct == 0
