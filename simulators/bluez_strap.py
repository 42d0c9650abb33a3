"""One emulated strap around the BlueZ double (``simulators.bluez_double``): a
``VirtualStrap`` paced on its ``Clock``, whose Heart Rate Measurement bytes become ``Value``
changes of 0x2A37 while a central has notifications on, and whose heart rate a Polar strap
also advertises; with the faults tests drive (``power_off``, ``drop_connection``,
``abort_next_connect``, ``send_raw``, ``hold_polar_data``).
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Final

from hiaim_monitor import strap_ids
from hiaim_monitor.clock import Clock
from hiaim_monitor.hrm import (
    BATTERY_LEVEL_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    HeartRateMeasurementError,
    decode_heart_rate_measurement,
)
from hiaim_monitor.polar_broadcast import POLAR_COMPANY_ID, encode_polar_broadcast
from simulators.strap import Notification, VirtualStrap, ble_address_for, polar_strap_name

if TYPE_CHECKING:
    from simulators.bluez_double import BluezDouble, DoubleCharacteristic, DoubleDevice

_DUE_SLACK_S: Final = 1e-6  # float rounding of a scaled clock must not leave a send undone


class BluezStrap:
    """One strap on the air around the double; made by ``BluezDouble.add_strap``."""

    def __init__(self, double: BluezDouble, strap: VirtualStrap, clock: Clock, *,
                 polar: bool) -> None:
        self.double = double
        self.strap = strap
        self.polar = polar
        self.name = polar_strap_name(strap.index) if polar else strap.name
        self.address = ble_address_for(strap.index)
        self.strap_id = strap_ids.ble(self.address)
        self.advertised_uuids = (HEART_RATE_SERVICE_UUID,)
        self.notifications_sent: list[bytes] = []  # 0x2A37 values as delivered
        self.polar_data_sent: list[bytes] = []  # Polar payloads advertised
        self.connection_count = 0  # links a central opened to this strap
        self.aborts_pending = 0
        self.aborts_done = 0
        self.battery_pct = strap.battery_pct
        self._clock = clock
        self._rng = random.Random(strap.index)
        self._base_rssi = -45 - (strap.index * 7) % 40
        self._powered = True
        self._link: DoubleDevice | None = None
        self._polar_counter = 0
        self._polar_bpm = 0
        self._polar_held: bytes | None = None
        self._pacer: asyncio.Task[None] | None = None

    # -- what tests and the world see -----------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while an adapter holds a link to this strap (its Device1 ``Connected``)."""
        return self._link is not None and self._link.connected

    @property
    def adapter(self) -> str | None:
        """The adapter holding the link, or None."""
        return None if self._link is None else self._link.adapter.name

    @property
    def advertising(self) -> bool:
        return self._powered and self._link is None

    @property
    def manufacturer_data(self) -> dict[int, bytes]:
        return {POLAR_COMPANY_ID: self.polar_payload} if self.polar else {}

    @property
    def polar_payload(self) -> bytes:
        if self._polar_held is not None:
            return self._polar_held
        return encode_polar_broadcast(self._polar_bpm, counter=self._polar_counter)

    def rssi(self) -> int:
        return self._base_rssi + self._rng.randint(-3, 3)

    # -- faults ---------------------------------------------------------------------------

    def power_off(self) -> None:
        """Switch off: the link drops and the strap vanishes from every adapter."""
        self._powered = False
        if self._link is not None:
            self._link.link_down()
        for adapter in self.double.adapters.values():
            adapter.forget(self)

    def power_on(self) -> None:
        """Switch on again: it advertises until an adapter connects."""
        self._powered = True

    def drop_connection(self) -> None:
        """The strap ends the link; it advertises again for a reconnect."""
        if self._link is None:
            raise RuntimeError(f"{self.name} has no connection to drop")
        self._link.link_down()

    def abort_next_connect(self, times: int = 1) -> None:
        """The next ``times`` Connects fail with le-connection-abort-by-local."""
        self.aborts_pending += times

    def send_raw(self, data: bytes) -> None:
        """Notify ``data`` on 0x2A37 as is (e.g. malformed), outside the model's schedule."""
        hrm = self._characteristic(HEART_RATE_MEASUREMENT_UUID)
        if hrm is None or not hrm.notifying:
            raise RuntimeError(f"{self.name}: no central is subscribed to 0x2A37")
        hrm.notify(bytes(data))
        self.notifications_sent.append(bytes(data))

    def hold_polar_data(self, payload: bytes | None) -> None:
        """Advertise ``payload`` as the Polar data whatever the heart does; None: the model."""
        self._polar_held = None if payload is None else bytes(payload)

    # -- the double's side ----------------------------------------------------------------

    def link_up(self, device: DoubleDevice) -> None:
        self._link = device
        self.connection_count += 1
        self.strap.new_connection()  # a stalled strap notifies again
        for adapter in self.double.adapters.values():
            other = adapter.devices.get(self.address)
            if other is not None and other is not device:
                adapter.forget(self)

    def link_gone(self, device: DoubleDevice) -> None:
        if self._link is device:
            self._link = None

    def start(self) -> None:
        self._pacer = asyncio.create_task(self._pace(), name=f"bluez-double-{self.name}")

    async def stop(self) -> None:
        pacer, self._pacer = self._pacer, None
        if pacer is not None:
            pacer.cancel()
            await asyncio.gather(pacer, return_exceptions=True)
        self.power_off()

    def _characteristic(self, uuid: str) -> DoubleCharacteristic | None:
        link = self._link
        return None if link is None else link.characteristics.get(uuid)

    async def _pace(self) -> None:
        # The heart beats on while nobody listens: what is due unheard is lost, as on a strap.
        while True:
            wait_s = self.strap.next_due_s - self._clock.monotonic()
            if wait_s > 0:
                await self._clock.sleep(wait_s)
                continue
            for note in self.strap.notifications_until(self._clock.monotonic() + _DUE_SLACK_S):
                self._deliver(note)
            if self.strap.battery_empty and self._powered:
                self.power_off()

    def _deliver(self, note: Notification) -> None:
        if note.battery_pct is not None:
            self.battery_pct = note.battery_pct
            battery = self._characteristic(BATTERY_LEVEL_UUID)
            if battery is not None and battery.notifying:
                battery.notify(bytes([note.battery_pct]))
        hrm = self._characteristic(HEART_RATE_MEASUREMENT_UUID)
        if self._powered and hrm is not None and hrm.notifying:
            hrm.notify(note.data)
            self.notifications_sent.append(note.data)
        if self.polar:
            try:
                bpm = decode_heart_rate_measurement(note.data).bpm
            except HeartRateMeasurementError:
                return  # a malformed notification carries no value to broadcast
            self._polar_bpm = min(bpm, 0xFF)
            self._polar_counter = (self._polar_counter + 1) % 8
            if self._polar_held is None and self.advertising:
                self.polar_data_sent.append(self.polar_payload)
