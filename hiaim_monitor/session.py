"""A live training session: drains the sensor queue on each tick into the zone engine and
hands out its snapshots, and what became final (``TickOutput``) for whoever records it; at
the end, the per-participant summary. It knows no storage: recording wraps it
(``recorded_session``)."""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.engine.engine import EngineConfig, ZoneEngine
from hiaim_monitor.engine.output import Acknowledgement, Note, TickOutput
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import SourceEvent
from hiaim_monitor.schedule import OperatorAction, SessionSchedule
from hiaim_monitor.session_cue import SessionCue


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
        cue: SessionCue | None = None,
    ) -> None:
        self.protocol = protocol
        self.participants = list(participants)
        self.clock = clock
        self.events = events
        self.start_mono_s = clock.monotonic() if start_mono_s is None else start_mono_s
        # Wall time of the session's start, wherever the clock is now.
        self.started_utc: datetime = clock.now_utc() - timedelta(
            seconds=clock.monotonic() - self.start_mono_s)
        # No cap unless asked: pauses and extensions make the session longer than planned.
        self.engine = ZoneEngine(protocol, self.participants, clock,
                                 start_mono_s=self.start_mono_s, duration_s=duration_s,
                                 cfg=engine_config)
        self.cue = cue
        self._carried: list[SourceEvent] = []  # reports from before the start
        self._cued_version = -1
        self._publish_cue()

    @property
    def duration_s(self) -> float:
        """The session's length as planned now (math.inf while paused without a cap)."""
        return self.engine.duration_s

    @property
    def schedule(self) -> SessionSchedule:
        return self.engine.schedule

    # -- operator actions, at the current session time; in the next tick's output -------
    def pause(self) -> OperatorAction:
        """Stop the countdown; ValueError (one sentence) if already paused or over."""
        return self._acted(self.schedule.pause(self.engine.session_time()))

    def resume(self) -> OperatorAction:
        """Restart the countdown where the pause left it; ValueError if not paused."""
        return self._acted(self.schedule.resume(self.engine.session_time()))

    def skip(self) -> OperatorAction:
        """End the current phase now; the next starts now with its full duration."""
        return self._acted(self.schedule.skip(self.engine.session_time()))

    def extend(self, by_s: float = config.EXTEND_BY_S) -> OperatorAction:
        """Make the current phase ``by_s`` seconds longer; later phases shift."""
        return self._acted(self.schedule.extend(self.engine.session_time(), by_s))

    def stop(self, reason: str = "") -> OperatorAction:
        """End the session now; the phase running is judged on the time it ran. ``reason``
        says how, when not with the Stop button (e.g. "quit": the app was closed)."""
        return self._acted(self.schedule.stop(self.engine.session_time(), reason))

    def _acted(self, action: OperatorAction) -> OperatorAction:
        self._publish_cue()
        return action

    def _publish_cue(self) -> None:
        """Tell whoever follows the class (simulated participants) the plan as it now
        stands, in clock time."""
        if self.cue is None or self._cued_version == self.schedule.version:
            return
        self._cued_version = self.schedule.version
        self.cue.publish(tuple(w for w in self.schedule.phase_windows() if w.end_s > w.start_s),
                         self.start_mono_s)

    def acknowledge(self, alarms: list[tuple[str | None, str]]) -> float:
        """The operator saw these alarms ((participant id or None for storage, alarm
        kind)): logged at the current session time, which is returned."""
        t_s = self.engine.session_time()
        wall_utc = self.engine.wall_at(t_s)
        for study_code, kind in alarms:
            self.engine.log_operator(Acknowledgement(t_s, wall_utc, study_code, kind))
        return t_s

    def note(self, text: str, study_code: str | None = None) -> None:
        """The operator's note on the session (or on one participant), as it now reads."""
        t_s = self.engine.session_time()
        self.engine.log_operator(Note(t_s, self.engine.wall_at(t_s), study_code, text))

    def carry_over(self, reports: Iterable[SourceEvent]) -> None:
        """Reports from before the start (the setup's strap states and battery levels):
        taken in, and stored, on the next tick, ahead of what the straps send from now."""
        self._carried.extend(reports)

    def advance(self) -> tuple[TickOutput, SessionSnapshot]:
        """Drain everything queued since the last tick into the engine: what became final
        (to be recorded), and the snapshot."""
        batch, self._carried = self._carried, []
        while True:
            try:
                batch.append(self.events.get_nowait())
            except queue.Empty:
                break
        out = self.engine.ingest(batch)
        return out, self._ended(self.engine.snapshot())

    def tick(self) -> SessionSnapshot:
        """``advance`` for a session nothing records (a screenshot): the output is let go."""
        return self.advance()[1]

    def conclude(self) -> TickOutput:
        """At the end: the last rows and results (a jump never confirmed keeps its flag)."""
        return self.engine.conclude()

    def snapshot(self) -> SessionSnapshot:
        return self._ended(self.engine.snapshot())

    def _ended(self, snap: SessionSnapshot) -> SessionSnapshot:
        # Once over, the session's time stands at its end, however late the tick came.
        if snap.finished and snap.elapsed_s > self.duration_s:
            return dataclasses.replace(snap, elapsed_s=self.duration_s)
        return snap

    def summary(self) -> dict[str, Any]:
        """Per-participant figures for --summary-json."""
        people = []
        for p, figures in zip(self.participants, self.engine.summary(), strict=True):
            people.append({
                "study_code": p.study_code,
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
            # Planned against ran, per phase; phases that never ran keep the protocol's times.
            "phases": rounded(self.schedule.phase_runs(
                min(self.engine.session_time(), self.duration_s))),
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
