"""How long the session writer waits before it tries a failed write again.

The first retry comes soon and the wait doubles, but only up to ``WRITER_RETRY_MAX_S``: kept low,
since a retry costs only one failed connection attempt, and the backlog must reach the
database soon after it is back (a crash then loses only what is still in memory).
"""

from __future__ import annotations

from hiaim_monitor import config


class Backoff:
    """The wait before each retry while writes keep failing."""

    def __init__(self, first_s: float = config.WRITER_RETRY_FIRST_S,
                 max_s: float = config.WRITER_RETRY_MAX_S) -> None:
        self._first_s = first_s
        self._max_s = max_s
        self._wait_s = 0.0

    def next_wait_s(self) -> float:
        """A write failed (again): how long to wait before the next try."""
        self._wait_s = min(max(2 * self._wait_s, self._first_s), self._max_s)
        return self._wait_s

    def reset(self) -> None:
        """A write worked: the next failure starts from the first wait again."""
        self._wait_s = 0.0
