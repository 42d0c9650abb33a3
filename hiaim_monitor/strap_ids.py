"""Strap ids name their radio: ``ble:AA:BB:CC:DD:EE:FF`` (a BLE address), ``ant:12345`` (an
ANT+ device number), ``sim:0001`` (a simulated strap). One physical strap can be heard on
more than one radio (a dual-mode strap over BLE and ANT+); the registry maps all its ids to
one strap, so it is never counted twice.

``make``/``ble`` build the ids drivers report; ``parse`` reads what a user typed, checks it
and gives the one spelling that is stored (radio in lower case, a BLE address in upper case
with colons, numbers without leading zeros except a simulated strap's four digits), so
``aa-bb-cc-dd-ee-ff`` and ``BLE:AA:BB:CC:DD:EE:FF`` name one strap, and so do ``sim:12``
and ``sim:0012``.
"""

from __future__ import annotations

import re
from typing import Final

from hiaim_monitor.i18n import tr

BLE: Final = "ble"
ANT: Final = "ant"
SIM: Final = "sim"
RADIOS: Final = (BLE, ANT, SIM)

# Colons as BlueZ and macOS print them, dashes as Windows does.
_BLE_ADDRESS: Final = re.compile(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}")
# ANT+ device numbers are 16 bits, 20 with the extended bits of the transmission type.
_ANT_NUMBER: Final = re.compile(r"[0-9]{1,7}")
_SIM_NUMBER: Final = re.compile(r"[0-9]{1,6}")


class StrapIdError(ValueError):
    """Text that names no strap; the message is one sentence for the user."""


def make(radio: str, address: str) -> str:
    """The strap id of ``address`` heard on ``radio`` (BLE addresses in upper case)."""
    if radio not in RADIOS:
        raise StrapIdError(tr("{radio} is not a radio a strap is heard on; use one of "
                              "{radios}.").format(radio=repr(radio), radios=", ".join(RADIOS)))
    return f"{radio}:{address.upper() if radio == BLE else address}"


def ble(address: str) -> str:
    """The strap id of a BLE address."""
    return make(BLE, address)


def split(strap_id: str) -> tuple[str, str]:
    """(radio, address) of a strap id."""
    radio, sep, address = strap_id.partition(":")
    if not sep or radio not in RADIOS or not address:
        raise StrapIdError(_not_an_id(strap_id))
    return radio, address


def radio_of(strap_id: str) -> str:
    return split(strap_id)[0]


def address_of(strap_id: str) -> str:
    """What the radio itself calls the strap (a BLE address, an ANT+ device number)."""
    return split(strap_id)[1]


def parse(text: str) -> str:
    """The strap id a user means: a full id (``ble:…``, ``ant:12345``, ``sim:0001``, the
    radio in any case), or a bare BLE address. Raises ``StrapIdError`` (one sentence) for
    anything else."""
    text = text.strip()
    if _BLE_ADDRESS.fullmatch(text):
        return ble(text.replace("-", ":"))
    radio, sep, address = text.partition(":")
    radio = radio.lower()
    if not sep or radio not in RADIOS:
        raise StrapIdError(_not_an_id(text))
    valid = {BLE: _BLE_ADDRESS, ANT: _ANT_NUMBER, SIM: _SIM_NUMBER}[radio]
    if not valid.fullmatch(address):
        raise StrapIdError({
            BLE: tr("{text} is not a strap id: a Bluetooth address has six pairs of hex "
                    "digits, e.g. ble:AA:BB:CC:DD:EE:FF."),
            ANT: tr("{text} is not a strap id: an ANT+ device number is digits only, e.g. "
                    "ant:12345."),
            SIM: tr("{text} is not a strap id: a simulated strap is numbered, e.g. "
                    "sim:0001."),
        }[radio].format(text=repr(text)))
    if radio == ANT:
        address = str(int(address))  # a device number: 012345 is 12345
    elif radio == SIM:
        address = f"{int(address):04d}"  # as simulators.strap.strap_id_for numbers them
    return make(radio, address.replace("-", ":"))


def _not_an_id(text: str) -> str:
    return tr("{text} is not a strap id; give the strap's Bluetooth address "
              "(AA:BB:CC:DD:EE:FF) or its radio and address, e.g. ble:AA:BB:CC:DD:EE:FF or "
              "ant:12345.").format(text=repr(text))
