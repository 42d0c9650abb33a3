"""The sensor thread: one asyncio event loop, in one dedicated thread, that owns every
strap hub (and, for BLE, every BleakClient: bleak objects must stay on the loop that made
them). Other threads talk to it only through ``call``; data comes back through the sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from hiaim_monitor.strap_hub import EventSink, StrapHub

T = TypeVar("T")


class SensorThread:
    def __init__(self, name: str = "hiaim-sensors") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._hubs: list[StrapHub] = []
        self._cleanups: list[Callable[[], Coroutine[Any, Any, object]]] = []

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Let cancelled tasks finish their clean-up before the loop closes.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def start(self) -> None:
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run ``coro`` on the sensor loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def start_source(self, hub: StrapHub, sink: EventSink) -> None:
        """Start ``hub`` delivering to ``sink``; ``stop`` stops it."""
        self.call(hub.start(sink))
        self._hubs.append(hub)

    def add_cleanup(self, cleanup: Callable[[], Coroutine[Any, Any, object]]) -> None:
        """Await ``cleanup()`` on the loop at stop, after the hubs (last added, first)."""
        self._cleanups.append(cleanup)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every hub, then the clean-ups, then the loop and the thread."""
        if not self._thread.is_alive():
            return
        for hub in reversed(self._hubs):
            # On a timeout, the loop shutdown below cancels whatever is left.
            with contextlib.suppress(TimeoutError):
                self.call(hub.stop(), timeout_s)
        self._hubs.clear()
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(TimeoutError):
                self.call(cleanup(), timeout_s)
        self._cleanups.clear()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
