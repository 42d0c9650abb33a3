"""Which sound cue is due at this beat: a 3-2-1 countdown before every change of phase and a
tone when it comes, one for work and one for rest, so that a class on bikes 20 s at a time
can follow the protocol without looking at a screen.

The planner is fed the session's snapshot at every beat of the app's one heartbeat (10–30
Hz, and a beat may come late) and answers with at most one cue. It counts on the phase's own
countdown (``PhasePosition.remaining_s``, running time: a pause stops it), so a cue keeps its
place relative to the change however the beats fall:

- A beep is due when the countdown crosses 3, 2 or 1 s. It plays at the first beat after
  the crossing, once: the next beat no longer sees a crossing. A beat more than
  ``MAX_LATE_S`` after its moment drops the cue rather than play it late (a "3" heard at
  2.3 s would be a wrong count). +1 min during a countdown sets it back; the count is heard
  again at the new end.
- A tone is due when a phase starts: the work tone for a work phase, the rest tone for any
  other (a block's rest, the next warm-up station, the cool-down). It plays at the first
  beat that sees the phase, if that is within ``MAX_LATE_S`` of its start.
- The end of the protocol by the clock is a change to rest: its countdown and the rest
  tone. Nothing plays after it, and nothing when the operator ends the session (Stop, or
  Next phase on the last phase): they ended it themselves.
- Nothing plays while the session is paused. A phase that starts while paused (Next phase
  during a pause) gets its tone when the operator resumes: that is when it starts.

Next phase (a skip) during a countdown: the count stops where it was (the change it was
counting to has happened) and the phase skipped to gets its start tone at once, so a class
that heard "3, 2" then hears the change itself and not silence; its own countdown plays as
usual. Several phases skipped within one beat sound only the one landed on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.protocols import Phase

COUNTDOWN_S: Final = (3, 2, 1)  # seconds before a change that get one short beep each
MAX_LATE_S: Final = 0.5  # a cue whose moment passed longer ago than this is dropped
# The clock's end of the last phase, against an end by Stop: an end earlier than its
# countdown said by more than this was the operator's (s; absorbs float rounding).
END_SLACK_S: Final = 0.05


class Cue(StrEnum):
    COUNT = "count"  # one short beep of the 3-2-1
    WORK = "work"  # a work phase starts
    REST = "rest"  # any other phase starts, or the protocol ends by the clock


@dataclass(frozen=True, slots=True)
class CueCall:
    """A cue to play now."""

    cue: Cue
    change: int  # index of the phase the change starts; len(phases) for the end
    before_s: int  # seconds before the change: 3, 2 or 1 for a beep, 0 for a tone
    late_s: float  # countdown seconds since its moment, 0 to MAX_LATE_S


def tone_of(phase: Phase) -> Cue:
    """The tone that starts ``phase``."""
    return Cue.WORK if phase.kind.is_work else Cue.REST


class CuePlanner:
    """Follows one session's snapshots and says which cue is due; see the module text."""

    def __init__(self) -> None:
        # At the last beat that ran (not paused): the phase (-1 before the start) and its
        # countdown, and the monotonic time of that beat. None: no such beat yet.
        self._index: int | None = None
        self._remaining_s = 0.0
        self._t_mono_s = 0.0
        self._paused_since = False  # a paused beat came after it
        self._over = False

    def update(self, snap: SessionSnapshot) -> CueCall | None:
        """The cue due at this beat, if any. The same snapshot again gives nothing new."""
        if self._over:
            return None
        if snap.finished:
            self._over = True
            return self._end(snap)
        if snap.paused:
            self._paused_since = True
            return None
        pos = snap.position
        if pos is None:  # waiting to start: the first phase is the change counted to
            index, elapsed_s, remaining_s = -1, 0.0, -snap.elapsed_s
        else:
            index, elapsed_s, remaining_s = pos.index, pos.elapsed_s, pos.remaining_s
        call: CueCall | None = None
        started = index >= 0 and elapsed_s <= MAX_LATE_S
        if index != self._index:
            if started and pos is not None:
                call = CueCall(tone_of(pos.phase), index, 0, max(0.0, elapsed_s))
            # The countdown counted from the phase's start when the beat saw it start (or
            # came over the change); from now when it joins a phase half run.
            before_s = (elapsed_s + remaining_s if started or self._index is not None
                        else remaining_s)
        else:
            before_s = self._remaining_s
        if call is None:
            call = _beep(before_s, remaining_s, index + 1)
        self._index, self._remaining_s, self._t_mono_s = index, remaining_s, snap.t_mono_s
        self._paused_since = False
        return call

    def _end(self, snap: SessionSnapshot) -> CueCall | None:
        """The first finished snapshot: the rest tone if the clock ended the last phase."""
        last = len(snap.protocol.phases) - 1
        if self._index != last or self._paused_since:
            return None  # ended by Stop (also from a pause), or never seen running
        late_s = (snap.t_mono_s - self._t_mono_s) - self._remaining_s
        if not -END_SLACK_S <= late_s <= MAX_LATE_S:
            return None  # before its time: the operator ended it; or heard too late
        return CueCall(Cue.REST, last + 1, 0, max(0.0, late_s))


def _beep(before_s: float, now_s: float, change: int) -> CueCall | None:
    """The beep whose moment the countdown passed going from ``before_s`` to ``now_s``,
    unless it passed more than MAX_LATE_S ago."""
    for mark_s in sorted(COUNTDOWN_S):
        if before_s > mark_s >= now_s and now_s >= mark_s - MAX_LATE_S:
            return CueCall(Cue.COUNT, change, mark_s, mark_s - now_s)
    return None
