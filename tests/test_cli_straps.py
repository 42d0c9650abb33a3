"""`hiaim-monitor straps`: a strap is given by its bare Bluetooth address or by any id it
has; a second id (a dual-mode strap's ANT+ number) links to the same strap, which one
person wears; a bad id is refused in one line with exit code 2 and changes nothing."""

from __future__ import annotations

import pytest

from hiaim_monitor import i18n
from hiaim_monitor.cli import main
from tests.conftest import ok


def refused(result: tuple[int, str, str], needle: str) -> None:
    code, out, err = result
    assert (code, out) == (2, ""), err
    assert err.startswith("hiaim-monitor: error: ") and err.count("\n") == 1, err
    assert needle in err, err


def table(out: str) -> list[list[str]]:
    return [row.split() for row in out.splitlines()[2:]]


def test_a_bare_address_is_a_ble_strap_in_any_spelling(cli):
    assert ok(cli("straps", "add", "aa-bb-cc-dd-ee-01", "--name", "H10")) == (
        "Registered strap ble:AA:BB:CC:DD:EE:01.\n")
    refused(cli("straps", "add", "BLE:aa:bb:cc:dd:ee:01"),
            "Strap ble:AA:BB:CC:DD:EE:01 is already registered.")
    ok(cli("straps", "add", "ant:4711"))
    rows = table(ok(cli("straps", "list")))
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("ant:4711", "-", "ant"), ("ble:AA:BB:CC:DD:EE:01", "H10", "ble")]


def test_a_bad_strap_id_gets_one_sentence_and_changes_nothing(cli):
    ok(cli("participants", "add", "--code", "HIAIM-001", "--name", "Ann", "--hrmax", "180"))
    ok(cli("straps", "add", "AA:BB:CC:DD:EE:01"))
    before = ok(cli("straps", "list"))
    refused(cli("straps", "add", "AA:BB:CC"), "'AA:BB:CC' is not a strap id; give the "
            "strap's Bluetooth address (AA:BB:CC:DD:EE:FF) or its radio and address")
    refused(cli("straps", "add", "ant:12a"), "an ANT+ device number is digits only")
    refused(cli("straps", "link", "AA:BB:CC:DD:EE:01", "ant:x"), "'ant:x' is not a strap id")
    refused(cli("straps", "assign", "AA:BB:CC:DD:EE", "HIAIM-001"),
            "'AA:BB:CC:DD:EE' is not a strap id")
    refused(cli("straps", "assign", "AA:BB:CC:DD:EE:09", "HIAIM-001"),
            "There is no strap ble:AA:BB:CC:DD:EE:09 in the registry")
    assert ok(cli("straps", "list")) == before


def test_a_dual_mode_strap_is_one_strap_with_two_ids_worn_by_one_person(cli):
    for code in ("HIAIM-001", "HIAIM-002"):
        ok(cli("participants", "add", "--code", code, "--name", code[-1], "--hrmax", "180"))
    ok(cli("straps", "add", "AA:BB:CC:DD:EE:01"))
    ok(cli("straps", "add", "AA:BB:CC:DD:EE:02"))
    assert ok(cli("straps", "link", "aa:bb:cc:dd:ee:01", "ant:12345")) == (
        "Strap ble:AA:BB:CC:DD:EE:01 is now also heard as ant:12345; it stays one strap.\n")

    # By its second id: the physical strap, listed under its first.
    out = ok(cli("straps", "assign", "ANT:12345", "HIAIM-001"))
    assert out == "HIAIM-001 now wears strap ble:AA:BB:CC:DD:EE:01 by default.\n"
    rows = table(ok(cli("straps", "list")))
    assert [(r[0], r[1], r[-2]) for r in rows] == [
        ("ble:AA:BB:CC:DD:EE:01", "ant:12345", "HIAIM-001"),
        ("ble:AA:BB:CC:DD:EE:02", "-", "-")]
    # Either id takes the one strap over; nobody is left wearing "the other" id.
    out = ok(cli("straps", "assign", "AA:BB:CC:DD:EE:01", "HIAIM-002"))
    assert "The strap was HIAIM-001's; HIAIM-001 has no default strap now." in out
    people = table(ok(cli("participants", "list")))
    assert [(r[0], r[9]) for r in people] == [("HIAIM-001", "-"),
                                             ("HIAIM-002", "ble:AA:BB:CC:DD:EE:01")]


def test_an_id_names_one_strap(cli):
    ok(cli("straps", "add", "AA:BB:CC:DD:EE:01"))
    ok(cli("straps", "add", "AA:BB:CC:DD:EE:02"))
    ok(cli("straps", "link", "AA:BB:CC:DD:EE:01", "ant:12345"))
    before = ok(cli("straps", "list"))
    refused(cli("straps", "link", "AA:BB:CC:DD:EE:02", "ant:12345"),
            "ant:12345 is already the id of strap ble:AA:BB:CC:DD:EE:01; one id names one "
            "strap.")
    refused(cli("straps", "link", "ant:12345", "AA:BB:CC:DD:EE:01"),
            "Strap ble:AA:BB:CC:DD:EE:01 already has the id ble:AA:BB:CC:DD:EE:01.")
    refused(cli("straps", "add", "ant:12345"), "Strap ant:12345 is already registered.")
    refused(cli("straps", "link", "ant:999", "ant:1000"), "There is no strap ant:999")
    assert ok(cli("straps", "list")) == before


def test_the_straps_help_speaks_the_operators_language(capsys):
    i18n.set_language("da")
    try:
        with pytest.raises(SystemExit) as done:
            main(["straps", "--help"])
    finally:
        i18n.set_language("en")
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "vis, tilføj, sammenkæd og tildel pulsbælter" in out
    assert "giv et registreret bælte endnu et id" in out
