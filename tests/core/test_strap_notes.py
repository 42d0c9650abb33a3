"""The sentences the strap drivers send: English to store, the operator's language to show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hiaim_monitor import i18n
from hiaim_monitor.samples import StrapState, StrapStatus
from hiaim_monitor.strap_notes import StrapNote, StrapReason, shown_detail

# One note per code, with the values its sentence names.
EXAMPLES = {
    StrapReason.LINK_DROPPED: StrapNote.of(StrapReason.LINK_DROPPED),
    StrapReason.LINK_SILENT: StrapNote.of(StrapReason.LINK_SILENT),
    StrapReason.NOT_ADVERTISING: StrapNote.of(StrapReason.NOT_ADVERTISING),
    StrapReason.NOT_A_HEART_RATE_STRAP: StrapNote.of(StrapReason.NOT_A_HEART_RATE_STRAP),
    StrapReason.NO_FREE_CONNECTION: StrapNote.of(StrapReason.NO_FREE_CONNECTION, adapters=2,
                                                 straps=14),
    StrapReason.NO_ADAPTER: StrapNote.of(StrapReason.NO_ADAPTER, adapter="hci7"),
    StrapReason.BLUETOOTH_OFF: StrapNote.of(StrapReason.BLUETOOTH_OFF, adapter="hci0"),
    StrapReason.BLUETOOTH_DENIED: StrapNote.of(StrapReason.BLUETOOTH_DENIED),
    StrapReason.BLUETOOTH_UNAVAILABLE: StrapNote.of(StrapReason.BLUETOOTH_UNAVAILABLE),
    StrapReason.NOT_SIMULATED: StrapNote.of(StrapReason.NOT_SIMULATED),
    StrapReason.BATTERY_EMPTY: StrapNote.of(StrapReason.BATTERY_EMPTY),
    StrapReason.NO_DATA: StrapNote.of(StrapReason.NO_DATA, seconds=4.0),
    StrapReason.SIMULATION_FAILED: StrapNote.of(StrapReason.SIMULATION_FAILED,
                                                error="disk {full}"),
    StrapReason.BROADCAST_ONLY: StrapNote.of(StrapReason.BROADCAST_ONLY),
    StrapReason.LISTENING: StrapNote.of(StrapReason.LISTENING),
    StrapReason.UNCHANGING_BROADCAST: StrapNote.of(StrapReason.UNCHANGING_BROADCAST, bpm=72,
                                                   seconds=60.0),
    StrapReason.NO_ANT_STICK: StrapNote.of(StrapReason.NO_ANT_STICK),
    StrapReason.ANT_STICK_LOST: StrapNote.of(StrapReason.ANT_STICK_LOST, stick="3100001"),
    StrapReason.ANT_STICK_DENIED: StrapNote.of(StrapReason.ANT_STICK_DENIED, stick="3100001"),
    StrapReason.ANT_SILENT: StrapNote.of(StrapReason.ANT_SILENT, seconds=5.0),
}


@pytest.fixture
def danish() -> Iterator[None]:
    i18n.set_language("da")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_every_code_has_an_example() -> None:
    assert set(EXAMPLES) == set(StrapReason)


@pytest.mark.parametrize("note", EXAMPLES.values(), ids=lambda n: n.reason.value)
def test_every_sentence_is_in_danish_with_its_values(note: StrapNote, danish: None) -> None:
    english, danish_text = note.english(), note.translated()
    assert english and danish_text and danish_text != english
    assert "{" not in english.replace("{full}", "")  # every placeholder filled
    for _, value in note.values:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        assert shown in english and shown in danish_text


def test_the_english_sentence_stays_english_whatever_the_language(danish: None) -> None:
    status = StrapStatus("ble:A", 1.0, StrapState.LOST,
                         note=StrapNote.of(StrapReason.NOT_ADVERTISING))
    assert status.detail.startswith("Strap not advertising — is it worn")
    assert shown_detail(status.note, status.detail).startswith("Bæltet kan ikke findes")


def test_a_count_of_one_adapter_reads_as_one() -> None:
    one = StrapNote.of(StrapReason.NO_FREE_CONNECTION, adapters=1, straps=7).english()
    assert "1 Bluetooth adapter holds at most 7 straps" in one
    two = StrapNote.of(StrapReason.NO_FREE_CONNECTION, adapters=2, straps=14).english()
    assert "2 Bluetooth adapters hold at most 14 straps" in two


def test_an_adapter_the_stack_does_not_name_leaves_no_gap(danish: None) -> None:
    note = StrapNote.of(StrapReason.BLUETOOTH_OFF, adapter="")
    assert note.english() == "Bluetooth is off: turn it on in the system settings."
    assert note.translated() == "Bluetooth er slået fra: slå det til i systemindstillingerne."


def test_a_plain_sentence_without_a_note_is_shown_as_it_is() -> None:
    assert shown_detail(None, "Simulated trouble.") == "Simulated trouble."
    assert shown_detail(None, "") == ""
