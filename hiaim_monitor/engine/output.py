"""What the zone engine made final in one tick, as one immutable value (``TickOutput``).

Storage keeps it as it is (``storage.recorder``): every time, contact status and phase in it
is the one the engine saw, so nothing downstream re-derives them. A sample keeps the wall
time its driver stamped on arrival, the contact status the strap sent and the energy
expended it reported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

import numpy as np

from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.engine.alarms import AlarmEvent
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.samples import BatteryReading, StrapStatus
from hiaim_monitor.schedule import ActionKind

# The ring buffers keep contact as a small code: its index here.
CONTACTS: Final = (SensorContact.NOT_SUPPORTED, SensorContact.NOT_DETECTED,
                   SensorContact.DETECTED)
CONTACT_CODE: Final = {contact: code for code, contact in enumerate(CONTACTS)}
NO_ENERGY: Final = -1  # energy_kj in the ring buffers: the strap sent none


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
class ParticipantRows:
    """One participant's rows made final in a tick, as read-only arrays (the values the
    ring buffers hold, and how each sample arrived)."""

    participant_id: str
    samples: Mapping[str, np.ndarray]  # state.SAMPLE_COLUMNS and state.ARRIVAL_COLUMNS
    beats: Mapping[str, np.ndarray]  # state.BEAT_COLUMNS
    corrections: tuple[Correction, ...] = ()

    def sample_rows(self) -> Iterator[FinalSample]:
        s = self.samples
        for t, wall_s, bpm, pct, level, flags, contact, energy in zip(
                s["t_s"].tolist(), s["wall_s"].tolist(), s["bpm"].tolist(),
                s["pct"].tolist(), s["level"].tolist(), s["flags"].tolist(),
                s["contact"].tolist(), s["energy_kj"].tolist(), strict=True):
            yield FinalSample(t, datetime.fromtimestamp(wall_s, UTC), int(bpm), pct, level,
                              flags, CONTACTS[contact], None if energy == NO_ENERGY else energy)

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
    """The operator saw an alarm (``participant_id`` None: about the whole session, e.g.
    storage)."""

    t_s: float
    wall_utc: datetime
    participant_id: str | None
    alarm: str  # the alarm's kind


@dataclass(frozen=True, slots=True)
class Note:
    """The operator's note as it read then; the last one per participant counts."""

    t_s: float
    wall_utc: datetime
    participant_id: str | None  # None: on the whole session
    text: str


OperatorEntry = PlanChange | Acknowledgement | Note


@dataclass(frozen=True, slots=True)
class StrapReport:
    """What a session strap said about itself (state or battery)."""

    participant_id: str
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

