"""What the zone engine made final in one tick, as one immutable value (``TickOutput``).

Storage keeps it as it is (``storage.recorder``): every time, contact status and phase in it
is the one the engine saw, so nothing downstream re-derives them. A sample keeps the wall
time its driver stamped on arrival, the contact status the strap sent and the energy
expended it reported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.engine.alarms import AlarmEvent
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.samples import BatteryReading, HeartRateSample, StrapStatus
from hiaim_monitor.schedule import ActionKind


class FinalSample(NamedTuple):
    """One heart-rate sample as the engine judged it."""

    t_s: float  # arrival on the session clock
    wall_utc: datetime  # arrival as the driver stamped it, aware UTC
    bpm: int
    pct: float  # % HRmax (or reserve); NaN when the heart rate is implausible
    level: int  # engine.codes.Level
    flags: int  # engine.codes.SampleFlag bits
    contact: SensorContact  # as the strap sent it
    energy_kj: int | None  # energy expended as the strap sent it; None when it sent none


class FinalBeat(NamedTuple):
    t_s: float  # beat time rebuilt from RR, session clock
    rr_ms: float
    flags: int  # engine.codes.BeatFlag bits


class Correction(NamedTuple):
    """A sample handed out earlier gets new flags and level: the jump it was part of was
    confirmed since. Found by participant and session time."""

    t_s: float
    flags: int
    level: int


@dataclass(frozen=True, slots=True)
class TickColumns:
    """What one ingest took in: read-only arrays of the ring columns (engine.state), the
    samples as they arrived, and the row (participant) of each, each row's entries together
    and in time order."""

    sample_rows: np.ndarray
    samples: Mapping[str, np.ndarray]
    arrivals: tuple[HeartRateSample, ...]  # each sample of ``samples`` as it came
    beat_rows: np.ndarray
    beats: Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class ParticipantRows:
    """One participant's rows made final in a tick: their stretch of the tick's columns
    (sliced only when read, as most outputs are only stored once)."""

    study_code: str
    tick: TickColumns
    sample_span: slice
    beat_span: slice
    corrections: tuple[Correction, ...] = ()

    @property
    def samples(self) -> dict[str, np.ndarray]:
        """The ring columns of these samples (t_s, bpm, pct, level, flags), read-only."""
        span = self.sample_span
        return {name: column[span] for name, column in self.tick.samples.items()}

    @property
    def beats(self) -> dict[str, np.ndarray]:
        """t_s, rr_ms and flags of these beats, read-only."""
        span = self.beat_span
        return {name: column[span] for name, column in self.tick.beats.items()}

    def sample_rows(self) -> Iterator[FinalSample]:
        s = self.samples
        for t, bpm, pct, level, flags, sent in zip(
                s["t_s"].tolist(), s["bpm"].tolist(), s["pct"].tolist(), s["level"].tolist(),
                s["flags"].tolist(), self.tick.arrivals[self.sample_span], strict=True):
            yield FinalSample(t, sent.wall_utc, int(bpm), pct, level, flags, sent.contact,
                              sent.energy_kj)

    def beat_rows(self) -> Iterator[FinalBeat]:
        b = self.beats
        for t, rr, flags in zip(b["t_s"].tolist(), b["rr_ms"].tolist(), b["flags"].tolist(),
                                strict=True):
            yield FinalBeat(t, rr, flags)


@dataclass(frozen=True, slots=True)
class PlanChange:
    """The operator changed the plan: pause, resume, skip, extend or stop."""

    t_s: float
    wall_utc: datetime
    action: ActionKind
    detail: Mapping[str, Any]  # phase_index, phase_name, by_s, paused_s, reason


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The operator saw an alarm (``study_code`` None: about the whole session, e.g.
    storage)."""

    t_s: float
    wall_utc: datetime
    study_code: str | None
    alarm: str  # the alarm's kind


@dataclass(frozen=True, slots=True)
class Note:
    """The operator's note as it read then; the last one per participant counts."""

    t_s: float
    wall_utc: datetime
    study_code: str | None  # None: on the whole session
    text: str


OperatorEntry = PlanChange | Acknowledgement | Note


@dataclass(frozen=True, slots=True)
class StrapReport:
    """What a session strap said about itself (state or battery)."""

    study_code: str
    t_s: float
    wall_utc: datetime
    report: StrapStatus | BatteryReading


@dataclass(frozen=True, slots=True)
class PhaseChange:
    t_s: float
    wall_utc: datetime
    index: int | None  # None: the session is over
    name: str | None


@dataclass(frozen=True, slots=True)
class TickOutput:
    """Everything a tick made final, in the order storage keeps it."""

    rows: tuple[ParticipantRows, ...] = ()
    adherence: tuple[tuple[str, PhaseAdherence], ...] = ()  # (participant id, result)
    alarms: tuple[AlarmEvent, ...] = ()
    strap_reports: tuple[StrapReport, ...] = ()
    operator: tuple[OperatorEntry, ...] = ()  # in time order
    phase_change: PhaseChange | None = None

    @property
    def empty(self) -> bool:
        return not (self.rows or self.adherence or self.alarms or self.strap_reports
                    or self.operator or self.phase_change)

