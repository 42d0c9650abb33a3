"""The engine of the simulated strap hub: virtual straps for a class, and ``StrapFleet``,
which paces them on a clock and delivers what the connected ones send.

Each notification goes through ``sample_from_notification``, the decode path real straps
use, at its nominal time on the clock. The fleet works on any ``Clock``: stepped simulated
time (sleeping moves the clock), scaled simulated time, or real time; ``pump`` steps it
without an event loop (``simulators.stepped``). ``simulators.hub.SimulatedStrapHub`` is
the only source built on it.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Sequence
from typing import Final

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
from hiaim_monitor.strap_hub import EventSink
from hiaim_monitor.strap_notes import StrapNote, StrapReason
from simulators.faults import FaultConfig
from simulators.physiology import (
    HeartModel,
    TargetBpm,
    VirtualParticipant,
    cue_target,
    session_target,
)
from simulators.strap import Notification, VirtualStrap

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
    """The strap the simulated hub builds for ``participant`` as its ``index``-th (1-based).

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


def make_class_straps(
    participants: Sequence[VirtualParticipant],
    *,
    start_t_s: float,
    stagger_s: float = 0.0,
    protocol: TrainingProtocol | None = None,
    session_start_s: float = 0.0,
    cue: SessionCue | None = None,
    faults: FaultConfig | None = None,
    seed: int = 0,
    period_s: float = 1.0,
    jitter_s: float = 0.05,
) -> list[VirtualStrap]:
    """One strap per participant, numbered 1… in participant order, switched on at
    ``start_t_s`` (the ``i``-th ``i * stagger_s`` later, so they do not send in step).
    """
    return [
        make_strap(p, i, start_t_s=start_t_s + i * stagger_s, protocol=protocol,
                   session_start_s=session_start_s, cue=cue, faults=faults, seed=seed,
                   period_s=period_s, jitter_s=jitter_s)
        for i, p in enumerate(participants, start=1)
    ]


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
        # A heap of (next send time, strap index): each wake touches only the strap due.
        self._due = [(strap.next_due_s, i) for i, strap in enumerate(self.straps)]
        heapq.heapify(self._due)
        self._task: asyncio.Task[None] | None = None

    def index_of(self, strap_id: str) -> int | None:
        return self._index.get(strap_id)

    def is_connected(self, i: int) -> bool:
        return self._states[i] is not None

    def connect(self, i: int) -> None:
        """Report CONNECTING and the battery; from now on the strap's notifications reach the
        sink. STREAMING follows with the first notification."""
        if self._states[i] is not None:
            return
        strap, t = self.straps[i], self.clock.monotonic()
        strap.new_connection()
        self._sink(StrapStatus(strap.strap_id, t, StrapState.CONNECTING))
        self._states[i] = StrapState.CONNECTING
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

    def pump(self) -> int:
        """Deliver everything due by the clock's now (a stepped clock: after moving it);
        returns how many notifications the straps sent. The pacing task does the same."""
        sent = 0
        now = self.clock.monotonic()
        due = self._due
        while due and due[0][0] <= now + _DUE_SLACK_S:
            sent += self._send_due(due, now)
        return sent

    def _send_due(self, due: list[tuple[float, int]], now: float) -> int:
        _, i = due[0]
        strap = self.straps[i]
        notes = strap.notifications_until(now + _DUE_SLACK_S)
        for note in notes:
            if self._states[i] is not None:
                self._deliver(i, note)
        heapq.heapreplace(due, (strap.next_due_s, i))
        # A silent strap keeps its send schedule, so it is checked about once a second.
        self._watch_silence(i, self.clock.monotonic())
        return len(notes)

    async def _run(self) -> None:
        due = self._due
        try:
            while due:
                due_s, _ = due[0]
                now = self.clock.monotonic()
                if due_s > now + _DUE_SLACK_S:
                    await self.clock.sleep(due_s - now)
                    continue
                self._send_due(due, now)
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
