"""Which alarms the operator has seen. An alarm sounds until acknowledged; acknowledging
silences the alarms active now, and an alarm that clears and comes back sounds again."""

from __future__ import annotations

from collections.abc import Iterable

from hiaim_monitor.engine.snapshot import SessionSnapshot, StorageState

AlarmKey = tuple[str | None, str]  # (participant id, or None for the session; alarm kind)
STORAGE_ALARM = "storage"


def active_alarms(snap: SessionSnapshot) -> set[AlarmKey]:
    """Every alarm on now: the participants' and storage trouble."""
    keys: set[AlarmKey] = {(p.study_code, str(kind))
                           for p in snap.participants for kind in p.alarms}
    if snap.storage is not None and snap.storage.state is StorageState.FAILING:
        keys.add((None, STORAGE_ALARM))
    return keys


class AlarmWatch:
    def __init__(self) -> None:
        self.active: set[AlarmKey] = set()
        self._seen: set[AlarmKey] = set()

    def update(self, active: Iterable[AlarmKey]) -> set[AlarmKey]:
        """Take the alarms on now; returns those newly raised."""
        now = set(active)
        new = now - self.active
        self._seen &= now  # one that cleared is forgotten: if it returns, it sounds again
        self.active = now
        return new

    @property
    def unacknowledged(self) -> set[AlarmKey]:
        return self.active - self._seen

    def acknowledge(self) -> list[AlarmKey]:
        """The operator saw every alarm on now; returns those that were unacknowledged."""
        fresh = sorted(self.unacknowledged, key=lambda k: (k[0] or "", k[1]))
        self._seen |= self.active
        return fresh
