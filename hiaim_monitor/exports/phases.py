"""Where each phase of a stored session ran on the session clock, for the phase column of the
sample CSV and the laps of the TCX file.

The stored protocol is replayed with the stored operator actions (pause, resume, skip,
extend, stop) through the same ``SessionSchedule`` the live session used, so a sample gets
the phase the engine judged it in, to the millisecond. The phase-change events the recorder
also stores are stamped on the tick that noticed the change (up to a tick late); they are
used only for a session whose actions cannot be replayed (a newer app's action, say).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hiaim_monitor.exports import data
from hiaim_monitor.protocols import PhaseKind, TrainingProtocol
from hiaim_monitor.schedule import PhaseWindow, SessionSchedule, planned_windows
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.schema import EventKind, EventRow


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    index: int  # into the session's protocol phases
    name: str
    kind: PhaseKind
    start_s: float  # session clock
    end_s: float
    paused_s: float = 0.0  # of the window, the time the session stood paused

    @property
    def running_s(self) -> float:
        """The time its countdown ran: the window less its pauses."""
        return self.end_s - self.start_s - self.paused_s


def phase_spans(db: Database, session: data.ExportSession) -> list[PhaseSpan]:
    """The phases that ran, in order, within [0, the session's end)."""
    with storage_errors(db), db.engine.connect() as conn:
        changes = conn.execute(
            sa.select(EventRow.t_s, EventRow.detail)
            .where(EventRow.session_id == session.session_id,
                   EventRow.kind == EventKind.PHASE_CHANGE)
            .order_by(EventRow.t_s, EventRow.id)).all()
    actions = [(t_s, detail) for t_s, detail in changes if "action" in (detail or {})]
    markers = [(t_s, detail) for t_s, detail in changes if "action" not in (detail or {})]
    try:
        windows = _replayed(session.protocol, actions)
    except (ValueError, KeyError, TypeError):
        windows = _from_markers(session.protocol, markers)
    spans = []
    for w in windows:
        start_s, end_s = max(w.start_s, 0.0), min(w.end_s, session.end_s)
        if end_s > start_s:
            paused_s = sum(max(0.0, min(b, end_s) - max(a, start_s)) for a, b in w.pauses)
            spans.append(PhaseSpan(w.index, w.phase.name, w.phase.kind, start_s, end_s,
                                   paused_s))
    return spans


def span_at(spans: Sequence[PhaseSpan], starts_s: Sequence[float], t_s: float
            ) -> PhaseSpan | None:
    """The span holding ``t_s`` (``starts_s`` = the spans' start times); None outside."""
    i = bisect.bisect_right(starts_s, t_s) - 1
    if i < 0 or t_s >= spans[i].end_s:
        return None
    return spans[i]


def _replayed(protocol: TrainingProtocol, actions: list[tuple[float, dict[str, Any]]]
              ) -> list[PhaseWindow]:
    schedule = SessionSchedule(protocol)
    for t_s, detail in actions:
        kind = detail["action"]
        if kind == "extend":
            schedule.extend(t_s, float(detail["by_s"]))
        elif kind in ("pause", "resume", "skip", "stop"):
            getattr(schedule, kind)(t_s)
        else:
            raise ValueError(f"unknown operator action {kind!r}")
    # Every phase laid so far, with its pauses (one left open by an app that quit while
    # paused lasts to the end, where the spans are cut).
    return schedule.ended_phases(math.inf)


def _from_markers(protocol: TrainingProtocol, markers: list[tuple[float, dict[str, Any]]]
                  ) -> list[PhaseWindow]:
    """Each marker starts its phase; the next marker (or the end) ends it. A marker with no
    phase (the protocol ran out) ends the one before. Pauses are not known here."""
    windows: list[PhaseWindow] = []
    planned = planned_windows(protocol)
    count = len(protocol.phases)
    for n, (t_s, detail) in enumerate(markers):
        index = detail.get("phase_index")
        if not isinstance(index, int) or not 0 <= index < count:
            continue
        end_s = markers[n + 1][0] if n + 1 < len(markers) else math.inf
        windows.append(PhaseWindow(index, protocol.phases[index], t_s, end_s, (), False,
                                   planned[index].start_s, planned[index].end_s))
    return windows
