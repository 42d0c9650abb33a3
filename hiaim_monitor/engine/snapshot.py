"""Immutable views of the engine's state that windows and the terminal render."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from hiaim_monitor.engine.alarms import AlarmKind
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.protocols import PhasePosition, TrainingProtocol
from hiaim_monitor.samples import StrapState
from hiaim_monitor.strap_notes import StrapNote


class SignalState(StrEnum):
    WAITING = "waiting"  # nothing received yet
    LIVE = "live"
    STALE = "stale"  # the value is older than stale_after_s: show it dimmed, with its age
    LOST = "lost"  # nothing for lost_after_s: no number at all
    NO_CONTACT = "no-contact"  # the strap says it does not touch skin


@dataclass(frozen=True, slots=True)
class ParticipantView:
    study_code: str
    display_name: str
    strap_id: str
    signal: SignalState
    # What a view shows is the smoothed value the class was computed from, and the three
    # agree: while the class lags the value at a class edge, the % shown stays at the
    # edge of that class (engine.classify.shown_pct). All None when lost, without contact,
    # or never seen; a stale view keeps the last shown value and its class.
    bpm: int | None
    pct_hrmax: int | None  # whole % HRmax (% heart-rate reserve when the engine uses it)
    level: Level | None  # the stable class of pct_hrmax
    age_s: float | None  # of the shown value (or of the last sample when none is shown)
    battery_pct: int | None
    strap_state: StrapState | None
    beta_blocker: bool
    target: Level | None  # the current phase's target class (None outside work phases)
    in_target_s: float  # in the current phase
    intervals_achieved: int
    intervals_judged: int
    alarms: tuple[AlarmKind, ...]
    trace_t_s: np.ndarray  # session seconds of the recent trace (read-only copy)
    trace_pct: np.ndarray  # % HRmax of the recent trace; nan where not trusted
    strap_note: StrapNote | None = None  # why the strap is in strap_state, when it says
    # The highest % so far in the running block of short bouts, a whole % rounded down as
    # the block's judged peak is (None outside one, or before a value came in it): heart
    # rate never settles within a 20 s bout.
    block_peak_pct: int | None = None
    # The latest data came by broadcast (a Polar strap listened to, not connected): heart
    # rate only, no RR intervals are recorded for it.
    no_rr: bool = False
    # The strap id the data comes by (its radio: ble:…, ant:…); None before any came. A
    # dual-mode strap is heard by two ids, and only one at a time is taken.
    via_strap_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """Everything a view shows of the session at one tick: views read nothing else."""

    t_mono_s: float
    elapsed_s: float
    protocol: TrainingProtocol
    position: PhasePosition | None
    finished: bool
    participants: tuple[ParticipantView, ...]
    paused: bool = False  # the countdown stands still
    # Each phase's running time as planned now (operator actions included), for timelines.
    planned_run_s: tuple[float, ...] = ()
    recording: bool = False  # notes and acknowledgements are stored with the session now
    storage: StorageView | None = None  # None: nothing is being stored

    @property
    def running(self) -> bool:
        return not self.finished


class StorageState(StrEnum):
    OK = "ok"
    FAILING = "failing"  # writes fail; rows wait in memory
    RECOVERED = "recovered"  # writes work again; the backlog is being written


@dataclass(frozen=True, slots=True)
class StorageView:
    """The session store as the operator needs to see it."""

    state: StorageState
    reason: str  # one sentence while failing
    backlog_fraction: float  # of the in-memory buffer, 0–1
    dropped_rows: int  # lost to a full buffer
