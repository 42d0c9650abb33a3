"""Tunables, each with its unit. One place, so a reader finds every knob."""

from __future__ import annotations

from typing import Final

STALE_AFTER_S: Final = 3.0  # no sample for longer: the value is old, show it dimmed
LOST_AFTER_S: Final = 10.0  # no sample for longer: "signal lost", no number at all
MAX_CREDIT_GAP_S: Final = 2.0  # a sample stands for at most this long in time-in-class sums
TRACE_WINDOW_S: Final = 180.0  # recent heart-rate trace kept in a snapshot

TICK_INTERVAL_S: Final = 0.1  # consumer drains the sensor queue this often (real seconds)
HEADLESS_REDRAW_HZ: Final = 4.0  # terminal table refreshes per real second
NON_TTY_PRINT_EVERY_S: Final = 60.0  # session seconds between tables when output is a file

SIM_DEFAULT_SEED: Final = 1
SIM_MAX_PARTICIPANTS: Final = 40
