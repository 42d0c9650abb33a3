"""``CombinedHub``: several strap hubs (BLE connections and broadcasts, ANT+ sticks,
simulated straps) behind the one ``StrapHub`` interface, so a class can mix radios — a laptop
whose BLE adapter holds seven links hears the rest of the room through an ANT+ stick.

A strap id names its radio, and each radio belongs to one hub: ``watch`` goes to the hub
whose ``radios`` hold the id's radio. Sightings and samples of every hub reach the one sink;
a dual-mode strap heard on two radios is mapped to one wearer by the registry, and the engine
takes its data by one radio at a time (``config.RADIO_SWITCH_AFTER_S``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hiaim_monitor import strap_ids
from hiaim_monitor.i18n import tr
from hiaim_monitor.strap_hub import EventSink, StrapHub


class CombinedHub:
    """The hubs in ``hubs``, each serving radios no other serves."""

    def __init__(self, hubs: Sequence[StrapHub]) -> None:
        if not hubs:
            raise ValueError("a combined hub needs at least one hub")
        self.hubs = tuple(hubs)
        self._by_radio: dict[str, StrapHub] = {}
        for hub in self.hubs:
            for radio in hub.radios:
                if radio in self._by_radio:
                    raise ValueError(f"two hubs serve the {radio} radio")
                self._by_radio[radio] = hub
        self.radios = tuple(self._by_radio)

    def hub_for(self, strap_id: str) -> StrapHub:
        """The hub that hears ``strap_id``; StrapIdError (one sentence) when none does."""
        radio = strap_ids.radio_of(strap_id)
        hub = self._by_radio.get(radio)
        if hub is None:
            raise strap_ids.StrapIdError(
                tr("{strap} is heard on a radio this session does not listen to ({radios})."
                   ).format(strap=strap_id, radios=", ".join(self.radios)))
        return hub

    async def start(self, sink: EventSink) -> None:
        """Start every hub; when one cannot start, the ones started are stopped again and
        its error is raised."""
        started: list[StrapHub] = []
        try:
            for hub in self.hubs:
                await hub.start(sink)
                started.append(hub)
        except BaseException:
            for hub in reversed(started):
                await hub.stop()
            raise

    async def watch(self, strap_id: str, name: str) -> None:
        await self.hub_for(strap_id).watch(strap_id, name)

    async def unwatch(self, strap_id: str) -> None:
        radio = strap_ids.radio_of(strap_id)
        hub = self._by_radio.get(radio)
        if hub is not None:
            await hub.unwatch(strap_id)

    async def set_discovery(self, on: bool) -> None:
        await asyncio.gather(*(hub.set_discovery(on) for hub in self.hubs))

    async def stop(self) -> None:
        """Stop every hub, each whatever the others do."""
        results = await asyncio.gather(*(hub.stop() for hub in reversed(self.hubs)),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
