"""The one interface every heart-rate source implements.

A source runs on the sensor thread's asyncio loop. ``start`` begins delivering events to
``sink`` (a thread-safe callable, normally ``queue.SimpleQueue.put``) and returns once the
source is running; ``stop`` ends every connection and returns when nothing is left open.
Nothing above drivers/ asks which kind of source it holds.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

from hiaim_monitor.samples import SourceEvent

EventSink = Callable[[SourceEvent], None]


@dataclass(frozen=True, slots=True)
class StrapInfo:
    strap_id: str  # address or serial: stable across runs
    name: str  # what the strap advertises, e.g. "Polar H10 8C4D2F1A"
    kind: str  # "simulated", "ble", "replay", ...


class HeartRateSource(abc.ABC):
    @property
    @abc.abstractmethod
    def straps(self) -> list[StrapInfo]:
        """The straps this source delivers for."""

    @abc.abstractmethod
    async def start(self, sink: EventSink) -> None:
        """Begin delivering samples and status events to ``sink``."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop delivering and release every connection."""
