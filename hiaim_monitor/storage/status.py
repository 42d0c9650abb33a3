"""What a session writer says about its database: ok; failing, with the reason, while rows
wait in memory; recovered while the backlog is written; ok again once it is.

Every change is kept until taken, so the alarm banner sees a failure that lasted only a
moment, not just the state it finds when it looks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from hiaim_monitor.engine.snapshot import StorageState

__all__ = ["StatusLog", "StorageState", "WriterStatus"]


@dataclass(frozen=True, slots=True)
class WriterStatus:
    state: StorageState
    reason: str  # one sentence while failing, else ""
    since_utc: datetime
    dropped_rows: int  # lost to a full buffer so far


class StatusLog:
    """The writer's status and the changes not taken yet. Not locked itself: the writer
    calls it with its own lock held."""

    def __init__(self) -> None:
        self.current = WriterStatus(StorageState.OK, "", datetime.now(UTC), 0)
        self._changes: list[WriterStatus] = []

    @property
    def failing(self) -> bool:
        return self.current.state is StorageState.FAILING

    def as_of_now(self, dropped_rows: int) -> WriterStatus:
        """The current status with the rows dropped until now."""
        return dataclasses.replace(self.current, dropped_rows=dropped_rows)

    def fail(self, reason: str, dropped_rows: int) -> bool:
        """Writes fail for ``reason``; True when that is news (the first failure, or a
        different reason), so it is recorded and worth a log line."""
        changed = not self.failing or reason != self.current.reason
        if changed:
            self._change(StorageState.FAILING, reason, dropped_rows)
        return changed

    def recover(self, dropped_rows: int) -> None:
        """The first write worked after failures; the backlog is being written."""
        self._change(StorageState.RECOVERED, "", dropped_rows)

    def settle(self, dropped_rows: int) -> None:
        """The backlog is written: a recovered writer is ok again."""
        if self.current.state is StorageState.RECOVERED:
            self._change(StorageState.OK, "", dropped_rows)

    def take_changes(self) -> list[WriterStatus]:
        """Changes since the last call, oldest first."""
        out, self._changes = self._changes, []
        return out

    def _change(self, state: StorageState, reason: str, dropped_rows: int) -> None:
        self.current = WriterStatus(state, reason, datetime.now(UTC), dropped_rows)
        self._changes.append(self.current)
