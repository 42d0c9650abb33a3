"""What the class is doing now, as the operator steers it: the phase plan in clock time.

The live session publishes it on the consumer thread whenever the plan changes (start,
pause, skip, extend, stop); simulated participants read it on the sensor thread, so they
follow the operator and not the printed protocol. Publishing swaps one immutable tuple, so a
reader never sees half a plan.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from hiaim_monitor.protocols import Phase


@dataclass(frozen=True, slots=True)
class CuedPhase:
    index: int  # in the protocol
    phase: Phase
    start_mono_s: float  # on the session clock
    end_mono_s: float  # math.inf while the phase runs open-ended (paused)


class SessionCue:
    def __init__(self) -> None:
        # The plan and its start times, swapped together as one tuple.
        self._current: tuple[tuple[CuedPhase, ...], tuple[float, ...]] = ((), ())

    def publish(self, plan: tuple[CuedPhase, ...]) -> None:
        """Replace the plan (phases in order, not overlapping); () means no session."""
        self._current = (plan, tuple(p.start_mono_s for p in plan))

    @property
    def plan(self) -> tuple[CuedPhase, ...]:
        return self._current[0]

    def phase_at(self, t_mono_s: float) -> CuedPhase | None:
        """The phase running at ``t_mono_s``; None before the start, between a stop and the
        next session, and after the end."""
        plan, starts = self._current
        i = bisect.bisect_right(starts, t_mono_s) - 1
        if i < 0 or i >= len(plan):
            return None
        cued = plan[i]
        return cued if t_mono_s < cued.end_mono_s else None
