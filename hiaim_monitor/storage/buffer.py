"""The session writer's queue: rows waiting to be written, oldest first, each with its
sequence number (see ``batch``), in a buffer of bounded size.

While the database fails the buffer fills; when it is full every new row pushes out the
oldest, and the rows lost are counted. A row pushed out while its batch is being written
counts as lost only if that write fails.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

Entry = tuple[int, Any]  # (kind, record): the record as submitted, of kind batch.SAMPLES, ...


class RowBuffer:
    """Not locked itself: the writer calls it with its own lock held (reading ``len`` and
    ``dropped`` needs no lock)."""

    def __init__(self, capacity_rows: int) -> None:
        if capacity_rows < 1:
            raise ValueError("the writer's buffer needs room for at least one row")
        self.capacity_rows = capacity_rows
        self._entries: deque[Entry] = deque()
        self.head_seq = 0  # sequence number of the oldest entry
        self._in_flight_end = 0  # entries with a lower sequence number are being written
        self._dropped_in_flight = 0  # dropped while being written: lost only if that fails
        self.dropped = 0  # lost to a full buffer so far
        self._dropping = False  # an overflow happened and the buffer has not drained since

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entries: list[Entry]) -> bool:
        """Append ``entries``, pushing out the oldest beyond the capacity; True when this
        starts an overflow (the first since the buffer last drained)."""
        self._entries.extend(entries)
        overflow = len(self._entries) - self.capacity_rows
        started_dropping = overflow > 0 and not self._dropping
        if overflow > 0:
            self._drop_oldest(overflow)
        return started_dropping

    def take(self, count: int) -> tuple[list[Entry], int]:
        """The oldest ``count`` entries and the sequence number just past them, marked as
        being written; they stay until ``written``."""
        batch = list(itertools.islice(self._entries, count))
        end = self.head_seq + count
        self._in_flight_end = end
        return batch, end

    def written(self, end_seq: int) -> None:
        """The entries taken, up to ``end_seq``, are committed: remove what is left of them."""
        for _ in range(max(0, end_seq - self.head_seq)):
            self._entries.popleft()
        self.head_seq = max(self.head_seq, end_seq)
        self._in_flight_end = 0
        self._dropped_in_flight = 0  # they were written after all

    def write_failed(self) -> None:
        """The entries taken were not written: those pushed out meanwhile are lost."""
        self.dropped += self._dropped_in_flight
        self._dropped_in_flight = 0
        self._in_flight_end = 0

    def drained(self) -> None:
        """Everything is written: the next overflow is news again."""
        self._dropping = False

    def snapshot(self) -> tuple[list[Entry], int]:
        """Every entry waiting, and the sequence number of the first."""
        return list(self._entries), self.head_seq

    def _drop_oldest(self, count: int) -> None:
        self._dropping = True
        for _ in range(count):
            self._entries.popleft()
            if self.head_seq < self._in_flight_end:
                self._dropped_in_flight += 1
            else:
                self.dropped += 1
            self.head_seq += 1
