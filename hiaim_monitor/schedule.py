"""The protocol laid on the session clock, as the operator steers it: pause, resume, skip,
extend and stop, each at the session time ``t_s`` it happens.

Phase durations count *running* time: a pause stops the countdown, so the phase (and every
phase after it) ends later by the length of the pause. A pause stays inside the window of the
phase it falls in and is reported as ``paused_s`` and ``pauses``, so adherence can leave it
out. A skipped phase ends at the skip; the next starts there with its full duration.

Actions must come in time order. Once ``ended_phases(t_s)`` has reported a phase as ended,
no later action may be placed before ``t_s``, so what was reported never changes.
With no actions every answer equals ``TrainingProtocol.phase_at`` exactly.

``PhaseWindow`` is the one shape of a phase's time window: the plan as it stands
(``phase_windows``), the protocol's own layout (``planned_windows``), a phase that ended
(``ended_phases``) and the plan simulated participants follow (``session_cue``) all use it.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from hiaim_monitor import config
from hiaim_monitor.protocols import Phase, PhasePosition, TrainingProtocol


class ActionKind(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    EXTEND = "extend"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class OperatorAction:
    kind: ActionKind
    t_s: float  # session clock
    detail: dict[str, Any] = field(default_factory=dict)  # phase_index, phase_name, by_s


@dataclass(frozen=True, slots=True)
class PhaseWindow:
    """Where one phase runs (or ran) on the session clock, beside where the protocol put it.
    A planned window has no pauses and equals its planned times."""

    index: int
    phase: Phase
    start_s: float
    end_s: float  # math.inf while the phase is paused: its end is unknown until resume
    pauses: tuple[tuple[float, float], ...]  # inside [start_s, end_s), session clock
    cut_short: bool  # ended early by skip or stop
    planned_start_s: float  # the protocol's own times: no pause, skip or extension
    planned_end_s: float

    @property
    def paused_s(self) -> float:
        return sum(b - a for a, b in self.pauses)

    @property
    def running_s(self) -> float:
        """Time the countdown ran: the window less its pauses."""
        return self.end_s - self.start_s - self.paused_s

    @property
    def planned_s(self) -> float:
        """The phase's prescribed length (before any extension)."""
        return self.phase.duration_s

    @property
    def ran(self) -> bool:
        """False for a phase skipped the moment it began (its window is empty)."""
        return self.running_s > 0

    def holds(self, t_s: float) -> bool:
        """``t_s`` falls in the window."""
        return self.start_s <= t_s < self.end_s


def planned_windows(protocol: TrainingProtocol) -> list[PhaseWindow]:
    """Every phase as the protocol lays it out, untouched by operator actions: what a phase
    that never ran is reported with."""
    out, t = [], 0.0
    for i, phase in enumerate(protocol.phases):
        end = t + phase.duration_s
        out.append(PhaseWindow(i, phase, t, end, (), False, t, end))
        t = end
    return out


class SessionSchedule:
    """The protocol's phases on the session clock, changed by operator actions."""

    def __init__(self, protocol: TrainingProtocol) -> None:
        self.protocol = protocol
        self.actions: list[OperatorAction] = []
        self.version = 0  # bumped on every action, so callers can drop cached answers
        self._duration_s = [p.duration_s for p in protocol.phases]  # running time, planned
        self._forced_end_s: dict[int, float] = {}  # phases cut short by skip or stop
        self._pauses: list[list[float]] = []  # [from_s, to_s]; the last may be open (inf)
        self._stop_s: float | None = None
        self._settled_s = -math.inf  # no action may come before this
        self._starts_s: list[float] = []
        self._ends_s: list[float] = []
        self._planned = planned_windows(protocol)
        self._replan()

    # -- queries ------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return bool(self._pauses) and self._pauses[-1][1] == math.inf

    @property
    def end_s(self) -> float:
        """When the session ends as planned now; math.inf while paused."""
        if self._stop_s is not None:
            return self._stop_s
        return self._ends_s[-1] if self._ends_s else 0.0

    def finished_at(self, t_s: float) -> bool:
        return t_s >= self.end_s

    def index_at(self, t_s: float) -> int:
        """Phase index at ``t_s``: -1 before the start, len(phases) once the session is over."""
        if t_s < 0:
            return -1
        i = bisect.bisect_right(self._ends_s, t_s)
        return i if i < len(self._ends_s) else len(self.protocol.phases)

    def position_at(self, t_s: float) -> PhasePosition | None:
        """Where the session stands at ``t_s``; None once it is over. While paused the
        countdown stands still. Past times are answered as things turned out."""
        t_s = max(t_s, 0.0)
        i = self.index_at(t_s)
        if i >= len(self._ends_s):
            return None
        start, end = self._starts_s[i], self._ends_s[i]
        elapsed_s = (t_s - start) - self._paused_between(start, t_s)
        if end == math.inf:
            remaining_s = self._duration_s[i] - elapsed_s
        else:
            remaining_s = (end - t_s) - self._paused_between(t_s, end)
        phases = self.protocol.phases
        nxt = phases[i + 1] if i + 1 < len(phases) else None
        return PhasePosition(i, phases[i], elapsed_s, remaining_s, nxt)

    def segment_at(self, t_s: float) -> tuple[float, float, int, bool]:
        """``(lo_s, hi_s, index, running)``: the longest stretch around ``t_s`` with one phase
        and one pause state, for callers that cache per stretch. Not a phase's window (that
        is ``window_at``): a part of one, or the time before the start or after the end."""
        window = self.window_at(t_s)
        if window is None:
            i = self.index_at(t_s)
            if i < 0:
                return -math.inf, self._starts_s[0] if self._starts_s else math.inf, i, False
            return self.end_s, math.inf, i, False
        i, lo, hi = window.index, window.start_s, window.end_s
        for a, b in window.pauses:
            if t_s < a:
                return lo, a, i, True
            if t_s < b:
                return max(lo, a), min(hi, b), i, False
            lo = b
        return lo, hi, i, True

    def phase_windows(self, t_s: float | None = None) -> list[PhaseWindow]:
        """The window of every phase started by ``t_s`` (of every one laid on the clock
        when None), as the plan stands now: an ongoing phase's end is its planned end
        (math.inf while paused); a phase not yet begun has its planned, shifted times."""
        return [self._window(i) for i, s in enumerate(self._starts_s)
                if t_s is None or s <= t_s]

    def window_at(self, t_s: float) -> PhaseWindow | None:
        """The window of the phase at ``t_s``; None before the start and after the end."""
        i = self.index_at(t_s)
        return self._window(i) if 0 <= i < len(self._ends_s) else None

    def planned_run_s(self) -> list[float]:
        """Each phase's running time (pauses left out) as the plan stands now: what a phase
        cut short by skip or stop ran, the planned duration (extensions included) of the
        others, 0 for phases a stop left out."""
        out = []
        for i, planned_s in enumerate(self._duration_s):
            if i >= len(self._ends_s):  # after a stop, or after an open pause
                out.append(0.0 if self._stop_s is not None else planned_s)
            elif i in self._forced_end_s:
                out.append(self._window(i).running_s)
            else:
                out.append(planned_s)
        return out

    def ended_phases(self, t_s: float) -> list[PhaseWindow]:
        """Phases that ended by ``t_s``, in order, with their real windows. Their ends are
        final: no action may come before ``t_s`` from now on."""
        self._settled_s = max(self._settled_s, t_s)
        n = bisect.bisect_right(self._ends_s, t_s)
        return [self._window(i) for i in range(n)]

    def _window(self, i: int) -> PhaseWindow:
        start, end = self._starts_s[i], self._ends_s[i]
        pauses = tuple((max(a, start), min(b, end)) for a, b in self._pauses
                       if a < end and b > start)
        planned = self._planned[i]
        return PhaseWindow(i, self.protocol.phases[i], start, end, pauses,
                           i in self._forced_end_s, planned.start_s, planned.end_s)

    def cut_at(self, t_s: float) -> PhaseWindow | None:
        """The phase running at ``t_s`` as if the session stopped then (a run capped by
        --duration): its window ends at ``t_s``, cut short. None if no phase runs then.
        Changes nothing."""
        i = self.index_at(t_s)
        if not 0 <= i < len(self._ends_s) or self._starts_s[i] >= t_s:
            return None
        window = self._window(i)
        pauses = tuple((a, min(b, t_s)) for a, b in window.pauses if a < t_s)
        return dataclasses.replace(window, end_s=t_s, pauses=pauses, cut_short=True)

    def phase_runs(self, t_s: float) -> list[dict[str, Any]]:
        """Every phase of the protocol, planned against ran, as of ``t_s`` (the end of the
        session for a report): its prescribed length and protocol times, and the window
        and countdown time (pauses left out) it really had up to ``t_s``. A phase that has
        not run (the session ended first, or a skip ended it the moment it began) keeps its
        planned, unshifted times, with ``ran_s`` 0 and no window."""
        out = []
        for i, phase in enumerate(self.protocol.phases):
            planned = self._planned[i]
            planned_start_s, planned_end_s = planned.start_s, planned.end_s
            run: dict[str, Any] = {
                "phase_index": i, "phase_name": phase.name, "kind": phase.kind.value,
                "planned_start_s": planned_start_s, "planned_end_s": planned_end_s,
                "planned_s": phase.duration_s, "start_s": None, "end_s": None, "ran_s": 0.0,
                "cut_short": False}
            if i < len(self._starts_s) and self._starts_s[i] < t_s:
                start_s = self._starts_s[i]
                end_s = min(self._ends_s[i], t_s)
                ran_s = end_s - start_s - self._paused_between(start_s, end_s)
                if ran_s > 0:
                    # Cut short: by skip or stop, or still running when the report was made.
                    cut = i in self._forced_end_s or self._ends_s[i] > t_s
                    run.update(start_s=start_s, end_s=end_s, ran_s=ran_s, cut_short=cut)
            out.append(run)
        return out

    # -- actions ------------------------------------------------------------------------
    def pause(self, t_s: float) -> OperatorAction:
        """Stop the countdown at ``t_s``."""
        t_s, i = self._current(t_s, "pause")
        if self.paused:
            raise ValueError(f"cannot pause at {t_s:.1f} s: the session is already paused.")
        self._pauses.append([t_s, math.inf])
        return self._did(ActionKind.PAUSE, t_s, i)

    def resume(self, t_s: float) -> OperatorAction:
        """Restart the countdown where the pause left it."""
        t_s, i = self._current(t_s, "resume")
        if not self.paused:
            raise ValueError(f"cannot resume at {t_s:.1f} s: the session is not paused.")
        paused_s = t_s - self._pauses[-1][0]
        self._pauses[-1][1] = t_s
        return self._did(ActionKind.RESUME, t_s, i, paused_s=paused_s)

    def skip(self, t_s: float) -> OperatorAction:
        """End the current phase at ``t_s``; the next one starts then, with its full
        duration (still paused if the session was)."""
        t_s, i = self._current(t_s, "skip")
        self._forced_end_s[i] = t_s
        if i == len(self.protocol.phases) - 1:
            self._close_pause(t_s)  # the session ends here: nothing is left to pause
        return self._did(ActionKind.SKIP, t_s, i)

    def extend(self, t_s: float, by_s: float = config.EXTEND_BY_S) -> OperatorAction:
        """Make the current phase ``by_s`` seconds longer; every later phase shifts."""
        if not (math.isfinite(by_s) and by_s > 0):
            raise ValueError(f"cannot extend a phase by {by_s!r} s: give a positive number "
                             "of seconds.")
        t_s, i = self._current(t_s, "extend")
        self._duration_s[i] += by_s
        return self._did(ActionKind.EXTEND, t_s, i, by_s=by_s)

    def stop(self, t_s: float, reason: str = "") -> OperatorAction:
        """End the session at ``t_s``; ``reason`` (e.g. "quit") is kept in the action's
        detail when given."""
        t_s, i = self._current(t_s, "stop")
        self._forced_end_s[i] = t_s
        self._stop_s = t_s
        self._close_pause(t_s)
        return self._did(ActionKind.STOP, t_s, i, **({"reason": reason} if reason else {}))

    def _current(self, t_s: float, verb: str) -> tuple[float, int]:
        """Check an action at ``t_s`` and return it (clamped to the start) with the index of
        the phase it applies to."""
        if not math.isfinite(t_s):
            raise ValueError(f"cannot {verb} at t={t_s!r}: give a finite session time.")
        t_s = max(t_s, 0.0)
        if t_s < self._settled_s:
            raise ValueError(f"cannot {verb} at {t_s:.1f} s: actions must come in time order "
                             f"and the schedule already stands at {self._settled_s:.1f} s.")
        if self.finished_at(t_s):
            raise ValueError(f"cannot {verb} at {t_s:.1f} s: the session ended at "
                             f"{self.end_s:.1f} s.")
        return t_s, self.index_at(t_s)

    def _did(self, kind: ActionKind, t_s: float, i: int, **extra: float | str
             ) -> OperatorAction:
        self._settled_s = t_s
        self._replan()
        self.version += 1
        action = OperatorAction(kind, t_s, {"phase_index": i,
                                            "phase_name": self.protocol.phases[i].name,
                                            **extra})
        self.actions.append(action)
        return action

    def _close_pause(self, t_s: float) -> None:
        if self.paused:
            self._pauses[-1][1] = t_s

    # -- the plan -----------------------------------------------------------------------
    def _replan(self) -> None:
        """Lay every phase that will start on the session clock, from the actions so far."""
        starts: list[float] = []
        ends: list[float] = []
        t = 0.0
        stop = self._stop_s
        for i, duration_s in enumerate(self._duration_s):
            if t == math.inf or (stop is not None and t >= stop):
                break
            end = self._forced_end_s.get(i)
            if end is None:
                end = self._run_from(t, duration_s)
            starts.append(t)
            ends.append(end)
            t = end
        self._starts_s, self._ends_s = starts, ends

    def _run_from(self, t_s: float, run_s: float) -> float:
        """The session time at which ``run_s`` seconds of running (unpaused) time have
        passed since ``t_s``; math.inf if an open pause comes first."""
        for a, b in self._pauses:
            if b <= t_s:
                continue
            if a > t_s:
                gap_s = a - t_s
                if run_s <= gap_s:
                    return t_s + run_s
                run_s -= gap_s
            t_s = b
            if t_s == math.inf:
                return t_s
        return t_s + run_s

    def _paused_between(self, a_s: float, b_s: float) -> float:
        total = 0.0
        for a, b in self._pauses:
            total += max(0.0, min(b, b_s) - max(a, a_s))
        return total


def running_time(t_s: npt.ArrayLike, pauses: tuple[tuple[float, float], ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Session times with the ``pauses`` cut out: ``(times, keep)`` where ``keep`` masks the
    samples outside every pause and ``times`` are theirs, each moved back by the pause time
    before it. Still sorted, so a phase can be judged on the time its countdown ran."""
    t = np.asarray(t_s, dtype=np.float64)
    shift = np.zeros_like(t)
    keep = np.ones(t.shape, dtype=bool)
    for a, b in pauses:
        keep &= ~((t >= a) & (t < b))
        shift += np.clip(t, a, b) - a
    return (t - shift)[keep], keep
