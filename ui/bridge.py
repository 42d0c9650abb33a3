"""Where the Qt thread meets the sensor thread. Commands go to the hub on the sensor loop
with ``asyncio.run_coroutine_threadsafe`` and never wait there; data come back through the
event queue the window's timer drains. A command that fails comes back as a FAILED status
for its strap, so the operator reads it where they look for that strap."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Coroutine, Mapping
from concurrent.futures import Future
from typing import Any

from hiaim_monitor.clock import Clock
from hiaim_monitor.samples import SourceEvent, StrapState, StrapStatus
from hiaim_monitor.strap_hub import StrapHub


class SensorBridge:
    def __init__(self, loop: asyncio.AbstractEventLoop, hub: StrapHub,
                 events: queue.SimpleQueue[SourceEvent], clock: Clock) -> None:
        self.loop = loop
        self.hub = hub
        self.events = events
        self.clock = clock
        self.watched: dict[str, str] = {}  # strap id → name, as last asked for
        self.discovering = True
        self.pending: set[Future[Any]] = set()

    def drain(self) -> list[SourceEvent]:
        """Everything the sensor side delivered since the last drain."""
        out: list[SourceEvent] = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def sync(self, wanted: Mapping[str, str]) -> None:
        """Keep exactly ``wanted`` (strap id → name) connected."""
        for strap_id in [s for s in self.watched if s not in wanted]:
            del self.watched[strap_id]
            self._send(self.hub.unwatch(strap_id), strap_id)
        for strap_id, name in wanted.items():
            if strap_id not in self.watched:
                self.watched[strap_id] = name
                self._send(self.hub.watch(strap_id, name), strap_id)

    def set_discovery(self, on: bool) -> None:
        if on != self.discovering:
            self.discovering = on
            self._send(self.hub.set_discovery(on), None)

    def _send(self, coro: Coroutine[Any, Any, None], strap_id: str | None) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        self.pending.add(future)

        def done(f: Future[Any]) -> None:
            self.pending.discard(f)
            if f.cancelled():
                return
            error = f.exception()
            if error is not None and strap_id is not None:
                self.events.put(StrapStatus(strap_id, self.clock.monotonic(),
                                            StrapState.FAILED, str(error) or type(error).__name__))

        future.add_done_callback(done)
