"""Strap ids name their radio; what a user types (a bare Bluetooth address, an id in any
case) becomes the one stored spelling, and anything else is refused in one sentence."""

from __future__ import annotations

import pytest

from hiaim_monitor import i18n, strap_ids
from hiaim_monitor.strap_ids import StrapIdError


@pytest.mark.parametrize(("typed", "stored"), [
    ("aa:bb:cc:dd:ee:0f", "ble:AA:BB:CC:DD:EE:0F"),  # bare address: a BLE strap
    ("AA-BB-CC-DD-EE-0F", "ble:AA:BB:CC:DD:EE:0F"),  # as Windows prints it
    ("  AA:BB:CC:DD:EE:0F\n", "ble:AA:BB:CC:DD:EE:0F"),
    ("BLE:aa:bb:cc:dd:ee:0f", "ble:AA:BB:CC:DD:EE:0F"),
    ("ant:12345", "ant:12345"),
    ("ANT:012345", "ant:12345"),
    ("sim:0001", "sim:0001"),
    ("sim:12", "sim:0012"),  # as simulators.strap.strap_id_for numbers them
])
def test_what_a_user_types_becomes_the_stored_id(typed, stored):
    assert strap_ids.parse(typed) == stored
    assert strap_ids.parse(stored) == stored


@pytest.mark.parametrize(("typed", "says"), [
    ("", "'' is not a strap id; give the strap's Bluetooth address"),
    ("STRAP-001", "'STRAP-001' is not a strap id; give"),
    ("AA:BB:CC:DD:EE", "'AA:BB:CC:DD:EE' is not a strap id; give"),  # five pairs
    ("usb:1", "'usb:1' is not a strap id; give"),
    ("ble:AA:BB:CC:DD:EE:GG", "a Bluetooth address has six pairs of hex digits"),
    ("ant:12a", "an ANT+ device number is digits only"),
    ("ant:", "an ANT+ device number is digits only"),
    ("sim:one", "a simulated strap is numbered"),
    ("SIM:00:00:00:00:00:01", "a simulated strap is numbered"),  # the old form: migrated
])
def test_text_that_names_no_strap_is_refused_in_one_sentence(typed, says):
    with pytest.raises(StrapIdError) as refused:
        strap_ids.parse(typed)
    message = str(refused.value)
    assert says in message
    one_sentence = message.replace("e.g. ", "eg ")
    assert one_sentence.endswith(".") and ". " not in one_sentence and "\n" not in message


def test_ids_split_into_radio_and_what_the_radio_calls_the_strap():
    strap_id = strap_ids.ble("aa:bb:cc:dd:ee:ff")
    assert strap_id == "ble:AA:BB:CC:DD:EE:FF"
    assert strap_ids.split(strap_id) == ("ble", "AA:BB:CC:DD:EE:FF")
    assert strap_ids.address_of(strap_id) == "AA:BB:CC:DD:EE:FF"
    assert strap_ids.radio_of(strap_ids.make(strap_ids.ANT, "12345")) == "ant"
    for not_an_id in ("AA:BB:CC:DD:EE:FF", "x", "ble:"):
        with pytest.raises(StrapIdError, match="is not a strap id"):
            strap_ids.split(not_an_id)
    with pytest.raises(StrapIdError, match="'usb' is not a radio"):
        strap_ids.make("usb", "1")


def test_refusals_speak_the_operators_language():
    i18n.set_language("da")
    try:
        with pytest.raises(StrapIdError) as refused:
            strap_ids.parse("ant:12a")
    finally:
        i18n.set_language("en")
    assert str(refused.value) == ("'ant:12a' er ikke et bælte-id: et ANT+-enhedsnummer består "
                                  "kun af cifre, fx ant:12345.")
