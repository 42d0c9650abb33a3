"""What the drivers say about a strap reaches the operator in the operator's language."""

from __future__ import annotations

from bleak.exc import BleakError

from drivers.ble import SILENT, over_capacity
from drivers.ble_errors import NOT_ADVERTISING, adapter_problem
from hiaim_monitor import i18n
from hiaim_monitor.samples import StrapState, StrapStatus
from simulators.hub import NOT_SIMULATED
from tests.ui.setup.conftest import STRAP_A, STRAP_B, STRAP_C, STRAP_D, sighting
from ui.setup import SetupPage
from ui.setup.pairing_panel import STATE


def connection_tip(page: SetupPage, strap: str) -> tuple[str, str]:
    table = page.pairing.table
    row = table.row_of(strap)
    assert row >= 0, f"{strap} is not in the list of straps nearby"
    item = table.item(row, STATE)
    return item.text(), item.toolTip()


def statuses() -> list[StrapStatus]:
    # What the drivers send: the BLE driver's hint and silent-link reconnect, its sentence
    # for a strap beyond the adapters' capacity and for a missing adapter, the simulator's.
    missing = adapter_problem(BleakError("adapter 'hci1' not found"), "hci1")
    return [StrapStatus(STRAP_A, 21.0, StrapState.LOST, note=NOT_ADVERTISING),
            StrapStatus(STRAP_B, 21.0, StrapState.RECONNECTING, note=SILENT),
            StrapStatus(STRAP_C, 21.0, StrapState.FAILED, note=over_capacity(2, 7)),
            StrapStatus(STRAP_D, 21.0, StrapState.FAILED, note=missing)]


def test_a_danish_setup_page_says_why_a_strap_is_not_streaming_in_danish(qtbot, model, db):
    i18n.set_language("da")
    try:
        page = SetupPage(model, db)
        qtbot.addWidget(page)
        with qtbot.waitExposed(page):
            page.show()
        strap_ids = (STRAP_A, STRAP_B, STRAP_C, STRAP_D)
        model.ingest([sighting(s, 20.0) for s in strap_ids] + statuses(), 21.0)
        page.refresh()
        assert connection_tip(page, STRAP_A) == (
            "tabt", "Bæltet kan ikke findes — er det taget på, og ikke forbundet til en "
            "telefon? (en Polar H10 tillader kun en ekstra forbindelse, når det er slået til "
            "i Polars app)")
        assert connection_tip(page, STRAP_B) == (
            "genforbinder", "Forbundet, men bæltet sendte ingen puls: forbinder igen.")
        assert connection_tip(page, STRAP_C)[1] == (
            "Ingen ledig Bluetooth-forbindelse til bæltet: 2 Bluetooth-adaptere kan højst "
            "holde 14 bælter, så sæt en adapter mere i og tilføj den.")
        assert connection_tip(page, STRAP_D)[1] == (
            "Ingen Bluetooth-adapter hci1: sæt en i, eller tjek at Bluetooth-tjenesten kører.")
        # The simulated class's sentence too, and a later status replaces the sentence.
        model.ingest([StrapStatus(STRAP_A, 22.0, StrapState.FAILED, note=NOT_SIMULATED)], 22.0)
        page.refresh()
        assert connection_tip(page, STRAP_A)[1].startswith(
            "Bæltet hører ikke til det simulerede holds bælter")
        model.ingest([StrapStatus(STRAP_A, 23.0, StrapState.STREAMING)], 23.0)
        page.refresh()
        assert connection_tip(page, STRAP_A)[1] == ""
    finally:
        i18n.set_language("en")


def test_an_english_setup_page_shows_the_drivers_english(page):
    page.model.ingest([sighting(STRAP_A, 20.0), *statuses()[:1]], 21.0)
    page.refresh()
    assert connection_tip(page, STRAP_A) == ("lost", NOT_ADVERTISING.english())
    assert NOT_ADVERTISING.english().startswith("Strap not advertising — is it worn")
