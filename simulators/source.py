"""``SimulatedSource``: a class of virtual participants behind the one driver interface.

Each notification goes through ``sample_from_notification``, the decode path real straps
use, at its nominal time on the clock. The source works on any ``Clock``: stepped simulated
time (sleeping moves the clock), scaled simulated time, or real time.

``StrapFleet`` paces the straps; ``SimulatedSource`` connects all of them at start, the
pairing hub (``simulators.hub``) only those the operator watches.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Sequence
from typing import Final

from drivers.base import EventSink, HeartRateSource, StrapInfo
from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import (
    BatteryReading,
    StrapState,
    StrapStatus,
    sample_from_notification,
)
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.strap_notes import StrapNote, StrapReason
from simulators.faults import FaultConfig
from simulators.physiology import (
    HeartModel,
    TargetBpm,
    VirtualParticipant,
    cue_target,
    session_target,
)
from simulators.strap import Notification, VirtualStrap, strap_id_for, strap_name_for

# The BLE driver reconnects a strap that has sent nothing for this long (the link gone, or
# up but silent); the simulated strap says the same after as much silence.
RECONNECTING_AFTER_S: Final = config.SILENT_LINK_AFTER_S
BATTERY_EMPTY: Final = StrapNote.of(StrapReason.BATTERY_EMPTY)
_DUE_SLACK_S: Final = 1e-6  # float rounding of a stepped clock must not leave a send undone


def make_strap(
    participant: VirtualParticipant,
    index: int,
    *,
    start_t_s: float,
    protocol: TrainingProtocol | None = None,
    session_start_s: float = 0.0,
    cue: SessionCue | None = None,
    faults: FaultConfig | None = None,
    seed: int = 0,
    period_s: float = 1.0,
    jitter_s: float = 0.05,
) -> VirtualStrap:
    """The strap ``SimulatedSource`` builds for ``participant`` as its ``index``-th (1-based).

    The heart follows ``cue`` (what the operator runs) when given, else ``protocol`` started
    at ``session_start_s``; with neither the participant sits at rest.
    """
    target: TargetBpm | None = None
    if cue is not None:
        target = cue_target(participant, cue)
    elif protocol is not None:
        target = session_target(participant, protocol, session_start_s)
    model = HeartModel(participant, start_t_s=start_t_s, target=target)
    return VirtualStrap(
        model,
        index=index,
        faults=faults,
        seed=seed * 1_000 + index,
        period_s=period_s,
        jitter_s=jitter_s,
    )


class StrapFleet:
    """Virtual straps paced on ``clock`` from ``start`` on.

    Every heart beats and every strap notifies on schedule, but only a connected strap
    reaches ``sink``: what an unconnected strap sends is lost, as on the air, so a strap
    connected later streams the heart rate of now, not a backlog.
    """

    def __init__(self, straps: Sequence[VirtualStrap], clock: Clock, sink: EventSink) -> None:
        self.straps = list(straps)
        self.clock = clock
        self._sink = sink
        self._index = {strap.strap_id: i for i, strap in enumerate(self.straps)}
        self._states: list[StrapState | None] = [None] * len(self.straps)  # None: not connected
        self._last_data_s = [0.0] * len(self.straps)
        self._task: asyncio.Task[None] | None = None

    def index_of(self, strap_id: str) -> int | None:
        return self._index.get(strap_id)

    def is_connected(self, i: int) -> bool:
        return self._states[i] is not None

    def connect(self, i: int, *, streaming_at_once: bool) -> None:
        """Report CONNECTING and the battery; from now on the strap's notifications reach the
        sink. STREAMING follows with the first notification, or at once if asked."""
        if self._states[i] is not None:
            return
        strap, t = self.straps[i], self.clock.monotonic()
        strap.new_connection()
        self._sink(StrapStatus(strap.strap_id, t, StrapState.CONNECTING))
        self._states[i] = StrapState.CONNECTING
        if streaming_at_once:
            self._sink(StrapStatus(strap.strap_id, t, StrapState.STREAMING))
            self._states[i] = StrapState.STREAMING
        self._sink(BatteryReading(strap.strap_id, t, strap.battery_pct))
        self._last_data_s[i] = t

    def disconnect(self, i: int) -> None:
        """Stop delivering this strap's data and report STOPPED (its heart beats on)."""
        if self._states[i] is None:
            return
        self._states[i] = None
        self._sink(StrapStatus(self.straps[i].strap_id, self.clock.monotonic(), StrapState.STOPPED))

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The pacing task while running."""
        return self._task

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("these simulated straps are already running")
        self._task = asyncio.create_task(self._run(), name="simulated-straps")

    async def stop(self) -> None:
        """End the pacing, then report STOPPED for every connected strap."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # A task that already failed has reported FAILED; stopping must not raise its error.
            await asyncio.gather(task, return_exceptions=True)
        for i in range(len(self.straps)):
            self.disconnect(i)

    async def _run(self) -> None:
        # A heap of (next send time, strap index): each wake touches only the strap due.
        due = [(strap.next_due_s, i) for i, strap in enumerate(self.straps)]
        heapq.heapify(due)
        try:
            while due:
                due_s, i = due[0]
                now = self.clock.monotonic()
                if due_s > now + _DUE_SLACK_S:
                    await self.clock.sleep(due_s - now)
                    continue
                strap = self.straps[i]
                for note in strap.notifications_until(now + _DUE_SLACK_S):
                    if self._states[i] is not None:
                        self._deliver(i, note)
                heapq.heapreplace(due, (strap.next_due_s, i))
                # A silent strap keeps its send schedule, so it is checked about once a second.
                self._watch_silence(i, self.clock.monotonic())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            t = self.clock.monotonic()
            for i, strap in enumerate(self.straps):
                if self._states[i] is not None:
                    self._states[i] = StrapState.FAILED
                    self._sink(
                        StrapStatus(strap.strap_id, t, StrapState.FAILED, note=StrapNote.of(
                            StrapReason.SIMULATION_FAILED, error=str(exc)))
                    )
            raise

    def _set_state(self, i: int, state: StrapState, note: StrapNote | None = None) -> None:
        self._states[i] = state
        self._sink(StrapStatus(self.straps[i].strap_id, self.clock.monotonic(), state,
                               note=note))

    def _deliver(self, i: int, note: Notification) -> None:
        strap = self.straps[i]
        if self._states[i] is not StrapState.STREAMING:
            self._set_state(i, StrapState.STREAMING)
        event = sample_from_notification(strap.strap_id, note.data, self.clock)
        self._last_data_s[i] = event.t_mono_s
        self._sink(event)
        if note.battery_pct is not None:
            self._sink(BatteryReading(strap.strap_id, event.t_mono_s, note.battery_pct))

    def _watch_silence(self, i: int, now: float) -> None:
        state = self._states[i]
        if state not in (StrapState.STREAMING, StrapState.CONNECTING):
            return
        if now - self._last_data_s[i] <= RECONNECTING_AFTER_S:
            return
        strap = self.straps[i]
        if strap.battery_empty:
            self._sink(BatteryReading(strap.strap_id, now, 0))
            self._set_state(i, StrapState.LOST, BATTERY_EMPTY)
        elif state is StrapState.STREAMING:
            self._set_state(
                i,
                StrapState.RECONNECTING,
                StrapNote.of(StrapReason.NO_DATA, seconds=RECONNECTING_AFTER_S),
            )
            strap.new_connection()  # as the driver's reconnect would: a stalled strap wakes
        # A strap still connecting keeps trying quietly, as the BLE driver does.


class SimulatedSource(HeartRateSource):
    """Virtual participants doing ``protocol``, one simulated strap each.

    Participants are at rest before ``session_start_s`` (on ``clock``) and after the
    protocol ends. With ``cue`` they follow what the operator runs instead, and are at rest
    while no session runs. Straps switch on when ``start`` is called.
    """

    def __init__(
        self,
        participants: Sequence[VirtualParticipant],
        clock: Clock,
        protocol: TrainingProtocol | None = None,
        *,
        session_start_s: float = 0.0,
        cue: SessionCue | None = None,
        faults: FaultConfig | None = None,
        seed: int = 0,
        period_s: float = 1.0,
        jitter_s: float = 0.05,
    ) -> None:
        self.participants = list(participants)
        if not self.participants:
            raise ValueError("a simulated source needs at least one participant")
        self.clock = clock
        self.protocol = protocol
        self.session_start_s = session_start_s
        self.cue = cue
        self.faults = faults or FaultConfig()
        self.seed = seed
        self.period_s = period_s
        self.jitter_s = jitter_s
        self._infos = [
            StrapInfo(strap_id_for(i), strap_name_for(i), "simulated")
            for i in range(1, len(self.participants) + 1)
        ]
        self._fleet: StrapFleet | None = None

    @property
    def straps(self) -> list[StrapInfo]:
        return list(self._infos)

    @property
    def assignments(self) -> dict[str, str]:
        """participant_id → strap_id: who wears which strap."""
        return {
            p.participant_id: info.strap_id
            for p, info in zip(self.participants, self._infos, strict=True)
        }

    def build_straps(self, start_t_s: float) -> list[VirtualStrap]:
        """One strap per participant, switched on at ``start_t_s``, in participant order."""
        return [
            make_strap(
                p,
                i,
                start_t_s=start_t_s,
                protocol=self.protocol,
                session_start_s=self.session_start_s,
                cue=self.cue,
                faults=self.faults,
                seed=self.seed,
                period_s=self.period_s,
                jitter_s=self.jitter_s,
            )
            for i, p in enumerate(self.participants, start=1)
        ]

    @property
    def _task(self) -> asyncio.Task[None] | None:
        # What tests check ends at stop (the pacing lives in the fleet).
        return self._fleet.task if self._fleet is not None else None

    async def start(self, sink: EventSink) -> None:
        if self._fleet is not None:
            raise RuntimeError("this simulated source is already running")
        fleet = StrapFleet(self.build_straps(self.clock.monotonic()), self.clock, sink)
        for i in range(len(fleet.straps)):
            fleet.connect(i, streaming_at_once=True)
        self._fleet = fleet
        fleet.start()

    async def stop(self) -> None:
        fleet, self._fleet = self._fleet, None
        if fleet is not None:
            await fleet.stop()
