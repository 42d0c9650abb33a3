"""``BleStrapHub``: heart-rate straps over Bluetooth LE (Heart Rate Service 0x180D), real ones
through bleak or emulated ones through bleak's bumble backends — nearby straps, then watched
ones. Straps are named ``ble:`` + their address (``hiaim_monitor.strap_ids``).

Discovery listens on the first adapter and reports every heart-rate strap heard as a
``StrapSighting``, at most once per ``SIGHTING_EVERY_S`` per strap (at once when its name
first arrives), with the signal strength of its latest advertisement. One adapter hears every
strap in the room, and a scan takes radio time from the links, so the others stay quiet.
Watching a strap hands it to the hub's connections (``drivers._ble_connections``):
connecting one strap at a time per adapter, reconnecting with backoff, adapter capacity and
the hints all live there.

Discovery uses the driver's own scanner of that adapter rather than a second one. On BlueZ
every ``BleakScanner`` of a process is the same D-Bus client: a second StartDiscovery on the
adapter is refused with InProgress, and the first scanner's StopDiscovery would end the
other's scan (and reset its filter). Sharing one scanner, counted as one more user of the
driver's scan, keeps the scan on while either needs it and stops it when neither does.

A connected strap stops advertising, so it is not sighted while it is watched.

A watched Polar strap beyond the adapters' capacity is not refused: its heart rate is heard
in its advertisements (Polar broadcast, ``hiaim_monitor.polar_broadcast``), with no RR, and
it moves to a connection when one frees up (``drivers._ble_connections``). That listening
holds the same shared scan, so the scan stays on while any strap is listened to, even with
discovery off.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence

from bleak.backends.adapter import BaseBleakAdapter
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from drivers._ble_connections import (
    DROPPED,
    NOT_A_STRAP,
    SILENT,
    SILENT_SENTENCE,
    Connections,
    over_capacity,
    over_capacity_sentence,
)
from drivers.ble_errors import AdapterUnavailable, explain_adapter_error
from drivers.ble_link import BleTiming
from drivers.ble_scan import DiscoveredStrap, StrapScanner
from hiaim_monitor import config, strap_ids
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import BodySensorLocation
from hiaim_monitor.samples import StrapSighting
from hiaim_monitor.strap_hub import EventSink

__all__ = [
    "DROPPED",
    "NOT_A_STRAP",
    "SILENT",
    "SILENT_SENTENCE",
    "AdapterUnavailable",
    "BleStrapHub",
    "BleTiming",
    "DiscoveryError",
    "over_capacity",
    "over_capacity_sentence",
]


class DiscoveryError(RuntimeError):
    """Listening for straps failed; the message is one sentence for the operator."""


class BleStrapHub:
    """A ``StrapHub`` over real (or emulated) BLE straps.

    ``adapters`` are BlueZ adapter names (ignored by macOS and Windows); discovery uses the
    first. ``max_per_adapter`` caps the links per adapter. The backends go straight to
    bleak's ``backend=`` parameters: None in production, the bumble ones for tests and
    ``--simulate-ble``.
    """

    radios = (strap_ids.BLE,)

    def __init__(
        self,
        clock: Clock,
        *,
        adapters: Sequence[str] = ("hci0",),
        max_per_adapter: int = config.MAX_STRAPS_PER_ADAPTER,
        scanner_backend: type[BaseBleakScanner] | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        adapter_backend: type[BaseBleakAdapter] | None = None,
        timing: BleTiming | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self._links = Connections(
            clock,
            adapters=adapters,
            max_per_adapter=max_per_adapter,
            scanner_backend=scanner_backend,
            client_backend=client_backend,
            adapter_backend=adapter_backend,
            timing=timing,
            rng=rng,
        )
        self.discovery_adapter = adapters[0]
        self._sink: EventSink | None = None
        self._discovery_wanted = True
        # Holds the driver's scan of the discovery adapter on while discovery is on.
        self._discovery_scan: contextlib.AsyncExitStack | None = None
        self._reported: dict[str, tuple[float, str]] = {}  # key → (t_mono_s, name) last sent

    # -- the interface ---------------------------------------------------------------------

    @property
    def watched(self) -> dict[str, str]:
        """strap_id → name of the watched straps, in the order they were watched."""
        return self._links.watched

    @property
    def assignments(self) -> dict[str, str | None]:
        """strap_id → adapter name of each watched strap; None beyond the capacity."""
        return self._links.assignments

    @property
    def listened(self) -> frozenset[str]:
        """Watched straps heard by their advertised heart rate (Polar broadcast, no RR)
        because no connection was free for them."""
        return self._links.listened

    @property
    def body_sensor_locations(self) -> dict[str, BodySensorLocation]:
        return self._links.body_sensor_locations

    @property
    def discovering(self) -> bool:
        """True while nearby straps are being reported."""
        return self._discovery_scan is not None

    async def start(self, sink: EventSink) -> None:
        """Connect the straps already watched and listen for others (unless discovery was
        set off before); returns once listening.

        Raises ``DiscoveryError`` (one sentence: Bluetooth off, no adapter, ...) when the
        adapter cannot scan; nothing is left running then.
        """
        self._sink = sink
        await self._links.start(sink)
        self._scanner().on_change = self._heard
        if self._discovery_wanted:
            try:
                await self._start_discovery()
            except DiscoveryError:
                await self.stop()
                raise

    async def check_adapters(self) -> None:
        """Raise ``AdapterUnavailable`` (one sentence) when an adapter cannot scan at all: a
        session started on it would record nothing."""
        await self._links.check_adapters()

    async def watch(self, strap_id: str, name: str) -> None:
        """Connect this strap (``ble:AA:BB:..``) and keep it connected; progress comes as
        ``StrapStatus``. StrapIdError (one sentence) for an id of another radio."""
        await self._links.watch(strap_id, name)

    async def unwatch(self, strap_id: str) -> None:
        """Disconnect this strap (reports STOPPED); nothing when it is not watched."""
        await self._links.unwatch(strap_id)

    async def set_discovery(self, on: bool) -> None:
        """Report nearby straps (on) or stop the scan they need (off); the driver still
        scans by itself whenever a watched strap has to be found again."""
        self._discovery_wanted = on
        if self._sink is None:
            return  # not started: start() follows the wish
        if on:
            await self._start_discovery()
        else:
            await self._stop_discovery()

    async def stop(self) -> None:
        """Stop listening, disconnect every watched strap (each reports STOPPED); returns
        when no link is left open."""
        await self._stop_discovery()
        self._scanner().on_change = None
        self._sink = None
        await self._links.stop()

    # -- discovery -------------------------------------------------------------------------

    def _scanner(self) -> StrapScanner:
        # The driver's scanner of the discovery adapter: see the module docstring for why
        # the hub must not run a second one on the same adapter.
        return self._links.scanner(self.discovery_adapter)

    async def _start_discovery(self) -> None:
        if self._discovery_scan is not None:
            return
        stack = contextlib.AsyncExitStack()
        try:
            await stack.enter_async_context(self._links.scanning(self.discovery_adapter))
        except Exception as exc:
            reason = explain_adapter_error(exc, self.discovery_adapter)
            raise DiscoveryError(
                reason or f"Listening for straps on {self.discovery_adapter} failed ({exc})."
            ) from exc
        # What the driver's scans heard earlier is not replayed: it may be old, and a strap
        # that is here advertises again within a second.
        self._discovery_scan = stack

    async def _stop_discovery(self) -> None:
        stack, self._discovery_scan = self._discovery_scan, None
        self._reported.clear()
        if stack is not None:
            await stack.aclose()

    def _heard(self, strap: DiscoveredStrap) -> None:
        # Runs for every advertisement the shared scanner hears: compare, maybe enqueue.
        self._links.heard(strap)
        if self._discovery_scan is None or self._sink is None:
            return  # the driver is scanning for a reconnect, not for the operator
        key = strap.address.upper()
        last = self._reported.get(key)
        if last is not None:
            last_s, last_name = last
            named_now = strap.name != last_name and bool(strap.name)
            if strap.last_seen_s - last_s < config.SIGHTING_EVERY_S and not named_now:
                return
        self._reported[key] = (strap.last_seen_s, strap.name)
        self._sink(StrapSighting(strap_ids.ble(strap.address), strap.last_seen_s, strap.name,
                                 strap.rssi))
