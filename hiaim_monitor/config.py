"""Tunables, each with its unit. One place, so a reader finds every knob.

A tunable is a choice someone could make differently (a time, a count, a threshold, a
rate); facts of a specification (GATT UUIDs, the heart-rate codec's units, column names)
stay with the code that follows them.
"""

from __future__ import annotations

from typing import Final

# The app's own folders (platformdirs' user data directory of this name) hold the SQLite
# store, spill files and the user's own protocols.
APP_NAME: Final = "hiaim-monitor"

STALE_AFTER_S: Final = 3.0  # no sample for longer: the value is old, show it dimmed
LOST_AFTER_S: Final = 10.0  # no sample for longer: "signal lost", no number at all
# A dual-mode strap heard on two radios (BLE and ANT+) is one participant's data by one radio
# at a time: the other radio's samples are taken only once the first has been silent this
# long (a strap notifies about once a second, ANT+ pages come four times a second).
RADIO_SWITCH_AFTER_S: Final = STALE_AFTER_S
# A sample stands for at most this long in time-in-class sums, adherence and detected
# bouts; straps notify about once a second.
MAX_CREDIT_GAP_S: Final = 2.0
TRACE_WINDOW_S: Final = 180.0  # recent heart-rate trace kept in a snapshot
TRACE_MAX_RATE_HZ: Final = 4  # samples a second a trace holds at most (straps send ~1/s)

TICK_INTERVAL_S: Final = 0.1  # consumer drains the sensor queue this often (real seconds)
HEADLESS_REDRAW_HZ: Final = 4.0  # terminal table refreshes per real second
NON_TTY_PRINT_EVERY_S: Final = 60.0  # session seconds between tables when output is a file

# The class
MAX_PARTICIPANTS: Final = 40  # in one session, real or simulated: what the wall lays out
# Laptop BLE adapters hold roughly 5–10 connections: this many straps go on each adapter,
# and --simulate-ble spreads its straps the same way.
MAX_STRAPS_PER_ADAPTER: Final = 7
MAX_EMULATED_ADAPTERS: Final = 16  # --simulate-ble's emulated adapters, at most
SIGHTING_EVERY_S: Final = 2.0  # how often a strap heard nearby is reported (s)
# Polar broadcast listening (drivers/ble_broadcast.py). A Polar strap advertises every
# ~100 ms–1 s and its value changes about once a second; one sample a second is what a
# connection gives too, so the engine's smoothing and the tile see the same rate.
BROADCAST_SAMPLE_EVERY_S: Final = 1.0  # the same value is sent again after this long (s)
BROADCAST_MIN_SPACING_S: Final = 0.5  # never two samples of one strap closer than this (s)
# An unworn Polar strap can keep advertising one fixed value for minutes (polar-ble-sdk
# issue #137); a worn one does not hold one integer bpm for a minute, since breathing alone
# moves heart rate by several bpm within every few seconds (respiratory sinus arrhythmia).
UNCHANGING_BROADCAST_AFTER_S: Final = 60.0  # one unchanged value this long: not worn (s)

# Setting up the class (the operator's set-up page)
NEARBY_FORGET_S: Final = 30.0  # a strap not heard for this long leaves the nearby list
LIVE_BPM_FOR_S: Final = 5.0  # a strap's number is shown this long after its last sample
MISSING_AFTER_S: Final = 20.0  # an assigned strap unheard this long gets the hint
# Nearby straps sort by signal in steps this coarse (dB), so rows do not swap places with
# every reading while the operator aims at one.
RSSI_STEP_DB: Final = 10

SIM_DEFAULT_SEED: Final = 1
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
TARGET_HOLD_S: Final = 5.0  # continuously in target this long before the target is reached
# Bouts detected in the heart-rate record (free training, the summary's intervals)
BOUT_MIN_HIGH_S: Final = 30.0  # at high intensity this long for a bout to count
BOUT_MIN_INTERMEDIATE_S: Final = 60.0  # at intermediate intensity this long for a bout
BOUT_MERGE_GAP_S: Final = 10.0  # shorter interruptions do not end a bout
# A connected strap that has notified nothing this long (session seconds; straps notify about
# once a second) is treated as a drop-out: disconnected and reconnected.
SILENT_LINK_AFTER_S: Final = 5.0
# Starting or stopping discovery is a D-Bus round trip on BlueZ; it has been seen to hang
# (bleak issue #694), so it gets a bound.
BLE_SCAN_CONTROL_TIMEOUT_S: Final = 10.0

# Storage: a crash (SIGKILL, power cut of the app) loses at most about a second. A sample
# waits at most one tick for the consumer and one flush interval for the writer.
WRITER_FLUSH_INTERVAL_S: Final = 0.5  # the writer commits this often (real seconds)
WRITER_RETRY_FIRST_S: Final = 0.25  # first wait after a failed write; doubles up to the max
WRITER_RETRY_MAX_S: Final = 1.0  # longest wait between retries while the database fails
# 40 participants send about 1 sample and 2.5 beats a second each: ~25 min of outage.
WRITER_CAPACITY_ROWS: Final = 200_000  # rows held in memory while the database is away
WRITER_BATCH_ROWS: Final = 5_000  # rows per transaction when a backlog is written
COPY_CHUNK_ROWS: Final = 5_000  # rows read and inserted at a time when a database is copied
SQLITE_BUSY_TIMEOUT_S: Final = 5.0  # wait this long for another writer before "locked"
PG_CONNECT_TIMEOUT_S: Final = 5  # whole seconds (libpq); an unreachable server fails fast
HEARTBEAT_EVERY_S: Final = 5.0  # an idle writer still stamps its session this often
HEARTBEAT_STALE_AFTER_S: Final = 30.0  # no heartbeat for longer: nobody is recording it
FINISH_WAIT_S: Final = 10.0  # the terminal waits this long for the database at the end
WINDOW_FINISH_WAIT_S: Final = 0.3  # the window waits no longer; the writer goes on trying
EXIT_WAIT_S: Final = 3.0  # closing the window waits this long, then spills to a file

# The windows (real time)
WALL_FRAME_HZ: Final = 30  # wall frames per second; a frame with nothing new costs little
ALARM_REPEAT_EVERY_S: Final = 4.0  # the alarm sounds again while it is unacknowledged
NOTE_SAVE_AFTER_MS: Final = 2000  # quiet time after the last key press before a note is stored
SETUP_MESSAGE_MS: Final = 15000  # a set-up message stays this long, unless another replaces it
STATUS_MESSAGE_MS: Final = 8000  # a message in the control window's status bar
EXTEND_BY_S: Final = 60.0  # "extend" lengthens the current phase by this much (session s)
