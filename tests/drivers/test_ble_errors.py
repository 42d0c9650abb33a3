"""The sentences an operator reads when Bluetooth itself is the problem."""

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from drivers.ble import over_capacity_sentence
from drivers.ble_errors import NOT_ADVERTISING_HINT, explain_adapter_error


def _unavailable(reason: BleakBluetoothNotAvailableReason) -> BleakBluetoothNotAvailableError:
    return BleakBluetoothNotAvailableError("not available", reason)


@pytest.mark.parametrize(
    "exc",
    [
        _unavailable(BleakBluetoothNotAvailableReason.NO_BLUETOOTH),
        _unavailable(BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE),
        BleakError("adapter 'hci1' not found"),  # bleak's BlueZ manager, verbatim
        BleakError("No Bluetooth adapters found."),
        FileNotFoundError(2, "No such file or directory: /run/dbus/system_bus_socket"),
    ],
)
def test_a_missing_adapter_says_no_bluetooth_adapter(exc: BaseException) -> None:
    sentence = explain_adapter_error(exc, "hci1")
    assert sentence is not None
    assert sentence.startswith("No Bluetooth adapter hci1")


@pytest.mark.parametrize(
    "exc",
    [
        _unavailable(BleakBluetoothNotAvailableReason.POWERED_OFF),
        BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
    ],
)
def test_a_powered_off_adapter_says_bluetooth_is_off(exc: BaseException) -> None:
    assert explain_adapter_error(exc, "hci0") == (
        "Bluetooth is off on hci0: turn it on in the system settings."
    )


@pytest.mark.parametrize(
    "exc",
    [
        BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"]),
        BleakDeviceNotFoundError("C0:FF:EE:00:00:01", "Device was not found."),
        BleakError("Not connected"),
        TimeoutError(),
    ],
)
def test_errors_about_one_strap_are_left_to_the_retry_loop(exc: BaseException) -> None:
    assert explain_adapter_error(exc, "hci0") is None


def test_the_hints_are_one_sentence_with_what_to_do() -> None:
    assert "Polar H10" in NOT_ADVERTISING_HINT
    assert "worn" in NOT_ADVERTISING_HINT
    sentence = over_capacity_sentence(2, 7)
    assert "14 straps" in sentence
    assert "another adapter" in sentence
    assert sentence.count(".") == 1 and sentence.endswith(".")
