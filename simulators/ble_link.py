"""bumble plumbing shared by the emulated straps and adapters: one in-memory radio link.

Every emulated device is a full bumble stack (``Device`` over ``Host`` over ``Controller``)
and all controllers share one ``LocalLink``, so advertising, connections, ATT and GATT run
the real protocol code paths, in-process, without Bluetooth hardware.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from bumble import hci
from bumble.controller import Controller
from bumble.core import BaseBumbleError
from bumble.device import Connection, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

# A disconnect whose Disconnection Complete never arrives must not hang a stop.
DISCONNECT_TIMEOUT_S: Final = 2.0


class EmulatedController(Controller):
    """bumble's link-layer controller with a working LE Create Connection Cancel.

    bumble 0.0.236 answers the cancel with success but keeps the pending connection and
    never reports its end, so a timed-out connect hangs and the next one is refused. Here
    the cancel ends the attempt as the Core spec (Vol 4, Part E, 7.8.13) says: Command
    Complete, then LE Connection Complete with Unknown Connection Identifier.
    """

    def on_hci_le_create_connection_cancel_command(
        self, _command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        cancelled = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=pending.peer_address.address_type,
            peer_address=pending.peer_address,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # Scheduled, so the host sees the Command Complete (sent on return) first.
        asyncio.get_running_loop().call_soon(self.send_hci_packet, cancelled)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def make_device(
    link: LocalLink, name: str, address: hci.Address
) -> tuple[Device, EmulatedController]:
    """A bumble device and its own controller on ``link``; power the device on before use."""
    controller = EmulatedController(name, link=link)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=address, host=host), controller


def connection_is_open(device: Device, connection: Connection) -> bool:
    return device.connections.get(connection.handle) is connection


async def disconnect_quietly(device: Device, connection: Connection, reason: int) -> None:
    """Close ``connection`` if it is still open; a link that is already gone is not an error."""
    if not connection_is_open(device, connection):
        return
    with contextlib.suppress(BaseBumbleError, TimeoutError):
        # bumble's controller acknowledges a disconnect of a vanished handle and then stays
        # silent, so the wait is bounded.
        await asyncio.wait_for(device.disconnect(connection, reason), DISCONNECT_TIMEOUT_S)


async def cancel_pending_connect(device: Device, controller: EmulatedController) -> None:
    """End the LE connection attempt ``controller`` may still hold for ``device``."""
    if controller.pending_le_connection is None:
        return
    with contextlib.suppress(BaseBumbleError, TimeoutError):
        await device.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())
