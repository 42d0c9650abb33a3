"""The virtual strap: real 0x2A37 bytes, about once a second, every beat delivered."""

from __future__ import annotations

import itertools
import statistics

import pytest

from hiaim_monitor.hrm import (
    MAX_NOTIFICATION_BYTES,
    RR_UNITS_PER_S,
    SensorContact,
    decode_heart_rate_measurement,
)
from simulators.faults import FaultConfig
from simulators.physiology import HeartModel, Response, VirtualParticipant
from simulators.strap import VirtualStrap, strap_id_for, strap_name_for


def person(**overrides: object) -> VirtualParticipant:
    fields: dict[str, object] = dict(
        study_code="P1",
        display_name="Ole",
        age_years=60,
        resting_bpm=65.0,
        hrmax_bpm=166.0,
        fitness=0.5,
        response=Response.NORMAL,
        seed=11,
    )
    fields.update(overrides)
    return VirtualParticipant(**fields)  # type: ignore[arg-type]


def strap(target: float = 120.0, *, start_t_s: float = 0.0, **kwargs: object) -> VirtualStrap:
    model = HeartModel(person(), start_t_s=start_t_s, target=target, initial_bpm=target)
    return VirtualStrap(model, **kwargs)  # type: ignore[arg-type]


def test_same_seed_gives_identical_notification_bytes() -> None:
    def run(seed: int) -> list[tuple[float, bytes, int | None]]:
        s = strap(faults=FaultConfig.demo(), seed=seed)
        return [(n.t_s, n.data, n.battery_pct) for n in s.notifications_until(900.0)]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_notifications_come_about_once_a_second_and_fit_one_packet() -> None:
    notes = strap(start_t_s=50.0).notifications_until(650.0)
    gaps = [b.t_s - a.t_s for a, b in itertools.pairwise(notes)]
    assert len(notes) == pytest.approx(600, abs=1)
    assert statistics.fmean(gaps) == pytest.approx(1.0, abs=0.01)
    assert all(0.9 <= g <= 1.1 for g in gaps)
    assert all(len(n.data) <= MAX_NOTIFICATION_BYTES for n in notes)


def test_each_notification_carries_the_beats_completed_since_the_last() -> None:
    s = strap(target=95.0)
    twin = HeartModel(person(), target=95.0, initial_bpm=95.0)  # the same heart, unobserved
    last_t = 0.0
    for note in s.notifications_until(300.0):
        m = decode_heart_rate_measurement(note.data)
        expected_ms = twin.beats_until(note.t_s)
        assert len(m.rr_raw) == len(expected_ms), note.t_s
        assert m.rr_intervals_ms == pytest.approx(expected_ms, abs=1000 / RR_UNITS_PER_S)
        last_t = note.t_s
    assert last_t > 299.0


def test_beat_times_rebuilt_from_rr_stay_on_the_model_clock() -> None:
    s = strap(target=150.0, start_t_s=10.0)
    notes = s.notifications_until(1810.0)
    raw_total = sum(sum(decode_heart_rate_measurement(n.data).rr_raw) for n in notes)
    rebuilt_last_beat_s = 10.0 + raw_total / RR_UNITS_PER_S
    # Rounding to 1/1024 s never accumulates over half an hour of beats.
    assert rebuilt_last_beat_s == pytest.approx(s.model.t_s, abs=1 / RR_UNITS_PER_S)


def test_bpm_is_the_rounded_heart_rate_of_the_last_beats() -> None:
    s = strap(target=130.0)
    recent: list[float] = []
    for note in s.notifications_until(120.0):
        m = decode_heart_rate_measurement(note.data)
        recent = (recent + list(m.rr_intervals_ms))[-4:]
        assert m.bpm == pytest.approx(60_000 / statistics.fmean(recent), abs=1)
        assert m.sensor_contact is SensorContact.DETECTED


@pytest.mark.parametrize(("period_s", "jitter_s"), [(1.0, 0.5), (2.5, 0.5)])
def test_rr_values_that_do_not_fit_are_carried_over_never_lost(
    period_s: float, jitter_s: float
) -> None:
    model = HeartModel(person(hrmax_bpm=210.0), target=200.0, initial_bpm=200.0)
    s = VirtualStrap(model, period_s=period_s, jitter_s=jitter_s, seed=3)
    notes = s.notifications_until(600.0)
    counts = [len(decode_heart_rate_measurement(n.data).rr_raw) for n in notes]
    assert all(len(n.data) <= MAX_NOTIFICATION_BYTES for n in notes)
    assert max(counts) <= 9
    assert sum(counts) + s.pending_rr_count == model.beat_count
    if period_s > 2:
        assert max(counts) == 9  # full packets did happen, so carrying over was tested


def test_battery_drains_and_is_reported_when_it_changes() -> None:
    s = strap(faults=FaultConfig(battery_drain_pct_per_h=360.0))  # 1 % every 10 s
    assert s.battery_pct == 100
    notes = s.notifications_until(100.5)
    levels = [n.battery_pct for n in notes if n.battery_pct is not None]
    assert levels == sorted(levels, reverse=True)
    assert levels[-1] == s.battery_pct == 90
    assert len(levels) == 10  # one report per step, none in between


def test_a_strap_with_an_empty_battery_goes_silent() -> None:
    s = strap(faults=FaultConfig(battery_start_pct=(2, 2), battery_drain_pct_per_h=3600.0))
    notes = s.notifications_until(20.0)
    assert notes[-1].t_s < 2.1
    assert s.battery_empty


def test_strap_ids_say_the_strap_is_simulated() -> None:
    assert strap_id_for(1) == "sim:0001"
    assert strap_id_for(300) == "sim:0300"
    assert strap_name_for(7) == "Sim HR 0007"
    s = strap(index=12)
    assert (s.strap_id, s.name) == ("sim:0012", "Sim HR 0012")


def test_jitter_must_stay_below_the_period() -> None:
    with pytest.raises(ValueError, match="jitter"):
        strap(period_s=1.0, jitter_s=1.0)
