"""Clocks: monotonic seconds for ordering, UTC wall time for storage.

``RealClock`` is the wall. ``SimulatedClock`` runs from a chosen start, either stepped by
hand (tests) or scaled against real time (``--speed``), so a 60-minute session can run in
two minutes without any part of the app knowing.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def now_utc(self) -> datetime:
        """Aware UTC wall time matching ``monotonic()``."""
        ...

    async def sleep(self, duration_s: float) -> None:
        """Wait ``duration_s`` seconds of this clock's time."""
        ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now_utc(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, duration_s: float) -> None:
        await asyncio.sleep(max(0.0, duration_s))


_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class SimulatedClock:
    """Simulated time.

    With ``speed=None`` time stands still until ``advance()`` moves it (tests). With a speed,
    it runs ``speed`` times faster than real time from the moment it is made.
    """

    def __init__(
        self,
        *,
        start_utc: datetime = _EPOCH,
        start_mono_s: float = 0.0,
        speed: float | None = None,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self._start_utc = start_utc
        self._start_mono_s = start_mono_s
        self._offset_s = 0.0
        self.speed = speed
        self._real0 = time.perf_counter()

    def monotonic(self) -> float:
        scaled = 0.0
        if self.speed is not None:
            scaled = (time.perf_counter() - self._real0) * self.speed
        return self._start_mono_s + self._offset_s + scaled

    def now_utc(self) -> datetime:
        return self._start_utc + timedelta(seconds=self.monotonic() - self._start_mono_s)

    def advance(self, duration_s: float) -> None:
        if duration_s < 0:
            raise ValueError("a clock cannot go backwards")
        self._offset_s += duration_s

    async def sleep(self, duration_s: float) -> None:
        duration_s = max(0.0, duration_s)
        if self.speed is None:
            # Stepped time: sleeping moves the clock, and yields so other tasks run.
            self.advance(duration_s)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(duration_s / self.speed)
