"""The one interface every heart-rate source implements, and the one sink it reports to.

A hub runs on the sensor thread's asyncio loop (so its methods are coroutines, called from
Qt through ``asyncio.run_coroutine_threadsafe``). Once started it reports nearby heart-rate
straps as ``StrapSighting`` events, about every ``config.SIGHTING_EVERY_S``; a watched strap is
connected and streams samples, status and battery like any source. Everything comes back
through the sink. A strap id names its radio (``hiaim_monitor.strap_ids``: ``ble:AA:BB:..``,
``sim:0001``); a hub emits and accepts the ids of its own radio. BLE straps (real or
emulated) and simulated straps each have one hub; nothing above drivers/ and simulators/
knows which it holds. The window watches the straps the operator pairs, the headless path
the straps the class is assigned, with discovery off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hiaim_monitor.samples import SourceEvent

# Where a hub delivers events: thread-safe and cheap (normally ``SimpleQueue.put``).
EventSink = Callable[[SourceEvent], None]


class StrapHub(Protocol):
    # The radios whose strap ids this hub serves (``strap_ids.BLE``, ...): an id of another
    # radio is not the hub's to watch.
    radios: tuple[str, ...]

    async def start(self, sink: EventSink) -> None:
        """Start listening for nearby straps; returns once listening."""

    async def watch(self, strap_id: str, name: str) -> None:
        """Connect to this strap (idempotent) and keep it connected, reconnecting as needed;
        returns at once, the connection's progress comes back as ``StrapStatus`` events."""

    async def unwatch(self, strap_id: str) -> None:
        """Disconnect this strap (reports STOPPED); nothing when it is not watched."""

    async def set_discovery(self, on: bool) -> None:
        """Report nearby straps (on) or stop listening for them (off) — a running session
        needs no discovery, and scanning costs radio time on some adapters."""

    async def stop(self) -> None:
        """Disconnect everything and stop listening; returns when nothing is left open."""
