"""What the class is doing now, as the operator steers it: the phase plan in clock time.

The live session publishes it on the consumer thread whenever the plan changes (start,
pause, skip, extend, stop); simulated participants read it on the sensor thread, so they
follow the operator and not the printed protocol. Publishing swaps one immutable tuple, so a
reader never sees half a plan.

The plan is the schedule's own ``PhaseWindow``s (session clock) and the monotonic time the
session clock started at, so a phase has one shape wherever it goes.
"""

from __future__ import annotations

import bisect

from hiaim_monitor.schedule import PhaseWindow


class SessionCue:
    def __init__(self) -> None:
        # The plan, its start times and the session's start, swapped together as one tuple.
        self._current: tuple[tuple[PhaseWindow, ...], tuple[float, ...], float] = ((), (), 0.0)

    def publish(self, plan: tuple[PhaseWindow, ...], start_mono_s: float = 0.0) -> None:
        """Replace the plan (phases in order, not overlapping, on the session clock that
        started at ``start_mono_s``); () means no session."""
        self._current = (plan, tuple(w.start_s for w in plan), start_mono_s)

    @property
    def plan(self) -> tuple[PhaseWindow, ...]:
        return self._current[0]

    def phase_at(self, t_mono_s: float) -> PhaseWindow | None:
        """The phase running at ``t_mono_s``; None before the start, between a stop and the
        next session, and after the end."""
        plan, starts, start_mono_s = self._current
        t_s = t_mono_s - start_mono_s
        i = bisect.bisect_right(starts, t_s) - 1
        if i < 0 or i >= len(plan):
            return None
        window = plan[i]
        return window if window.holds(t_s) else None
