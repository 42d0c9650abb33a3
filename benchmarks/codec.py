"""Cost of the notification path: decode one 0x2A37 value, and decode + timestamp into a
HeartRateSample (what a BLE callback does). Prints per-call time and calls per second.

    .venv/bin/python benchmarks/codec.py
"""

from __future__ import annotations

import platform
import statistics
import timeit

from hiaim_monitor.clock import RealClock
from hiaim_monitor.hrm import decode_heart_rate_measurement, encode_heart_rate_measurement
from hiaim_monitor.samples import sample_from_notification

CASES = {
    "uint8 bpm, no RR": encode_heart_rate_measurement(72),
    "uint8 bpm, 2 RR": encode_heart_rate_measurement(150, rr_raw=[410, 412]),
    "uint16 bpm + energy, 7 RR": encode_heart_rate_measurement(
        190, energy_expended_kj=300, rr_raw=[330] * 7, force_uint16=True),
}


def per_call_us(stmt, number: int = 20000, repeat: int = 7) -> float:
    times = timeit.repeat(stmt, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main() -> None:
    clock = RealClock()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"{'payload':28} {'decode µs':>10} {'sample µs':>10} {'samples/s':>11}")
    for name, data in CASES.items():
        dec = per_call_us(lambda d=data: decode_heart_rate_measurement(d))
        smp = per_call_us(lambda d=data: sample_from_notification("S1", d, clock))
        print(f"{name:28} {dec:10.2f} {smp:10.2f} {1e6 / smp:11,.0f}")


if __name__ == "__main__":
    main()
