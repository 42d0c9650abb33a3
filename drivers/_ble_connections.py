"""The BLE hub's connections: part of ``drivers.ble.BleStrapHub``, used by nothing else.

One asyncio loop (the sensor thread's) owns every scanner and client. Each watched strap is
given an adapter (least loaded, never above ``max_per_adapter`` links) and one task that
connects, streams and reconnects for as long as the strap is watched.

- Straps are named by their strap id (``ble:AA:BB:..``) in every event; bleak is given the
  bare address (``strap_ids.address_of``).
- BlueZ allows one pending LE connection per adapter (a second attempt fails with
  InProgress), so connects take a per-adapter lock; different adapters connect in parallel.
- A strap is connected through the ``BLEDevice`` its adapter's scanner heard, never a bare
  address (that makes bleak run a hidden scan per connect).
- After a link drops the strap must be heard advertising again before a connect is tried:
  connecting to a strap that is not there only waits out the connect timeout.
- A link that stays up while the strap notifies nothing for ``silent_after_s`` counts as
  dropped: the driver disconnects and reconnects it (a fresh subscription wakes a stalled
  strap), so a silent strap never sits "streaming".
- A Polar strap beyond the adapters' capacity is listened to instead (``drivers.ble_broadcast``):
  its advertised heart rate, no RR, from the first adapter's scanner, which stays on while
  any strap is listened to. When a slot frees (a strap unwatched, or one that turned out not
  to be a heart-rate strap), the first strap without one gets it, and a listened strap is
  listened to until its link streams, so its data moves to the link with no gap.
- Only statuses reach the sink, never exceptions: adapter problems become one sentence,
  anything else is retried, with exponential backoff and jitter on the session clock, and
  shows as LOST with a hint once the strap has been unreachable for ``lost_after_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Sequence
from typing import Final

from bleak.backends.adapter import BaseBleakAdapter
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from drivers.ble_broadcast import ListenedStrap, is_polar_name
from drivers.ble_errors import (
    NOT_ADVERTISING,
    AdapterUnavailable,
    adapter_problem,
    explain_adapter_error,
)
from drivers.ble_link import BleTiming, LinkEnd, NotAHeartRateStrap, StrapLink
from drivers.ble_scan import DiscoveredStrap, StrapScanner
from hiaim_monitor import config, strap_ids
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import BodySensorLocation
from hiaim_monitor.i18n import tr
from hiaim_monitor.samples import HeartRateSample, SourceEvent, StrapState, StrapStatus
from hiaim_monitor.strap_hub import EventSink
from hiaim_monitor.strap_notes import StrapNote, StrapReason

__all__ = ["Connections", "over_capacity", "over_capacity_sentence"]

_log = logging.getLogger(__name__)


_MAX_BACKOFF_DOUBLINGS: Final = 30  # keeps 2**n finite; the ceiling is reached long before
_RECANCEL_S: Final = 0.1  # real seconds between cancels of a strap task that has not ended
SILENT: Final = StrapNote.of(StrapReason.LINK_SILENT)
SILENT_SENTENCE: Final = SILENT.english()
DROPPED: Final = StrapNote.of(StrapReason.LINK_DROPPED)
NOT_A_STRAP: Final = StrapNote.of(StrapReason.NOT_A_HEART_RATE_STRAP)
BROADCAST_ONLY: Final = StrapNote.of(StrapReason.BROADCAST_ONLY)
LISTENING: Final = StrapNote.of(StrapReason.LISTENING)


class _Adapter:
    def __init__(self, name: str, scanner: StrapScanner) -> None:
        self.name = name
        self.scanner = scanner
        self.connect_lock = asyncio.Lock()  # one pending LE connection per adapter
        self.scan_lock = asyncio.Lock()
        self.scan_users = 0  # strap tasks that need the scan running


class _Strap:
    def __init__(self, strap_id: str, name: str) -> None:
        self.strap_id = strap_id  # ble:AA:BB:..: what every event names it
        self.address = strap_ids.address_of(strap_id)  # what bleak is given
        self.name = name
        self.adapter: str | None = None  # None: no free connection slot
        self.state: StrapState | None = None
        self.note: StrapNote | None = None
        self.ever_streamed = False
        self.retired = False  # unwatched, or the hub stopped
        self.link: StrapLink | None = None
        self.location: BodySensorLocation | None = None
        self.task: asyncio.Task[None] | None = None
        # Its advertised heart rate is listened to (no connection, or not streaming yet).
        self.listen: ListenedStrap | None = None
        self.gave_up = False  # not a heart-rate strap: its slot went to another
        self.no_broadcast = False  # heard advertising without Polar data: not listenable


def ble_id(strap_id: str) -> str:
    """``strap_id`` as this hub names it (upper case); StrapIdError (one sentence) for an
    id of another radio, or none."""
    radio, address = strap_ids.split(strap_id)
    if radio != strap_ids.BLE:
        raise strap_ids.StrapIdError(
            tr("{strap} is not a Bluetooth LE strap").format(strap=strap_id))
    return strap_ids.ble(address)


def over_capacity(adapter_count: int, max_per_adapter: int) -> StrapNote:
    """Why a strap beyond the adapters' capacity gets no connection, and what to do."""
    return StrapNote.of(StrapReason.NO_FREE_CONNECTION, adapters=adapter_count,
                        straps=adapter_count * max_per_adapter)


def over_capacity_sentence(adapter_count: int, max_per_adapter: int) -> str:
    """``over_capacity`` in English."""
    return over_capacity(adapter_count, max_per_adapter).english()


class Connections:
    """The watched straps over Bluetooth LE, each kept connected by a task of its own.

    ``adapters`` are BlueZ adapter names (ignored by macOS and Windows, which have one).
    ``scanner_backend`` / ``client_backend`` / ``adapter_backend`` go straight to bleak's
    ``backend=`` parameters: None in production.
    """

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
        if not adapters:
            raise ValueError("a BLE strap hub needs at least one Bluetooth adapter")
        if len(set(adapters)) != len(adapters):
            raise ValueError(f"adapters are listed twice: {list(adapters)}")
        if max_per_adapter < 1:
            raise ValueError(f"max_per_adapter must be at least 1, got {max_per_adapter}")
        self.clock = clock
        self.max_per_adapter = max_per_adapter
        self.timing = timing or BleTiming()
        self.scanner_backend = scanner_backend
        self.client_backend = client_backend
        # Asking the OS for links a crashed run left open needs the platform stack, or an
        # adapter backend that belongs to the custom one.
        self._reclaim = adapter_backend is not None or (
            scanner_backend is None and client_backend is None
        )
        self.adapter_backend = adapter_backend
        self._rng = rng or random.Random()
        self._adapters = {
            name: _Adapter(
                name,
                StrapScanner(
                    clock,
                    adapter=name,
                    backend=scanner_backend,
                    control_timeout_s=self.timing.scan_control_timeout_s,
                ),
            )
            for name in adapters
        }
        self._straps: dict[str, _Strap] = {}
        self._links: set[StrapLink] = set()  # every link not yet closed
        self._sink: EventSink | None = None
        self._running = False
        # Broadcasts are heard on the first adapter: the one the hub discovers on.
        self._listen_adapter = self._adapters[adapters[0]]
        self._listen_scan: contextlib.AsyncExitStack | None = None
        self._listen_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    # -- what the hub asks ----------------------------------------------------------------

    @property
    def watched(self) -> dict[str, str]:
        """strap_id → name of the watched straps, in the order they were watched."""
        return {s.strap_id: s.name for s in self._straps.values()}

    @property
    def assignments(self) -> dict[str, str | None]:
        """strap_id → adapter name; None for a strap beyond the adapters' capacity."""
        return {s.strap_id: s.adapter for s in self._straps.values()}

    @property
    def listened(self) -> frozenset[str]:
        """The strap ids whose advertised heart rate is being listened to (no RR)."""
        return frozenset(s.strap_id for s in self._straps.values() if s.listen is not None)

    @property
    def body_sensor_locations(self) -> dict[str, BodySensorLocation]:
        """strap_id → where the strap says it sits (0x2A38), for straps that said so."""
        return {s.strap_id: s.location for s in self._straps.values()
                if s.location is not None}

    async def start(self, sink: EventSink) -> None:
        if self._running:
            raise RuntimeError("this BLE strap hub is already running")
        self._sink = sink
        self._running = True
        for strap in self._straps.values():
            strap.retired, strap.state, strap.note = False, None, None
            if strap.adapter is None:
                strap.gave_up = False  # a new start gives every strap another try
                strap.adapter = self._pick_adapter()
            self._launch(strap)
        await self._sync_listening()

    async def check_adapters(self) -> None:
        """Raise ``AdapterUnavailable`` (one sentence) when one of the adapters cannot scan
        at all: a session started on it would record nothing. Other failures are left to
        the strap tasks' retries."""
        for adapter in self._adapters.values():
            try:
                async with self._scanning(adapter):
                    pass
            except Exception as exc:
                reason = explain_adapter_error(exc, adapter.name)
                if reason is not None:
                    raise AdapterUnavailable(reason) from None

    async def stop(self) -> None:
        """Cancel every strap task, stop notifications, disconnect every client, stop the
        scans, then report STOPPED: afterwards no connection is open."""
        if not self._running:
            return
        self._running = False
        straps = list(self._straps.values())
        await self._end_tasks(straps)
        for strap in straps:
            strap.listen = None
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._sync_listening()
        await asyncio.gather(*(self._close(s) for s in straps))
        await asyncio.gather(*(link.close() for link in self._links))
        self._links.clear()
        await asyncio.gather(*(a.scanner.stop() for a in self._adapters.values()))
        t = self.clock.monotonic()
        for strap in straps:
            self._emit(StrapStatus(strap.strap_id, t, StrapState.STOPPED))

    async def watch(self, strap_id: str, name: str) -> None:
        """Keep this strap connected; it connects at once when running."""
        strap = self._add(ble_id(strap_id), name)
        strap.retired = False
        if self._running and strap.task is None:
            self._launch(strap)
            await self._sync_listening()

    async def unwatch(self, strap_id: str) -> None:
        """Disconnect this strap and report STOPPED; nothing when it is not watched."""
        try:
            key = ble_id(strap_id)
        except strap_ids.StrapIdError:
            return  # never watched here
        strap = self._straps.pop(key, None)
        if strap is None:
            return
        await self._end_tasks([strap])
        await self._close(strap)
        if self._running:
            self._emit(StrapStatus(strap.strap_id, self.clock.monotonic(), StrapState.STOPPED))
        self._give_free_slot()
        await self._sync_listening()

    def heard(self, found: DiscoveredStrap) -> None:
        """One advertisement the listening adapter's scanner heard: a listened strap's
        heart rate becomes a sample (about one a second). Runs in the scanner's callback."""
        if not self._running:
            return
        strap = self._straps.get(strap_ids.ble(found.address))
        if strap is None or strap.listen is None or strap.retired:
            return
        data = found.polar_data
        if data is None:
            if strap.adapter is None:
                # It advertises no heart rate: not a Polar strap, nothing to listen to.
                strap.listen, strap.no_broadcast = None, True
                self._sync_listening_soon()
            return
        listen = strap.listen
        event = listen.hear(data, found.last_seen_s, self.clock)
        if event is not None:
            self._emit(event)
        if strap.adapter is not None:
            return  # connecting: its link says how it is doing
        if listen.unchanging:
            self._set(strap, StrapState.LOST, StrapNote.of(
                StrapReason.UNCHANGING_BROADCAST, bpm=listen.bpm or 0,
                seconds=config.UNCHANGING_BROADCAST_AFTER_S))
        elif type(event) is HeartRateSample:
            self._set(strap, StrapState.STREAMING, BROADCAST_ONLY)

    # -- assignment and status -------------------------------------------------------------

    def _add(self, key: str, name: str) -> _Strap:
        if key not in self._straps:
            strap = _Strap(key, name)
            strap.adapter = self._pick_adapter()
            self._straps[key] = strap
        return self._straps[key]

    def _pick_adapter(self) -> str | None:
        load = {name: 0 for name in self._adapters}
        for strap in self._straps.values():
            if strap.adapter is not None:
                load[strap.adapter] += 1
        free = [name for name in self._adapters if load[name] < self.max_per_adapter]
        # min() keeps the first of equals, so straps fill adapters in the order listed.
        return min(free, key=load.__getitem__) if free else None

    def _give_free_slot(self) -> None:
        # A freed slot goes to the first strap that had none.
        for waiting in self._straps.values():
            if waiting.adapter is None and not waiting.gave_up:
                waiting.adapter = self._pick_adapter()
                if self._running and waiting.adapter is not None:
                    self._launch(waiting)
                return

    def _sync_listening_soon(self) -> None:
        task = asyncio.create_task(self._sync_listening(), name="ble-listening")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _sync_listening(self) -> None:
        """Keep the listening adapter's scan on exactly while a strap is listened to."""
        async with self._listen_lock:
            listened = [s for s in self._straps.values()
                        if s.listen is not None and not s.retired]
            if self._running and listened and self._listen_scan is None:
                stack = contextlib.AsyncExitStack()
                try:
                    await stack.enter_async_context(self._scanning(self._listen_adapter))
                except Exception as exc:
                    _log.debug("listening on %s failed: %r", self._listen_adapter.name, exc)
                    reason = adapter_problem(exc, self._listen_adapter.name)
                    for strap in listened:
                        if strap.adapter is None:
                            self._set(strap, StrapState.FAILED, reason or NOT_ADVERTISING)
                    return
                self._listen_scan = stack
            elif not (self._running and listened) and self._listen_scan is not None:
                stack, self._listen_scan = self._listen_scan, None
                await stack.aclose()

    def _launch(self, strap: _Strap) -> None:
        if strap.adapter is None and not (strap.gave_up or strap.no_broadcast):
            # No connection to spare, but a Polar strap says its heart rate to any scanner:
            # listen until its advertisements say whether it does (the name it was watched
            # under may be the wearer's, so the name alone cannot tell).
            if strap.listen is None:
                strap.listen = ListenedStrap(strap.strap_id)
            if is_polar_name(strap.name):
                self._set(strap, StrapState.CONNECTING, LISTENING)
                return
        if strap.adapter is None:
            self._set(
                strap,
                StrapState.FAILED,
                over_capacity(len(self._adapters), self.max_per_adapter),
            )
            return
        strap.task = asyncio.create_task(self._run(strap), name=f"ble-strap-{strap.address}")

    async def _end_tasks(self, straps: list[_Strap]) -> None:
        for strap in straps:
            strap.retired = True
        pending = {s.task for s in straps if s.task is not None}
        for strap in straps:
            strap.task = None
        deadline_s = asyncio.get_running_loop().time() + self.timing.stop_timeout_s
        while pending:
            remaining_s = deadline_s - asyncio.get_running_loop().time()
            if remaining_s <= 0:
                break
            # Cancel again until done: Python 3.11's wait_for, used inside Bluetooth stacks,
            # drops a cancellation that lands as its inner future completes. Clean-ups run
            # shielded (StrapLink.close), so a repeated cancel cannot cut one short.
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=min(_RECANCEL_S, remaining_s))

    def _emit(self, event: SourceEvent) -> None:
        if self._sink is not None:
            self._sink(event)

    def _set(self, strap: _Strap, state: StrapState, note: StrapNote | None = None) -> None:
        # Only changes are reported: a retry loop must not flood the queue.
        if not self._running or strap.retired or (strap.state, strap.note) == (state, note):
            return
        strap.state, strap.note = state, note
        self._emit(StrapStatus(strap.strap_id, self.clock.monotonic(), state, note=note))

    # -- one strap's life ------------------------------------------------------------------

    async def _run(self, strap: _Strap) -> None:
        assert strap.adapter is not None
        adapter = self._adapters[strap.adapter]
        timing = self.timing
        unreachable_since_s = self.clock.monotonic()
        failures = 0
        self._set(strap, StrapState.CONNECTING)
        # Checked as well as cancelled: a cancellation lost inside a Bluetooth stack must not
        # leave a strap reconnecting after stop().
        while not strap.retired:
            try:
                link = await self._connect(strap)
            except NotAHeartRateStrap:
                self._set(strap, StrapState.FAILED, NOT_A_STRAP)
                # Retrying will not help: its slot goes to a strap that has none.
                await self._close(strap)
                strap.adapter, strap.gave_up, strap.listen = None, True, None
                self._give_free_slot()
                await self._sync_listening()
                return
            except Exception as exc:
                _log.debug("strap %s: attempt failed: %r", strap.strap_id, exc)
                failures += 1
                self._note_failure(strap, exc, unreachable_since_s)
                await self._back_off(strap, failures, unreachable_since_s)
                continue
            if strap.retired:
                await self._close(strap)
                return
            await self._sync_listening()  # it streams on its link now: no more listening
            connected_at_s = self.clock.monotonic()
            end = await link.wait_until_disconnected(timing.link_check_interval_s)
            if end is LinkEnd.SILENT:
                # Said before the disconnect, which can take a while: the strap is no use.
                self._set(strap, StrapState.RECONNECTING, SILENT)
            await self._close(strap)
            # What the scanner heard while the link was up says nothing about now.
            adapter.scanner.forget(strap.address)
            now_s = self.clock.monotonic()
            unreachable_since_s = now_s
            failures = 0 if now_s - connected_at_s >= timing.stable_after_s else failures + 1
            if end is LinkEnd.DROPPED:
                self._set(strap, StrapState.RECONNECTING, DROPPED)
            if failures:
                await self._back_off(strap, failures, unreachable_since_s)

    async def _connect(self, strap: _Strap) -> StrapLink:
        assert strap.adapter is not None
        adapter = self._adapters[strap.adapter]
        link = StrapLink(
            strap.strap_id,
            strap.address,
            adapter.name,
            self.clock,
            self._emit,
            timing=self.timing,
            client_backend=self.client_backend,
        )
        # The scan stays on through the connect: BlueZ drops devices it stops hearing.
        async with self._scanning(adapter):
            device = None
            if self._reclaim:
                device = await link.already_connected(self.adapter_backend)
            if device is None:
                found = await adapter.scanner.find(strap.address, self.timing.find_timeout_s)
                if found is None:
                    raise TimeoutError(f"{strap.address} was not heard advertising")
                # One sighting buys one attempt: after a failed connect or a dropped link
                # the strap must be heard again, or a connect would only wait out its timeout.
                adapter.scanner.forget(strap.address)
                device = found.ble_device
            strap.link = link  # from here on stop() must close it, even mid-connect
            self._links.add(link)
            try:
                lock_wait_s = self.timing.connect_timeout_s * (self.max_per_adapter + 1)
                async with asyncio.timeout(lock_wait_s):
                    await adapter.connect_lock.acquire()
                try:
                    await link.connect(device)
                finally:
                    adapter.connect_lock.release()
            except BaseException:
                await self._close(strap)
                raise
        try:
            await link.subscribe(on_streaming=lambda: self._streaming(strap))
        except BaseException:
            await self._close(strap)
            raise
        if link.location is not None:
            strap.location = link.location
        return link

    def scanner(self, adapter: str) -> StrapScanner:
        """The one scanner of ``adapter``: on BlueZ every scanner in a process shares one
        discovery per adapter, so whoever else wants to listen must use this one."""
        return self._adapters[adapter].scanner

    def scanning(self, adapter: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Keep ``adapter``'s scan running for one more user while in the block."""
        return self._scanning(self._adapters[adapter])

    def _streaming(self, strap: _Strap) -> None:
        strap.ever_streamed = True
        strap.listen = None  # from now on its samples come by the link, with RR
        self._set(strap, StrapState.STREAMING)

    @contextlib.asynccontextmanager
    async def _scanning(self, adapter: _Adapter) -> AsyncIterator[None]:
        """Keep ``adapter``'s scan running while any strap on it is looking for a link."""
        async with adapter.scan_lock:
            await adapter.scanner.start()
            adapter.scan_users += 1
        try:
            yield
        finally:
            adapter.scan_users -= 1
            async with adapter.scan_lock:
                # A scan takes radio time from the links, so it stops once nobody needs it.
                if adapter.scan_users == 0:
                    await adapter.scanner.stop()

    def _note_failure(self, strap: _Strap, exc: Exception, unreachable_since_s: float) -> None:
        reason = adapter_problem(exc, strap.adapter)
        if reason is not None:
            self._set(strap, StrapState.FAILED, reason)
        elif self.clock.monotonic() - unreachable_since_s >= self.timing.lost_after_s:
            self._set(strap, StrapState.LOST, NOT_ADVERTISING)
        elif strap.state is StrapState.FAILED:
            # The adapter is back; the strap itself has not been missing long.
            waiting = StrapState.RECONNECTING if strap.ever_streamed else StrapState.CONNECTING
            self._set(strap, waiting)

    async def _back_off(self, strap: _Strap, failures: int, unreachable_since_s: float) -> None:
        timing = self.timing
        doublings = min(failures - 1, _MAX_BACKOFF_DOUBLINGS)
        delay_s = min(timing.backoff_max_s, timing.backoff_initial_s * 2**doublings)
        # Jitter keeps straps that dropped together from retrying in lockstep.
        delay_s *= 1.0 - timing.backoff_jitter * self._rng.random()
        now_s = self.clock.monotonic()
        lost_at_s = unreachable_since_s + timing.lost_after_s
        if strap.state is not StrapState.FAILED and now_s < lost_at_s < now_s + delay_s:
            # Report LOST on time rather than after the whole wait.
            await self.clock.sleep(lost_at_s - now_s)
            self._set(strap, StrapState.LOST, NOT_ADVERTISING)
            delay_s -= lost_at_s - now_s
        await self.clock.sleep(delay_s)

    async def _close(self, strap: _Strap) -> None:
        link, strap.link = strap.link, None
        if link is not None:
            await link.close()
            self._links.discard(link)
