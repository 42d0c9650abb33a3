"""Alarms for the physiotherapist: each is raised and cleared as a time-stamped event, by the
rules here (``AlarmRules``), which the engine applies on its per-sample path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from hiaim_monitor.engine.state import EngineConfig, Person


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
    study_code: str
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

    def set(self, study_code: str, kind: AlarmKind, on: bool, t_s: float,
            wall_utc: datetime, detail: str = "") -> None:
        """Raise or clear; only a change makes an event."""
        active = self.active.setdefault(study_code, set())
        if on == (kind in active):
            return
        if on:
            active.add(kind)
        else:
            active.discard(kind)
            # A sample that clears an alarm can carry a time stamp from before the tick that
            # raised it (it was still in flight): the clearing is never dated before the raise.
            raised = self._raised_at.get((study_code, kind))
            if raised is not None and t_s < raised[0]:
                t_s, wall_utc = raised
        if on:
            self._raised_at[(study_code, kind)] = (t_s, wall_utc)
        self.history.append(AlarmEvent(study_code, kind, on, t_s, wall_utc, detail))
        self._unread += 1

    def is_on(self, study_code: str, kind: AlarmKind) -> bool:
        return kind in self.active.get(study_code, ())

    def of(self, study_code: str) -> tuple[AlarmKind, ...]:
        return tuple(sorted(self.active.get(study_code, ())))

    def new_events(self) -> list[AlarmEvent]:
        """Events since the last call (for storage and the alarm banner)."""
        if not self._unread:
            return []
        out = self.history[-self._unread:]
        self._unread = 0
        return out


class AlarmRules:
    """When each alarm is raised and cleared, from one participant's samples and reports.
    On the engine's per-sample path: plain floats; the engine calls a rule only where its
    alarm can change, and the board records only changes."""

    def __init__(self, board: AlarmBoard, cfg: EngineConfig) -> None:
        self.board = board
        self.cfg = cfg

    def battery(self, person: Person, level_pct: int, t_s: float, wall_utc: datetime) -> None:
        """Low below battery_low_pct; cleared only at battery_clear_pct (a fresh strap or
        battery), so a level wavering at the edge does not raise it again and again."""
        pid = person.p.study_code
        if level_pct < self.cfg.battery_low_pct:
            self.board.set(pid, AlarmKind.BATTERY_LOW, True, t_s, wall_utc, f"{level_pct} %")
        elif level_pct >= self.cfg.battery_clear_pct:
            self.board.set(pid, AlarmKind.BATTERY_LOW, False, t_s, wall_utc)

    def off_skin(self, person: Person, t_s: float, wall_utc: datetime) -> None:
        """A sample without skin contact: the alarm once contact has been missing for
        no_contact_alarm_after_s."""
        if person.no_contact_since is None:
            person.no_contact_since = t_s
        if t_s - person.no_contact_since >= self.cfg.no_contact_alarm_after_s:
            self.board.set(person.p.study_code, AlarmKind.NO_CONTACT, True, t_s, wall_utc)

    def on_skin(self, person: Person, t_s: float, wall_utc: datetime) -> None:
        """A sample with contact (or from a strap that cannot tell) clears it at once."""
        person.no_contact_since = None
        if AlarmKind.NO_CONTACT in person.active_alarms:
            self.board.set(person.p.study_code, AlarmKind.NO_CONTACT, False, t_s, wall_utc)

    def ceiling(self, person: Person, pct: float, t_s: float, wall_utc: datetime) -> None:
        """Above the safety ceiling for ceiling_hold_s raises it; it clears only
        hysteresis_pct below the ceiling, so a value hovering there does not flicker."""
        pid = person.p.study_code
        if pct >= person.ceiling_pct:
            if person.ceiling_since is None:
                person.ceiling_since = t_s
            if t_s - person.ceiling_since >= self.cfg.ceiling_hold_s:
                self.board.set(pid, AlarmKind.ABOVE_CEILING, True, t_s, wall_utc,
                               f"{pct:.0f} % HRmax")
        else:
            person.ceiling_since = None
            if pct < person.ceiling_pct - self.cfg.hysteresis_pct:
                self.board.set(pid, AlarmKind.ABOVE_CEILING, False, t_s, wall_utc)

    def signal_back(self, person: Person, trusted: bool, t_s: float, wall_utc: datetime) -> None:
        """A usable value ends a signal loss; values nobody can use do not. A strap off the
        skin hands over to its own alarm once that is raised (not at each flicker of the
        contact bit, which would raise and clear signal lost every second)."""
        active = person.active_alarms
        if AlarmKind.SIGNAL_LOST in active and (trusted or AlarmKind.NO_CONTACT in active):
            self.board.set(person.p.study_code, AlarmKind.SIGNAL_LOST, False, t_s,
                           wall_utc)

    def signal_lost(self, person: Person, now_s: float, wall_utc: datetime) -> None:
        """The views show the signal lost (nothing heard, or nothing usable, for
        lost_after_s): raised, saying which of the two."""
        assert person.last_t is not None
        still_sending = now_s - person.last_t <= self.cfg.lost_after_s
        self.board.set(person.p.study_code, AlarmKind.SIGNAL_LOST, True, now_s, wall_utc,
                       NO_VALID_HEART_RATE if still_sending else "")
