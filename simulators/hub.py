"""``SimulatedStrapHub``: a class of virtual participants, one simulated strap each, behind
the one ``StrapHub`` interface — for the window's pairing stage and the headless run alike.

Every participant wears a strap that is switched on and nearby from ``start``: it is
reported as a ``StrapSighting`` about every ``SIGHTING_EVERY_S``, with a signal strength of
its own that wavers a little, as straps on people moving about a room do. Only a watched
strap streams (CONNECTING, then STREAMING with its first notification), as a real strap
streams only once a central has connected; unwatching it reports STOPPED. As on the air, a
connected strap no longer advertises, so it is not sighted while watched, and a strap with
an empty battery is not sighted at all.

The hearts beat from ``start`` on whether watched or not, so a strap watched late shows the
heart rate of now. With a ``SessionCue`` they follow what the operator runs (start, pause,
skip, stop), on every path. Strap ids are ``sim:0001``... (``simulators.strap``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Final

from hiaim_monitor import config, strap_ids
from hiaim_monitor.clock import Clock
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import StrapSighting, StrapState, StrapStatus
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.strap_hub import EventSink
from hiaim_monitor.strap_notes import StrapNote, StrapReason
from simulators.faults import FaultConfig
from simulators.fleet import StrapFleet, make_class_straps
from simulators.physiology import VirtualParticipant
from simulators.strap import VirtualStrap, strap_id_for, strap_name_for

# Chest straps a few metres from a laptop: nearer ones around -50 dBm, the far end of a
# training room around -80 dBm, and every reading a few dB off the last.
RSSI_RANGE_DBM: Final = (-85, -45)
_RSSI_CENTRE_RANGE_DBM: Final = (-80.0, -50.0)
_RSSI_WAVER_DBM: Final = 2.0  # SD of one reading around the strap's own level
_DUE_SLACK_S: Final = 1e-6
NOT_SIMULATED: Final = StrapNote.of(StrapReason.NOT_SIMULATED)


class _Signal:
    """One strap's signal strength: a level of its own, read with a little waver."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)
        self._centre_dbm = self._rng.uniform(*_RSSI_CENTRE_RANGE_DBM)

    def read_dbm(self) -> int:
        low, high = RSSI_RANGE_DBM
        return round(min(high, max(low, self._rng.gauss(self._centre_dbm, _RSSI_WAVER_DBM))))


class SimulatedStrapHub:
    """A ``StrapHub`` over ``participants``, one strap each, ids and names as
    ``simulators.strap`` makes them (``strap_id_for(i)``, ``strap_name_for(i)``, 1-based).

    ``cue`` (normally given) makes the hearts follow the operator; without it they follow
    ``protocol`` started at ``session_start_s``, or stay at rest when that is None too.
    ``faults`` are the straps' faults, ``seed`` makes the class the same every run;
    ``period_s`` / ``jitter_s`` are each strap's notification interval and its jitter.
    """

    radios = (strap_ids.SIM,)

    def __init__(
        self,
        participants: Sequence[VirtualParticipant],
        clock: Clock,
        *,
        cue: SessionCue | None = None,
        protocol: TrainingProtocol | None = None,
        session_start_s: float = 0.0,
        faults: FaultConfig | None = None,
        seed: int = 0,
        period_s: float = 1.0,
        jitter_s: float = 0.05,
    ) -> None:
        self._participants = list(participants)
        if not self._participants:
            raise ValueError("a simulated class needs at least one participant")
        self.clock = clock
        self.cue = cue
        self.protocol = protocol
        self.session_start_s = session_start_s
        self.faults = faults or FaultConfig()
        self.seed = seed
        self.period_s = period_s
        self.jitter_s = jitter_s
        self._all = {strap_id_for(i): strap_name_for(i)
                     for i in range(1, len(self._participants) + 1)}
        self._signals = {strap_id: _Signal(f"{seed}:rssi:{strap_id}") for strap_id in self._all}
        self._watched: dict[str, str] = {}  # strap_id → name, in the order watched
        self._fleet: StrapFleet | None = None
        self._sink: EventSink | None = None
        self._discovery = True
        self._sighting_task: asyncio.Task[None] | None = None

    # -- the interface ---------------------------------------------------------------------

    @property
    def watched(self) -> dict[str, str]:
        """strap_id → name of the watched straps, in the order they were watched."""
        return dict(self._watched)

    @property
    def nearby(self) -> dict[str, str]:
        """strap_id → name of every strap of the simulated class, watched or not."""
        return dict(self._all)

    @property
    def assignments(self) -> dict[str, str]:
        """study_code → strap_id: who wears which strap (to suggest the pairing)."""
        return {p.study_code: strap_id
                for p, strap_id in zip(self._participants, self._all, strict=True)}

    @property
    def participants(self) -> list[VirtualParticipant]:
        return list(self._participants)

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The straps' pacing task while running."""
        return self._fleet.task if self._fleet is not None else None

    async def start(self, sink: EventSink) -> None:
        """Switch every strap on, report them nearby (unless discovery was set off before),
        and connect those already watched."""
        if self._fleet is not None:
            raise RuntimeError("this simulated strap hub is already running")
        self._sink = sink
        fleet = StrapFleet(self.build_straps(self.clock.monotonic()), self.clock, sink)
        self._fleet = fleet
        for strap_id in self._watched:
            self._connect(strap_id)
        fleet.start()
        if self._discovery:
            self._start_sightings()

    def build_straps(self, start_t_s: float, *, stagger_s: float = 0.0) -> list[VirtualStrap]:
        """The class's straps as this hub runs them, switched on at ``start_t_s`` (also for
        a class stepped without an event loop: ``simulators.stepped``)."""
        return make_class_straps(
            self._participants, start_t_s=start_t_s, stagger_s=stagger_s,
            protocol=self.protocol, session_start_s=self.session_start_s, cue=self.cue,
            faults=self.faults, seed=self.seed, period_s=self.period_s, jitter_s=self.jitter_s)

    async def watch(self, strap_id: str, name: str) -> None:
        """Connect this strap (it streams from its next notification); idempotent."""
        if strap_id not in self._all:
            if self._sink is not None:
                t = self.clock.monotonic()
                self._sink(StrapStatus(strap_id, t, StrapState.FAILED, note=NOT_SIMULATED))
            return
        self._watched.setdefault(strap_id, name or self._all[strap_id])
        if self._fleet is not None:
            self._connect(strap_id)

    async def unwatch(self, strap_id: str) -> None:
        """Disconnect this strap (reports STOPPED); nothing when it is not watched."""
        if self._watched.pop(strap_id, None) is None or self._fleet is None:
            return
        i = self._fleet.index_of(strap_id)
        if i is not None:
            self._fleet.disconnect(i)

    async def set_discovery(self, on: bool) -> None:
        """Report nearby straps (on) or not (off); on reports them at once."""
        self._discovery = on
        if self._fleet is None:
            return
        if on:
            self._start_sightings()
        else:
            await self._stop_sightings()

    async def stop(self) -> None:
        """Stop the sightings and the straps; every watched strap reports STOPPED."""
        await self._stop_sightings()
        fleet, self._fleet = self._fleet, None
        if fleet is not None:
            await fleet.stop()

    # -- inside ----------------------------------------------------------------------------

    def _connect(self, strap_id: str) -> None:
        assert self._fleet is not None
        i = self._fleet.index_of(strap_id)
        if i is not None:
            self._fleet.connect(i)

    def _start_sightings(self) -> None:
        if self._sighting_task is None:
            self._sighting_task = asyncio.create_task(self._sight(), name="simulated-sightings")

    async def _stop_sightings(self) -> None:
        task, self._sighting_task = self._sighting_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _sight(self) -> None:
        # A scan hears a strap within a fraction of a second, so the first round is at once.
        next_s = self.clock.monotonic()
        while True:
            now = self.clock.monotonic()
            if next_s > now + _DUE_SLACK_S:
                await self.clock.sleep(next_s - now)
                continue
            self._report_nearby(now)
            # Rounds keep their grid; after a stall the next one is a full period away.
            next_s += config.SIGHTING_EVERY_S
            if next_s <= now:
                next_s = now + config.SIGHTING_EVERY_S

    def _report_nearby(self, t_s: float) -> None:
        fleet, sink = self._fleet, self._sink
        if fleet is None or sink is None:
            return
        for i, strap in enumerate(fleet.straps):
            # A connected strap stops advertising; an empty one is off.
            if fleet.is_connected(i) or strap.battery_empty:
                continue
            rssi_dbm = self._signals[strap.strap_id].read_dbm()
            sink(StrapSighting(strap.strap_id, t_s, strap.name, rssi_dbm))
