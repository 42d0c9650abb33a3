"""What the operator reads when Bluetooth fails: one sentence each, never a traceback.

Adapter-level problems (no adapter, Bluetooth off, access denied) need the operator's hand
and are reported as such; everything else a single strap can cause (a timeout, a strap
that is not advertising, a busy adapter) is transient, retried, and only ever shows as the
not-advertising hint once the strap has been unreachable for a while. Each sentence is a
``StrapNote`` (hiaim_monitor.strap_notes), so a window shows it in the operator's language.
"""

from __future__ import annotations

from typing import Final

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

from hiaim_monitor.strap_notes import StrapNote, StrapReason

NOT_ADVERTISING: Final = StrapNote.of(StrapReason.NOT_ADVERTISING)
NOT_ADVERTISING_HINT: Final = NOT_ADVERTISING.english()

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


def _no_adapter(adapter: str | None) -> StrapNote:
    return StrapNote.of(StrapReason.NO_ADAPTER, adapter=adapter or "")


def _bluetooth_off(adapter: str | None) -> StrapNote:
    return StrapNote.of(StrapReason.BLUETOOTH_OFF, adapter=adapter or "")


def explain_adapter_error(exc: BaseException, adapter: str | None = None) -> str | None:
    """One English sentence when ``exc`` means the adapter itself is unusable, else None."""
    note = adapter_problem(exc, adapter)
    return None if note is None else note.english()


def adapter_problem(exc: BaseException, adapter: str | None = None) -> StrapNote | None:
    """Why the adapter itself is unusable, when ``exc`` says it is, else None.

    None means the error is about one strap or one attempt, and retrying may help.
    """
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return _bluetooth_off(adapter)
        if exc.reason in _DENIED:
            return StrapNote.of(StrapReason.BLUETOOTH_DENIED)
        if exc.reason is BleakBluetoothNotAvailableReason.UNKNOWN:
            return StrapNote.of(StrapReason.BLUETOOTH_UNAVAILABLE)
        return _no_adapter(adapter)
    if isinstance(exc, BleakDBusError) and exc.dbus_error == _BLUEZ_NOT_READY:
        return _bluetooth_off(adapter)
    if isinstance(exc, BleakError):
        text = str(exc).lower()
        # bleak's BlueZ backend: "adapter 'hci1' not found", "No Bluetooth adapters found."
        if "adapter" in text and ("not found" in text or "no bluetooth adapter" in text):
            return _no_adapter(adapter)
        if "powered off" in text or "no powered bluetooth adapter" in text:
            return _bluetooth_off(adapter)
        return None
    # No D-Bus system bus, or bluetoothd not running behind it.
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return _no_adapter(adapter)
    return None
