"""A live training session: drains the sensor queue on each tick, keeps per-participant
state, and hands out immutable snapshots for the views.

The classification here is the foundation's plain threshold rule on % HRmax; the zone
engine replaces it.
"""

from __future__ import annotations

import queue
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import PhasePosition, Thresholds, TrainingProtocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    PacketDropped,
    SourceEvent,
    StrapState,
    StrapStatus,
)

PLAUSIBLE_BPM = (30, 240)


class IntensityClass(StrEnum):
    BELOW = "below"
    INTERMEDIATE = "intermediate"
    HIGH = "high"


class SignalState(StrEnum):
    WAITING = "waiting"  # nothing received yet
    LIVE = "live"
    STALE = "stale"
    LOST = "lost"
    NO_CONTACT = "no-contact"


def classify(pct_hrmax: float, thresholds: Thresholds) -> IntensityClass:
    if pct_hrmax >= thresholds.high_pct:
        return IntensityClass.HIGH
    if pct_hrmax >= thresholds.intermediate_pct:
        return IntensityClass.INTERMEDIATE
    return IntensityClass.BELOW


@dataclass(frozen=True, slots=True)
class ParticipantView:
    participant_id: str
    display_name: str
    strap_id: str
    signal: SignalState
    bpm: int | None  # None when lost or never seen: no number is better than an old one
    pct_hrmax: float | None
    intensity: IntensityClass | None
    age_s: float | None  # of the last sample
    battery_pct: int | None
    strap_state: StrapState | None
    beta_blocker: bool


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    t_mono_s: float
    elapsed_s: float
    protocol: TrainingProtocol
    position: PhasePosition | None
    finished: bool
    participants: tuple[ParticipantView, ...]


@dataclass
class _Track:
    participant: Participant
    samples: int = 0
    dropped: int = 0
    bpm_sum: float = 0.0
    bpm_counted: int = 0
    peak_bpm: int | None = None
    last_bpm: int | None = None
    last_t: float | None = None
    contact_ok: bool = True
    battery_pct: int | None = None
    strap_state: StrapState | None = None
    seconds_in: dict[IntensityClass, float] = field(
        default_factory=lambda: dict.fromkeys(IntensityClass, 0.0)
    )
    seconds_no_contact: float = 0.0
    trace: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=4096))


class LiveSession:
    """Consumer side of the data path. Owned by one thread; not thread-safe by design."""

    def __init__(
        self,
        protocol: TrainingProtocol,
        participants: list[Participant],
        clock: Clock,
        events: queue.SimpleQueue[SourceEvent],
        *,
        start_mono_s: float | None = None,
        duration_s: float | None = None,
    ) -> None:
        self.protocol = protocol
        self.clock = clock
        self.events = events
        self.start_mono_s = clock.monotonic() if start_mono_s is None else start_mono_s
        self.started_utc: datetime = clock.now_utc()
        self.duration_s = protocol.total_s if duration_s is None else duration_s
        self._tracks = {p.strap_id: _Track(p) for p in participants}
        if len(self._tracks) != len(participants):
            raise ValueError("two participants share one strap")
        self.unknown_events = 0

    # -- ingest ---------------------------------------------------------------------------
    def tick(self) -> SessionSnapshot:
        """Drain everything queued since the last tick, then snapshot."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self._ingest(event)
        return self.snapshot()

    def _ingest(self, event: SourceEvent) -> None:
        track = self._tracks.get(event.strap_id)
        if track is None:
            self.unknown_events += 1
            return
        match event:
            case HeartRateSample():
                self._ingest_sample(track, event)
            case PacketDropped():
                track.dropped += 1
            case BatteryReading(level_pct=level):
                track.battery_pct = level
            case StrapStatus(state=state):
                track.strap_state = state

    def _ingest_sample(self, track: _Track, s: HeartRateSample) -> None:
        if s.malformed_tail:
            track.dropped += 1
        gap_s = 0.0 if track.last_t is None else min(s.t_mono_s - track.last_t,
                                                    config.MAX_CREDIT_GAP_S)
        track.samples += 1
        track.last_t = s.t_mono_s
        track.last_bpm = s.bpm
        track.contact_ok = s.contact.counts
        in_session = 0.0 <= s.t_mono_s - self.start_mono_s <= self.duration_s
        plausible = PLAUSIBLE_BPM[0] <= s.bpm <= PLAUSIBLE_BPM[1]
        if not (track.contact_ok and plausible):
            if in_session and not track.contact_ok:
                track.seconds_no_contact += gap_s
            return
        track.trace.append((s.t_mono_s, s.bpm))
        if not in_session:
            return
        track.bpm_sum += s.bpm
        track.bpm_counted += 1
        track.peak_bpm = s.bpm if track.peak_bpm is None else max(track.peak_bpm, s.bpm)
        pct = track.participant.hrmax.pct(s.bpm)
        track.seconds_in[classify(pct, self.protocol.thresholds)] += max(gap_s, 0.0)

    # -- views ----------------------------------------------------------------------------
    def snapshot(self) -> SessionSnapshot:
        now = self.clock.monotonic()
        elapsed = now - self.start_mono_s
        return SessionSnapshot(
            t_mono_s=now,
            elapsed_s=elapsed,
            protocol=self.protocol,
            position=self.protocol.phase_at(elapsed),
            finished=elapsed >= self.duration_s,
            participants=tuple(self._view(t, now) for t in self._tracks.values()),
        )

    def _view(self, t: _Track, now: float) -> ParticipantView:
        age = None if t.last_t is None else max(0.0, now - t.last_t)
        if age is None:
            signal = SignalState.WAITING
        elif age > config.LOST_AFTER_S:
            signal = SignalState.LOST
        elif not t.contact_ok:
            signal = SignalState.NO_CONTACT
        elif age > config.STALE_AFTER_S:
            signal = SignalState.STALE
        else:
            signal = SignalState.LIVE
        shows_number = signal in (SignalState.LIVE, SignalState.STALE) and t.last_bpm is not None
        bpm = t.last_bpm if shows_number else None
        pct = t.participant.hrmax.pct(bpm) if bpm is not None else None
        intensity = (
            classify(pct, self.protocol.thresholds)
            if pct is not None and signal is SignalState.LIVE
            else None
        )
        p = t.participant
        return ParticipantView(
            participant_id=p.participant_id,
            display_name=p.display_name,
            strap_id=p.strap_id,
            signal=signal,
            bpm=bpm,
            pct_hrmax=pct,
            intensity=intensity,
            age_s=age,
            battery_pct=t.battery_pct,
            strap_state=t.strap_state,
            beta_blocker=p.beta_blocker,
        )

    def summary(self) -> dict[str, object]:
        """Per-participant figures for --summary-json."""
        snap = self.snapshot()
        people = []
        for t in self._tracks.values():
            p = t.participant
            people.append({
                "participant_id": p.participant_id,
                "display_name": p.display_name,
                "strap_id": p.strap_id,
                "hrmax_bpm": p.hrmax.bpm,
                "hrmax_method": str(p.hrmax.method),
                "samples_received": t.samples,
                "packets_dropped": t.dropped,
                "mean_bpm": round(t.bpm_sum / t.bpm_counted, 1) if t.bpm_counted else None,
                "peak_bpm": t.peak_bpm,
                "seconds_in_class": {str(k): round(v, 1) for k, v in t.seconds_in.items()},
                "seconds_without_contact": round(t.seconds_no_contact, 1),
            })
        return {
            "protocol": self.protocol.key,
            "protocol_name": self.protocol.name,
            "started_utc": self.started_utc.isoformat(),
            "duration_s": round(min(snap.elapsed_s, self.duration_s), 1),
            "participants": people,
        }
