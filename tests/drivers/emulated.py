"""Settings the tests against emulated straps share: strap time runs fast and every BLE
step is short, so a whole reconnect cycle fits in a fraction of a real second."""

from collections.abc import Sequence

from drivers.ble_link import BleTiming
from hiaim_monitor.hrm import decode_heart_rate_measurement
from hiaim_monitor.samples import HeartRateSample

CLOCK_SPEED = 20  # strap time runs 20x: one notification per strap every 50 ms real
WAIT_S = 5.0  # real seconds; every wait normally ends well within one
# Timeouts are real seconds; backoff, lost_after_s and silent_after_s are strap-clock seconds
# (÷ 20 real).
FAST = BleTiming(
    connect_timeout_s=2.0,
    gatt_timeout_s=2.0,
    find_timeout_s=0.5,
    disconnect_timeout_s=1.0,
    scan_control_timeout_s=2.0,
    link_check_interval_s=0.5,
    stop_timeout_s=3.0,
    backoff_initial_s=0.5,
    backoff_max_s=2.0,
    lost_after_s=10.0,
    stable_after_s=2.0,
    # Twice the real default: a busy test machine may stall the loop a few hundred ms.
    silent_after_s=10.0,
    silent_min_real_s=0.2,
)


def assert_samples_are_the_notifications(samples: Sequence[HeartRateSample],
                                         sent: Sequence[bytes]) -> None:
    """Everything a strap sent reached the sink, decoded and in order, but for what was in
    flight when notifications stopped."""
    assert len(samples) >= len(sent) - 2
    for sample, raw in zip(samples, sent, strict=False):
        m = decode_heart_rate_measurement(raw)
        assert (sample.bpm, sample.rr_ms, sample.contact, sample.energy_kj) == (
            m.bpm, m.rr_intervals_ms, m.sensor_contact, m.energy_expended_kj)
