"""What the operator reads when Bluetooth fails: one sentence each, never a traceback.

Adapter-level problems (no adapter, Bluetooth off, access denied) need the operator's hand
and are reported as such; everything else a single strap can cause (a timeout, a strap
that is not advertising, a busy adapter) is transient, retried, and only ever shows as the
not-advertising hint once the strap has been unreachable for a while.
"""

from __future__ import annotations

from typing import Final

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

NOT_ADVERTISING_HINT: Final = (
    "Strap not advertising — is it worn, and not held by a phone? "
    "(a Polar H10 allows a second connection only when enabled in Polar's app)"
)

# BlueZ answers NotReady to a call on an adapter that is powered off.
_BLUEZ_NOT_READY: Final = "org.bluez.Error.NotReady"
_DENIED: Final = {
    BleakBluetoothNotAvailableReason.DENIED_BY_USER,
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM,
    BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN,
}


class AdapterUnavailable(RuntimeError):
    """An adapter cannot be used at all (none there, Bluetooth off, access denied); the
    message is the operator's one sentence."""


def no_adapter_sentence(adapter: str | None) -> str:
    """The operator's sentence for a missing adapter (or no Bluetooth service)."""
    where = f" {adapter}" if adapter else ""
    return (
        f"No Bluetooth adapter{where}: plug one in, or check that the Bluetooth service "
        "is running."
    )


def bluetooth_off_sentence(adapter: str | None) -> str:
    """The operator's sentence for a powered-off adapter."""
    where = f" on {adapter}" if adapter else ""
    return f"Bluetooth is off{where}: turn it on in the system settings."


def explain_adapter_error(exc: BaseException, adapter: str | None = None) -> str | None:
    """One sentence when ``exc`` means the adapter itself is unusable, else None.

    None means the error is about one strap or one attempt, and retrying may help.
    """
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return bluetooth_off_sentence(adapter)
        if exc.reason in _DENIED:
            return "Bluetooth access was denied: allow this program to use Bluetooth."
        if exc.reason is BleakBluetoothNotAvailableReason.UNKNOWN:
            return "Bluetooth is not available: check that it is on and usable."
        return no_adapter_sentence(adapter)
    if isinstance(exc, BleakDBusError) and exc.dbus_error == _BLUEZ_NOT_READY:
        return bluetooth_off_sentence(adapter)
    if isinstance(exc, BleakError):
        text = str(exc).lower()
        # bleak's BlueZ backend: "adapter 'hci1' not found", "No Bluetooth adapters found."
        if "adapter" in text and ("not found" in text or "no bluetooth adapter" in text):
            return no_adapter_sentence(adapter)
        if "powered off" in text or "no powered bluetooth adapter" in text:
            return bluetooth_off_sentence(adapter)
        return None
    # No D-Bus system bus, or bluetoothd not running behind it.
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return no_adapter_sentence(adapter)
    return None
