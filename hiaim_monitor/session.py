"""A live training session: drains the sensor queue on each tick into the zone engine and
hands out its snapshots; at the end, the per-participant summary."""

from __future__ import annotations

import queue
from datetime import datetime
from typing import Any

from hiaim_monitor.clock import Clock
from hiaim_monitor.engine.engine import EngineConfig, ZoneEngine
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import SourceEvent


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
        engine_config: EngineConfig | None = None,
    ) -> None:
        self.protocol = protocol
        self.participants = list(participants)
        self.clock = clock
        self.events = events
        self.start_mono_s = clock.monotonic() if start_mono_s is None else start_mono_s
        self.started_utc: datetime = clock.now_utc()
        self.duration_s = protocol.total_s if duration_s is None else duration_s
        self.engine = ZoneEngine(protocol, self.participants, clock,
                                 start_mono_s=self.start_mono_s, duration_s=self.duration_s,
                                 cfg=engine_config)

    def tick(self) -> SessionSnapshot:
        """Drain everything queued since the last tick into the engine, then snapshot."""
        batch: list[SourceEvent] = []
        while True:
            try:
                batch.append(self.events.get_nowait())
            except queue.Empty:
                break
        self.engine.ingest(batch)
        return self.engine.snapshot()

    def snapshot(self) -> SessionSnapshot:
        return self.engine.snapshot()

    def summary(self) -> dict[str, Any]:
        """Per-participant figures for --summary-json."""
        people = []
        for p, figures in zip(self.participants, self.engine.summary(), strict=True):
            people.append({
                "participant_id": p.participant_id,
                "display_name": p.display_name,
                "strap_id": p.strap_id,
                "hrmax_bpm": p.hrmax.bpm,
                "hrmax_method": str(p.hrmax.method),
                **figures,
            })
        return {
            "protocol": self.protocol.key,
            "protocol_name": self.protocol.name,
            "started_utc": self.started_utc.isoformat(),
            "duration_s": round(min(self.engine.session_time(), self.duration_s), 1),
            "thresholds_pct_hrmax": {
                "intermediate": self.protocol.thresholds.intermediate_pct,
                "high": self.protocol.thresholds.high_pct,
                "ceiling": self.protocol.thresholds.ceiling_pct,
            },
            "participants": rounded(people),
        }


def rounded(value: Any, digits: int = 2) -> Any:
    """``value`` with every float rounded, for a summary people read."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value
