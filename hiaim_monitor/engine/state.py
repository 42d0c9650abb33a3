"""Per-participant state of the zone engine and the shapes of what it stores and hands out.
Plain attributes and ints: this is read and written on every sample."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from hiaim_monitor import config
from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.engine.alarms import AlarmKind
from hiaim_monitor.engine.artifacts import BpmJumpFilter, RRArtifactFilter
from hiaim_monitor.engine.classify import HysteresisClassifier, Smoother
from hiaim_monitor.engine.codes import UNTRUSTED, Level, SampleFlag
from hiaim_monitor.engine.output import Correction, TickColumns
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import HeartRateSample, StrapState
from hiaim_monitor.strap_notes import StrapNote

SAMPLE_COLUMNS = {"t_s": np.float32, "bpm": np.float32, "pct": np.float32,
                  "level": np.int8, "flags": np.uint8}
BEAT_COLUMNS = {"t_s": np.float32, "rr_ms": np.float32, "flags": np.uint8}


@dataclass(frozen=True, slots=True)
class EngineConfig:
    stale_after_s: float = config.STALE_AFTER_S
    lost_after_s: float = config.LOST_AFTER_S
    radio_switch_after_s: float = config.RADIO_SWITCH_AFTER_S
    smoothing_tau_s: float = config.SMOOTHING_TAU_S
    hysteresis_pct: float = config.HYSTERESIS_PCT
    min_dwell_s: float = config.MIN_DWELL_S
    ceiling_hold_s: float = config.CEILING_HOLD_S
    no_contact_alarm_after_s: float = config.NO_CONTACT_ALARM_AFTER_S
    battery_low_pct: int = config.BATTERY_LOW_PCT
    battery_clear_pct: int = config.BATTERY_CLEAR_PCT
    max_gap_s: float = config.MAX_CREDIT_GAP_S
    trace_window_s: float = config.TRACE_WINDOW_S
    capacity_samples: int = config.RING_CAPACITY_SAMPLES
    heart_rate_reserve: bool = False  # classify on % HR reserve instead of % HRmax


MALFORMED = int(SampleFlag.MALFORMED)
BROADCAST = int(SampleFlag.BROADCAST)
NO_CONTACT = int(SampleFlag.NO_CONTACT)
JUMP = int(SampleFlag.UNCONFIRMED_JUMP)
UNTRUSTED_BITS = int(UNTRUSTED)
UNKNOWN = int(Level.UNKNOWN)


def _frozen(values: list[Any], dtype: Any) -> np.ndarray:
    out = np.asarray(values, dtype=dtype)
    out.flags.writeable = False
    return out


class Columns:
    """What one ingest appends to the ring buffers, gathered as plain lists."""

    __slots__ = ("arrivals", "beat_flags", "beat_rows", "beat_t_s", "bpm", "flags", "level",
                 "pct", "rows", "rr_ms", "t_s")

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.t_s: list[float] = []
        self.bpm: list[float] = []
        self.pct: list[float] = []
        self.level: list[int] = []
        self.flags: list[int] = []
        # The samples themselves, for what the ring does not keep: each one's arrival time,
        # contact status and energy as sent (nothing reads them after this tick, and three
        # hours of them in the ring would take as much memory again).
        self.arrivals: list[HeartRateSample] = []
        self.beat_rows: list[int] = []
        self.beat_t_s: list[float] = []
        self.rr_ms: list[float] = []
        self.beat_flags: list[int] = []

    def arrays(self) -> TickColumns:
        if not self.rows:
            return NOTHING_TAKEN  # many ticks bring nothing: no arrays made for them
        samples = {"t_s": self.t_s, "bpm": self.bpm, "pct": self.pct, "level": self.level,
                   "flags": self.flags}
        beats = {"t_s": self.beat_t_s, "rr_ms": self.rr_ms, "flags": self.beat_flags}
        return TickColumns(
            _frozen(self.rows, np.intp),
            {name: _frozen(values, SAMPLE_COLUMNS[name]) for name, values in samples.items()},
            tuple(self.arrivals),
            _frozen(self.beat_rows, np.intp),
            {name: _frozen(values, BEAT_COLUMNS[name]) for name, values in beats.items()})


NOTHING_TAKEN: Final = TickColumns(
    _frozen([], np.intp), {name: _frozen([], dtype) for name, dtype in SAMPLE_COLUMNS.items()},
    (), _frozen([], np.intp), {name: _frozen([], dtype) for name, dtype in BEAT_COLUMNS.items()})


class Person:
    """Mutable per-participant state; plain attributes for a cheap per-sample path."""

    def __init__(self, row: int, p: Participant, protocol: TrainingProtocol,
                 cfg: EngineConfig) -> None:
        self.row = row
        self.p = p
        self.ceiling_pct = p.ceiling_pct or protocol.thresholds.ceiling_pct
        self.jump = BpmJumpFilter()
        self.rr = RRArtifactFilter()
        self.smoother = Smoother(cfg.smoothing_tau_s)
        self.classifier = HysteresisClassifier(protocol.thresholds, cfg.hysteresis_pct,
                                               cfg.min_dwell_s, self.ceiling_pct)
        self.samples = 0
        self.dropped = 0
        self.beats = 0
        self.last_t: float | None = None  # last sample of any kind, session seconds
        # Last trusted sample (the first sample until there is one): stale and lost count
        # from here, so a strap sending only values nobody can use goes lost as well.
        self.usable_t: float | None = None
        self.contact_ok = True
        self.no_rr = False  # the latest sample came by broadcast: heart rate only, no RR
        self.shown_bpm: float | None = None  # smoothed, of the last trusted sample
        self.shown_pct: float | None = None  # of shown_bpm
        self.shown_level = int(Level.UNKNOWN)  # the class shown_pct was given
        self.shown_t: float | None = None
        self.last_beat_t: float | None = None
        self.no_contact_since: float | None = None
        self.ceiling_since: float | None = None
        self.battery: int | None = None
        self.strap_state: StrapState | None = None
        self.strap_note: StrapNote | None = None
        # The strap id whose samples are taken (a dual-mode strap is heard by two), the
        # arrival of its latest sample (monotonic s), the other ids' samples left out, and
        # each id's latest status, so the one shown is the status of the radio in use.
        self.via: str | None = None
        self.via_t = -math.inf
        self.duplicates = 0
        self.statuses: dict[str, tuple[StrapState, StrapNote | None]] = {}
        self.prev_t: float | None = None  # previous sample, for in-phase crediting
        self.prev_level = int(Level.UNKNOWN)
        self.acc_phase = -1
        self.acc_in_target_s = 0.0
        # (block index, highest % shown in it so far); -1: no block yet
        self.block_peak: tuple[int, float] = (-1, 0.0)
        self.adherence: list[PhaseAdherence] = []
        self.handed_adherence = 0
        self.trace: tuple[int, np.ndarray, np.ndarray] | None = None  # (written, t, pct)
        self.batch_idx: list[int] = []  # this ingest's rows of this person in Columns
        self.handed_samples = 0  # ring rows already given out in a TickOutput
        self.handed_beats = 0  # of beats, given out in a TickOutput
        self.corrections: list[Correction] = []  # for the next TickOutput
        self.active_alarms: set[AlarmKind] = set()  # the alarm board's own set
