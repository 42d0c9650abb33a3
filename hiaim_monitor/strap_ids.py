"""Strap ids name their radio: ``ble:AA:BB:CC:DD:EE:FF`` (a BLE address), ``ant:12345`` (an
ANT+ device number), ``sim:0001`` (a simulated strap). One physical strap can be heard on
more than one radio (a dual-mode strap over BLE and ANT+); the registry maps all its ids to
one strap, so it is never counted twice.
"""

from __future__ import annotations

import re
from typing import Final

BLE: Final = "ble"
ANT: Final = "ant"
SIM: Final = "sim"
RADIOS: Final = (BLE, ANT, SIM)

_BLE_ADDRESS = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


class StrapIdError(ValueError):
    """Text that names no strap; the message is one sentence for the user."""


def make(radio: str, address: str) -> str:
    """The strap id of ``address`` heard on ``radio`` (BLE addresses in upper case)."""
    if radio not in RADIOS:
        raise StrapIdError(f"unknown radio {radio!r}: one of {', '.join(RADIOS)}")
    return f"{radio}:{address.upper() if radio == BLE else address}"


def ble(address: str) -> str:
    return make(BLE, address)


def split(strap_id: str) -> tuple[str, str]:
    """(radio, address) of a strap id."""
    radio, sep, address = strap_id.partition(":")
    if not sep or radio not in RADIOS or not address:
        raise StrapIdError(f"{strap_id!r} is not a strap id (radio:address, e.g. "
                           "ble:AA:BB:CC:DD:EE:FF or ant:12345)")
    return radio, address


def radio_of(strap_id: str) -> str:
    return split(strap_id)[0]


def address_of(strap_id: str) -> str:
    """What the radio itself calls the strap (a BLE address, an ANT+ device number)."""
    return split(strap_id)[1]


def parse(text: str) -> str:
    """A strap id from what a user typed: a full id, or a bare BLE address."""
    text = text.strip()
    if _BLE_ADDRESS.match(text):
        return ble(text)
    radio, sep, address = text.partition(":")
    return make(*split(f"{radio.lower()}{sep}{address}"))
