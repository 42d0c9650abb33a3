"""``SimulatedSource``: a class of virtual participants behind the one driver interface.

Each notification goes through ``sample_from_notification``, the decode path real straps
use, at its nominal time on the clock. The source works on any ``Clock``: stepped simulated
time (sleeping moves the clock), scaled simulated time, or real time.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Sequence
from typing import Final

from drivers.base import EventSink, HeartRateSource, StrapInfo
from hiaim_monitor.clock import Clock
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import (
    BatteryReading,
    StrapState,
    StrapStatus,
    sample_from_notification,
)
from simulators.faults import FaultConfig
from simulators.physiology import HeartModel, VirtualParticipant, session_target
from simulators.strap import Notification, VirtualStrap, strap_id_for, strap_name_for

# A BLE central declares a silent link lost after its supervision timeout (commonly 4–6 s)
# and starts reconnecting; the simulated strap says the same after this much silence.
RECONNECTING_AFTER_S: Final = 6.0
_DUE_SLACK_S: Final = 1e-6  # float rounding of a stepped clock must not leave a send undone


def make_strap(
    participant: VirtualParticipant,
    index: int,
    *,
    protocol: TrainingProtocol,
    session_start_s: float,
    start_t_s: float,
    faults: FaultConfig | None = None,
    seed: int = 0,
    period_s: float = 1.0,
    jitter_s: float = 0.05,
) -> VirtualStrap:
    """The strap ``SimulatedSource`` builds for ``participant`` as its ``index``-th (1-based)."""
    model = HeartModel(
        participant,
        start_t_s=start_t_s,
        target=session_target(participant, protocol, session_start_s),
    )
    return VirtualStrap(
        model,
        index=index,
        faults=faults,
        seed=seed * 1_000 + index,
        period_s=period_s,
        jitter_s=jitter_s,
    )


class SimulatedSource(HeartRateSource):
    """Virtual participants doing ``protocol``, one simulated strap each.

    Participants are at rest before ``session_start_s`` (on ``clock``) and after the
    protocol ends. Straps switch on when ``start`` is called.
    """

    def __init__(
        self,
        participants: Sequence[VirtualParticipant],
        clock: Clock,
        protocol: TrainingProtocol,
        *,
        session_start_s: float,
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
        self.faults = faults or FaultConfig()
        self.seed = seed
        self.period_s = period_s
        self.jitter_s = jitter_s
        self._infos = [
            StrapInfo(strap_id_for(i), strap_name_for(i), "simulated")
            for i in range(1, len(self.participants) + 1)
        ]
        self._straps: list[VirtualStrap] = []
        self._states: list[StrapState] = []
        self._last_data_s: list[float] = []
        self._sink: EventSink | None = None
        self._task: asyncio.Task[None] | None = None

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

    async def start(self, sink: EventSink) -> None:
        if self._task is not None:
            raise RuntimeError("this simulated source is already running")
        self._sink = sink
        t0 = self.clock.monotonic()
        self._straps = [
            make_strap(
                p,
                i,
                protocol=self.protocol,
                session_start_s=self.session_start_s,
                start_t_s=t0,
                faults=self.faults,
                seed=self.seed,
                period_s=self.period_s,
                jitter_s=self.jitter_s,
            )
            for i, p in enumerate(self.participants, start=1)
        ]
        for strap in self._straps:
            sink(StrapStatus(strap.strap_id, t0, StrapState.CONNECTING))
            sink(StrapStatus(strap.strap_id, t0, StrapState.STREAMING))
            sink(BatteryReading(strap.strap_id, t0, strap.battery_pct))
        self._states = [StrapState.STREAMING] * len(self._straps)
        self._last_data_s = [t0] * len(self._straps)
        self._task = asyncio.create_task(self._run(), name="simulated-straps")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None or self._sink is None:
            return
        task.cancel()
        # A task that already failed has reported FAILED; stopping must not raise its error.
        await asyncio.gather(task, return_exceptions=True)
        t = self.clock.monotonic()
        for strap in self._straps:
            self._sink(StrapStatus(strap.strap_id, t, StrapState.STOPPED))

    async def _run(self) -> None:
        # A heap of (next send time, strap index): each wake touches only the strap due.
        due = [(strap.next_due_s, i) for i, strap in enumerate(self._straps)]
        heapq.heapify(due)
        try:
            while True:
                due_s, i = due[0]
                now = self.clock.monotonic()
                if due_s > now + _DUE_SLACK_S:
                    await self.clock.sleep(due_s - now)
                    continue
                strap = self._straps[i]
                for note in strap.notifications_until(now + _DUE_SLACK_S):
                    self._deliver(i, note)
                heapq.heapreplace(due, (strap.next_due_s, i))
                # A silent strap keeps its send schedule, so it is checked about once a second.
                self._watch_silence(i, self.clock.monotonic())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            assert self._sink is not None
            t = self.clock.monotonic()
            for strap in self._straps:
                self._sink(
                    StrapStatus(strap.strap_id, t, StrapState.FAILED, f"Simulation failed: {exc}")
                )
            raise

    def _set_state(self, i: int, state: StrapState, detail: str = "") -> None:
        assert self._sink is not None
        self._states[i] = state
        self._sink(StrapStatus(self._straps[i].strap_id, self.clock.monotonic(), state, detail))

    def _deliver(self, i: int, note: Notification) -> None:
        assert self._sink is not None
        strap = self._straps[i]
        if self._states[i] is not StrapState.STREAMING:
            self._set_state(i, StrapState.STREAMING)
        event = sample_from_notification(strap.strap_id, note.data, self.clock)
        self._last_data_s[i] = event.t_mono_s
        self._sink(event)
        if note.battery_pct is not None:
            self._sink(BatteryReading(strap.strap_id, event.t_mono_s, note.battery_pct))

    def _watch_silence(self, i: int, now: float) -> None:
        strap = self._straps[i]
        if self._states[i] is not StrapState.STREAMING:
            return
        if now - self._last_data_s[i] <= RECONNECTING_AFTER_S:
            return
        if strap.battery_empty:
            assert self._sink is not None
            self._sink(BatteryReading(strap.strap_id, now, 0))
            self._set_state(i, StrapState.LOST, "The strap's battery is empty: replace it.")
        else:
            self._set_state(
                i,
                StrapState.RECONNECTING,
                f"No data for {RECONNECTING_AFTER_S:g} s: reconnecting.",
            )
