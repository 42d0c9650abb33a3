"""Preallocated ring buffers for many participants at once.

Each column is an array of shape (rows, 2 × capacity) and every value is written twice, at
``p`` and ``p + capacity`` (the layout friture's ring buffer uses), so the most recent ``n``
values of a row are always one contiguous slice: reads are views, never copies or
concatenations. Appends are vectorised over all rows of a batch; memory is fixed at
construction however long the app runs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


class RingTable:
    def __init__(self, rows: int, capacity: int, columns: Mapping[str, npt.DTypeLike]) -> None:
        if rows < 1 or capacity < 1:
            raise ValueError("a ring table needs at least one row and a capacity of one")
        self.rows = rows
        self.capacity = capacity
        # np.full writes every byte now: np.zeros would leave the pages unmapped, and the
        # kernel would map (and zero) them one by one during the session, costing each
        # write that reaches a fresh page far more than the write itself.
        self.columns = {name: np.full((rows, 2 * capacity), 0, dtype=dt)
                        for name, dt in columns.items()}
        self.written = np.zeros(rows, dtype=np.int64)  # values ever appended, per row

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.columns.values()) + self.written.nbytes

    def lengths(self) -> npt.NDArray[np.int64]:
        """Values held per row (at most the capacity)."""
        return np.minimum(self.written, self.capacity)

    def append(self, rows: npt.NDArray[np.intp], values: Mapping[str, npt.ArrayLike]) -> None:
        """Append one value per entry of ``rows`` (rows may repeat; order is kept per row)."""
        rows = np.asarray(rows, dtype=np.intp)
        if rows.size == 0:
            return
        # Rank of each entry among the earlier entries of the same row in this batch.
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
        run_lengths = np.diff(np.r_[starts, rows.size])
        rank_sorted = np.arange(rows.size) - np.repeat(starts, run_lengths)
        rank = np.empty_like(rank_sorted)
        rank[order] = rank_sorted
        pos = (self.written[rows] + rank) % self.capacity
        for name, column in self.columns.items():
            v = np.asarray(values[name])
            column[rows, pos] = v
            column[rows, pos + self.capacity] = v
        self.written += np.bincount(rows, minlength=self.rows)

    def latest(self, row: int, n: int | None = None) -> dict[str, np.ndarray]:
        """Read-only views of the most recent ``n`` values of ``row`` (all held if None)."""
        held = int(min(self.written[row], self.capacity))
        n = held if n is None else max(0, min(n, held))
        end = int(self.written[row] % self.capacity) + self.capacity
        out = {}
        for name, column in self.columns.items():
            view = column[row, end - n:end]
            view.flags.writeable = False
            out[name] = view
        return out

    def set_recent(self, row: int, column: str, back: int, value: float) -> None:
        """Overwrite the value ``back`` places before the newest (0 = newest) of ``row``."""
        if not 0 <= back < min(self.written[row], self.capacity):
            raise IndexError(f"row {row} holds no value {back} places back")
        p = int((self.written[row] - 1 - back) % self.capacity)
        self.columns[column][row, p] = value
        self.columns[column][row, p + self.capacity] = value
