"""Emulated heart-rate straps and laptop BLE adapters on one in-process bumble radio link.

``EmulatedBleWorld`` holds K central adapters ("hci0", "hci1", ...) and N emulated straps.
While started it is *installed*: the bleak backend in ``simulators.bleak_bumble`` finds it
and picks the adapter named by ``bluez={"adapter": ...}``, so driver code written against the
public bleak API runs unchanged against emulated straps::

    async with EmulatedBleWorld(adapter_count=2) as world:
        strap = await world.add_strap(virtual_strap, clock=clock)
        scanner = BleakScanner(on_adv, [HEART_RATE_SERVICE_UUID], backend=BumbleScanner)

Radio timing (advertising every 100 ms, connection set-up) runs on the event loop's real
time; heart data is paced on the ``Clock`` given to each strap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final, Self

from bumble import hci
from bumble.device import Advertisement, Device
from bumble.link import LocalLink

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.session_cue import SessionCue
from simulators.ble_link import (
    EmulatedController,
    cancel_pending_connect,
    disconnect_quietly,
    make_device,
)
from simulators.ble_strap_peripheral import EmulatedStrap, polar_strap_name, strap_address_for
from simulators.faults import FaultConfig
from simulators.fleet import make_class_straps
from simulators.physiology import VirtualParticipant
from simulators.strap import VirtualStrap

__all__ = ["EmulatedAdapter", "EmulatedBleWorld", "EmulatedStrap", "installed_world"]

logger = logging.getLogger(__name__)

MAX_ADAPTERS: Final = config.MAX_EMULATED_ADAPTERS
# What BlueZ puts in LL_TERMINATE_IND when the host disconnects.
_REASON_HOST_DISCONNECT: Final = hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR

_installed: EmulatedBleWorld | None = None

AdvertisementListener = Callable[[Advertisement], None]


def installed_world() -> EmulatedBleWorld | None:
    """The started world the bleak backend talks to, if any."""
    return _installed


class EmulatedAdapter:
    """One laptop Bluetooth adapter: a bumble central that can scan and hold connections."""

    def __init__(self, name: str, device: Device, controller: EmulatedController) -> None:
        self.name = name
        self.device = device
        self.controller = controller
        # BlueZ runs one LE connection attempt per adapter at a time; the bleak backend
        # sets this while a connect is in progress and refuses a second one.
        self.connect_in_progress = False
        self._listeners: list[AdvertisementListener] = []
        self._scan_lock = asyncio.Lock()

    @property
    def address(self) -> str:
        return self.device.random_address.to_string(False)

    @property
    def connection_count(self) -> int:
        """Links this adapter holds open right now."""
        return len(self.device.connections)

    async def add_scan_listener(self, listener: AdvertisementListener) -> None:
        """Deliver every advertisement heard to ``listener``; scanning starts with the first."""
        async with self._scan_lock:
            self._listeners.append(listener)
            if len(self._listeners) == 1:
                self.device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
                await self.device.start_scanning(filter_duplicates=False)

    async def remove_scan_listener(self, listener: AdvertisementListener) -> None:
        """Stop delivering to ``listener``; scanning stops with the last one."""
        async with self._scan_lock:
            if listener not in self._listeners:
                return
            self._listeners.remove(listener)
            if not self._listeners:
                self.device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
                await self.device.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for listener in list(self._listeners):
            listener(advertisement)

    async def cancel_pending_connect(self) -> None:
        """End a connection attempt the controller still holds (its initiator gave up)."""
        await cancel_pending_connect(self.device, self.controller)

    async def _shutdown(self) -> None:
        await self.cancel_pending_connect()
        for listener in list(self._listeners):
            await self.remove_scan_listener(listener)
        for connection in list(self.device.connections.values()):
            await disconnect_quietly(self.device, connection, _REASON_HOST_DISCONNECT)


class EmulatedBleWorld:
    """A radio link with ``adapter_count`` central adapters and the straps added to it."""

    def __init__(self, adapter_count: int = 1) -> None:
        if not 1 <= adapter_count <= MAX_ADAPTERS:
            raise ValueError(
                f"an emulated world has 1–{MAX_ADAPTERS} adapters, not {adapter_count}"
            )
        self.adapters: list[str] = [f"hci{i}" for i in range(adapter_count)]
        self._adapters: dict[str, EmulatedAdapter] = {}
        self._straps: list[EmulatedStrap] = []
        self._link: LocalLink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def started(self) -> bool:
        return self._link is not None

    @property
    def straps(self) -> list[EmulatedStrap]:
        return list(self._straps)

    async def start(self) -> None:
        """Power on the adapters and install this world for the bleak backend."""
        global _installed
        loop = asyncio.get_running_loop()
        # A world left installed by a finished event loop is dead and may be replaced.
        if _installed is not None and _installed._loop is loop:
            raise RuntimeError("another emulated BLE world is running: stop it first")
        if self._link is not None:
            raise RuntimeError("this emulated BLE world is already running")
        self._loop = loop
        self._link = LocalLink()
        for i, name in enumerate(self.adapters, start=1):
            # Random static addresses (top two bits set), distinct per adapter.
            address = hci.Address(f"C0:00:00:00:00:{i:02X}", hci.Address.RANDOM_DEVICE_ADDRESS)
            device, controller = make_device(self._link, name, address)
            await device.power_on()
            self._adapters[name] = EmulatedAdapter(name, device, controller)
        _installed = self

    async def stop(self) -> None:
        """Switch every strap off and close every link; afterwards nothing is connected."""
        global _installed
        if self._link is None:
            return
        for adapter in self._adapters.values():
            await adapter._shutdown()
        for strap in self._straps:
            await strap._shutdown()
        if _installed is self:
            _installed = None
        self._link = None

    async def add_strap(self, strap: VirtualStrap, *, clock: Clock,
                        polar: bool = False) -> EmulatedStrap:
        """Put ``strap`` on the air: a powered-on, advertising peripheral paced on ``clock``;
        ``polar``: a Polar H10 that also broadcasts its heart rate in its advertisements."""
        if self._link is None:
            raise RuntimeError("start the emulated BLE world before adding straps")
        address = strap_address_for(strap.index)
        if any(s.address == address.to_string(False) for s in self._straps):
            raise ValueError(f"a strap with index {strap.index} is already on this link")
        name = polar_strap_name(strap.index) if polar else strap.name
        device, _controller = make_device(self._link, name, address)
        emulated = EmulatedStrap(strap, clock, device, polar=polar)
        await device.power_on()
        await emulated.power_on()
        self._straps.append(emulated)
        return emulated

    async def add_class(
        self,
        participants: Sequence[VirtualParticipant],
        *,
        clock: Clock,
        cue: SessionCue | None = None,
        protocol: TrainingProtocol | None = None,
        session_start_s: float = 0.0,
        faults: FaultConfig | None = None,
        seed: int = 0,
        polar: bool = False,
    ) -> list[EmulatedStrap]:
        """One strap per participant on the air, the straps ``SimulatedStrapHub`` would run
        (numbered 1…, same seeds and faults); the hearts follow ``cue`` when given (what the
        operator runs), else ``protocol`` from ``session_start_s``, else they stay at rest.
        Their strap ids are ``ble:`` + ``address``: on the air they are BLE straps; with
        ``polar`` they are Polar H10s that broadcast their heart rate too."""
        straps = make_class_straps(participants, start_t_s=clock.monotonic(),
                                   protocol=protocol, session_start_s=session_start_s,
                                   cue=cue, faults=faults, seed=seed)
        return [await self.add_strap(strap, clock=clock, polar=polar) for strap in straps]

    def adapter(self, name: str | None = None) -> EmulatedAdapter:
        """The adapter called ``name``, or the first one (BlueZ's default adapter)."""
        if self._link is None:
            raise RuntimeError("the emulated BLE world is not running")
        found = self._adapters.get(name or self.adapters[0])
        if found is None:
            raise KeyError(f"adapter '{name}' not found: this world has {', '.join(self.adapters)}")
        return found

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
