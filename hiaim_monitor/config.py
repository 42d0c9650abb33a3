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
# The fastest --speed a simulation keeps up with on 2 cores (BENCHMARKS.md, "Simulation
# speed"): above it samples pile up behind the session and it is stored degraded. The
# load is straps × speed notifications per real second, up to a ceiling for small classes.
SIM_MAX_NOTIFICATIONS_PER_S: Final = 1200.0  # straps × speed
SIM_MAX_SPEED: Final = 300.0  # whatever the class size

# Zone engine
SMOOTHING_TAU_S: Final = 3.0  # exponential smoothing of heart rate before classification
HYSTERESIS_PCT: Final = 1.0  # % HRmax a value must clear a class edge by to change class
MIN_DWELL_S: Final = 5.0  # a new class must hold this long before it is taken
CEILING_HOLD_S: Final = 10.0  # above the safety ceiling this long raises the alarm
NO_CONTACT_ALARM_AFTER_S: Final = 5.0  # skin contact missing this long raises the alarm
BATTERY_LOW_PCT: Final = 15  # below this the battery-low alarm is raised
BATTERY_CLEAR_PCT: Final = 20  # at or above this it clears (a fresh strap or battery)
RING_CAPACITY_SAMPLES: Final = 3 * 3600 * 4  # 3 h at 4 samples/s, per participant
BEAT_REANCHOR_S: Final = 2.0  # rebuilt beat times this far from arrival are re-anchored
PHASE_JUDGE_GRACE_S: Final = 2.0  # wait for in-flight samples before judging a phase
# A connected strap that has notified nothing this long (session seconds; straps notify about
# once a second) is treated as a drop-out: disconnected and reconnected.
SILENT_LINK_AFTER_S: Final = 5.0
SIM_STRAPS_PER_ADAPTER: Final = 7  # --simulate-ble spreads straps like a real class would

# Storage: a crash (SIGKILL, power cut of the app) loses at most about a second. A sample
# waits at most one tick for the consumer and one flush interval for the writer.
WRITER_FLUSH_INTERVAL_S: Final = 0.5  # the writer commits this often (real seconds)
WRITER_RETRY_MAX_S: Final = 1.0  # longest wait between retries while the database fails
HEARTBEAT_EVERY_S: Final = 5.0  # an idle writer still stamps its session this often
HEARTBEAT_STALE_AFTER_S: Final = 30.0  # no heartbeat for longer: nobody is recording it
FINISH_WAIT_S: Final = 10.0  # the terminal waits this long for the database at the end
WINDOW_FINISH_WAIT_S: Final = 0.3  # the window waits no longer; the writer goes on trying
EXIT_WAIT_S: Final = 3.0  # closing the window waits this long, then spills to a file
