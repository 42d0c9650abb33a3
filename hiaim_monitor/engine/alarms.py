"""Alarms for the physiotherapist: each is raised and cleared as a time-stamped event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


class AlarmKind(StrEnum):
    ABOVE_CEILING = "above-ceiling"  # heart rate over the safety ceiling for a while
    SIGNAL_LOST = "signal-lost"
    NO_CONTACT = "no-contact"
    BATTERY_LOW = "battery-low"


# Detail of a SIGNAL_LOST raised while the strap still sends, but nothing usable (bpm 0,
# out of range, jumps never confirmed): the strap needs a look, not the radio.
NO_VALID_HEART_RATE: Final = "no valid heart rate"


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    participant_id: str
    kind: AlarmKind
    raised: bool  # False: cleared
    t_s: float  # session clock
    wall_utc: datetime
    detail: str = ""


class AlarmBoard:
    """Which alarms are active, per participant, and the events that changed them."""

    def __init__(self) -> None:
        self.active: dict[str, set[AlarmKind]] = {}
        self.history: list[AlarmEvent] = []
        self._unread = 0
        self._raised_at: dict[tuple[str, AlarmKind], tuple[float, datetime]] = {}

    def set(self, participant_id: str, kind: AlarmKind, on: bool, t_s: float,
            wall_utc: datetime, detail: str = "") -> None:
        """Raise or clear; only a change makes an event."""
        active = self.active.setdefault(participant_id, set())
        if on == (kind in active):
            return
        if on:
            active.add(kind)
        else:
            active.discard(kind)
            # A sample that clears an alarm can carry a time stamp from before the tick that
            # raised it (it was still in flight): the clearing is never dated before the raise.
            raised = self._raised_at.get((participant_id, kind))
            if raised is not None and t_s < raised[0]:
                t_s, wall_utc = raised
        if on:
            self._raised_at[(participant_id, kind)] = (t_s, wall_utc)
        self.history.append(AlarmEvent(participant_id, kind, on, t_s, wall_utc, detail))
        self._unread += 1

    def is_on(self, participant_id: str, kind: AlarmKind) -> bool:
        return kind in self.active.get(participant_id, ())

    def of(self, participant_id: str) -> tuple[AlarmKind, ...]:
        return tuple(sorted(self.active.get(participant_id, ())))

    def new_events(self) -> list[AlarmEvent]:
        """Events since the last call (for storage and the alarm banner)."""
        if not self._unread:
            return []
        out = self.history[-self._unread:]
        self._unread = 0
        return out
