"""The setup page as the physiotherapist meets it before class."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from hiaim_monitor import i18n
from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import BatteryReading
from tests.ui.setup.conftest import (
    STRAP_A,
    STRAP_B,
    STRAP_C,
    STRAP_D,
    TODAY,
    beat,
    roster_row,
    sighting,
    streaming,
)
from ui.setup import SetupPage
from ui.setup.pairing_panel import WEARER

SCREENSHOT = "/tmp/setup_page.png"


def test_roster_lists_registered_participants_with_remembered_straps_ticked(page):
    table = page.roster.table
    assert [table.cell_texts(r)["Name"] for r in range(table.rowCount())] == [
        "Anna", "Bo", "Cy", "Dorte"]
    anna, bo, cy = (roster_row(page, n) for n in ("Anna", "Bo", "Cy"))
    assert anna["Strap"] == STRAP_A and anna["Code"] == "HA-001"
    assert bo["Strap"] == STRAP_B
    assert cy["Strap"] == "—"
    here = [table.item(r, 0).checkState() for r in range(table.rowCount())]
    assert here == [Qt.CheckState.Checked, Qt.CheckState.Checked, Qt.CheckState.Unchecked,
                    Qt.CheckState.Unchecked]
    assert (anna["HRmax"], anna["Method"]) == ("168", "measured")
    assert (bo["HRmax"], bo["Method"]) == ("158", "Tanaka (age)")  # 208 − 0.7 × 71
    assert (cy["HRmax"], cy["Method"]) == ("164", "220 − age")
    assert cy["Check"] == "β-blocker: heart-rate targets may not apply" and anna["Check"] == ""


def test_strap_name_replaces_the_address_once_heard(page):
    page.model.ingest([sighting(STRAP_A, 1.0)], 1.0)
    page.refresh()
    assert roster_row(page, "Anna")["Strap"] == "Polar H10 8C4D2F1A"


def test_problems_block_start_until_every_attending_participant_has_a_strap(page, qtbot):
    started = []
    page.start_requested.connect(lambda: started.append(True))
    assert page.start_button.isEnabled()  # Anna and Bo have their remembered straps

    cy_row = page.roster.table.row_of("HA-003")
    page.roster.table.item(cy_row, 0).setCheckState(Qt.CheckState.Checked)
    problems = [page.problems.item(i).text() for i in range(page.problems.count())]
    assert problems == ["Cy has no strap: assign one, or untick them."]
    assert page.problems.isVisible()
    assert not page.start_button.isEnabled()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert started == []

    page.model.ingest([sighting(STRAP_C, 1.0)], 1.0)
    page.refresh()
    page.roster.select("HA-003")
    page.pairing.table.selectRow(page.pairing.table.row_of(STRAP_C))
    qtbot.mouseClick(page.pairing.assign_button, Qt.MouseButton.LeftButton)
    assert page.problems.count() == 0 and not page.problems.isVisible()
    assert page.problems_title.text() == "Ready: 3 participants, HI AIM."
    assert page.start_button.isEnabled()
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert started == [True]
    assert [p.display_name for p in page.model.plan().participants] == ["Anna", "Bo", "Cy"]


def test_unticking_everyone_says_who_must_be_ticked(page):
    table = page.roster.table
    for row in range(table.rowCount()):
        table.item(row, 0).setCheckState(Qt.CheckState.Unchecked)
    assert page.problems.item(0).text() == "Tick at least one participant who is here today."
    assert not page.start_button.isEnabled()
    assert table.item(0, 1).foreground().color().name() == "#808080"  # absent: grey


def test_refresh_redraws_only_when_the_model_changed(page, monkeypatch):
    calls = []
    monkeypatch.setattr(page.roster, "render", lambda: calls.append(1))
    page.refresh()
    page.refresh()
    assert calls == []
    page.model.set_attending("HA-003", True)
    page.refresh()
    page.refresh()
    assert calls == [1]


def test_show_message_appears_under_the_page(page):
    page.show_message("The database is locked by another program; close it or wait.")
    assert page.message.isVisible()
    assert page.message.text().startswith("The database is locked")


def test_missing_strap_hint_shows_on_the_participants_row(page):
    page.model.ingest([sighting(STRAP_A, 25.0)], 25.0)  # Bo's strap never heard
    page.refresh()
    bo = roster_row(page, "Bo")
    assert bo["Check"].startswith(f"Strap {STRAP_B} is not found")
    assert "phone" in bo["Check"]
    assert bo["Strap"].startswith("⚠")
    assert roster_row(page, "Anna")["Check"] == ""


def test_chosen_protocol_and_splitter_are_remembered(qtbot, page, model, db):
    page.protocols.combo.setCurrentIndex(page.protocols.combo.findData("norwegian-4x4"))
    assert model.protocol.name == "Norwegian 4x4"
    page.main.setSizes([500, 220])
    page.save_settings()
    state = page.main.saveState()
    assert QSettings("hiaim-monitor", "control").value("setup/protocol") == "norwegian-4x4"

    fresh = ClassSetup([], load_protocol("hi-aim"), today=TODAY)
    again = SetupPage(fresh, db)
    qtbot.addWidget(again)
    assert fresh.protocol.name == "Norwegian 4x4"
    assert again.protocols.combo.currentText() == "Norwegian 4x4"
    assert again.main.saveState() == state
    kept = ClassSetup([], load_protocol("hi-aim"), today=TODAY)
    SetupPage(kept, db, restore_protocol=False).deleteLater()
    assert kept.protocol.name == "HI AIM"


def test_page_speaks_danish(qtbot, model, db):
    i18n.set_language("da")
    try:
        model.set_attending("HA-003", True)
        page = SetupPage(model, db)
        qtbot.addWidget(page)
        texts = [page.start_button.text(), page.pairing.assign_button.text(),
                 page.roster.add_button.text(), page.protocols.open_button.text(),
                 page.roster.table.horizontalHeaderItem(0).text(),
                 page.pairing.table.horizontalHeaderItem(0).text()]
        assert texts == ["Start", "Tildel →", "Tilføj deltager…", "Åbn fil…", "Her",
                         "Vis puls"]
        assert page.problems.item(0).text() == "Cy har intet bælte: tildel et, eller fjern " \
            "fluebenet."
        assert roster_row(page, "Bo")["Method"] == "Tanaka (alder)"
        # The protocol files' own Danish: names in the picker, the description below it.
        combo = page.protocols.combo
        assert combo.itemText(combo.findData("norwegian-4x4")) == "Norsk 4x4"
        assert page.protocols.description.text().startswith("Opvarmning på cykel, ski")
    finally:
        i18n.set_language("en")


def test_screenshot_with_straps_nearby(page, qtbot):
    model = page.model
    model.set_attending("HA-003", True)
    model.set_preview(STRAP_C, True)
    events = [sighting(STRAP_A, 21.0, -52), sighting(STRAP_C, 21.0, -64),
              sighting(STRAP_D, 21.5, -83), streaming(STRAP_A, 21.0), streaming(STRAP_C, 21.2),
              beat(STRAP_A, 22.0, 74), beat(STRAP_C, 22.0, 91)]
    model.ingest(events, 22.0)
    page.show_message("Connecting Polar H9 5B11E0C2 to show its heart rate…")
    page.refresh()
    qtbot.wait(50)
    page.grab().save(SCREENSHOT)
    assert roster_row(page, "Bo")["Check"]  # never heard: the hint is there


def test_every_strap_column_shows_whole_in_danish_at_the_windows_first_size(qtbot, model, db):
    i18n.set_language("da")
    try:
        page = SetupPage(model, db)
        qtbot.addWidget(page)
        page.resize(1100, 650)  # the control window's size the first time it opens
        with qtbot.waitExposed(page):
            page.show()
        strap_ids = (STRAP_A, STRAP_B, STRAP_C, STRAP_D)
        model.ingest([sighting(s, 21.0, -55) for s in strap_ids]
                     + [streaming(s, 21.0) for s in strap_ids]
                     + [BatteryReading(s, 21.0, 80) for s in strap_ids], 22.0)
        page.refresh()
        qtbot.wait(20)
        table = page.pairing.table
        header = table.horizontalHeader()
        assert table.horizontalHeaderItem(WEARER).text() == "Bæres af"
        assert table.horizontalScrollBar().maximum() == 0, "the strap list needs scrolling sideways"
        last = header.sectionViewportPosition(WEARER) + header.sectionSize(WEARER)
        assert last <= table.viewport().width()
        title_px = header.fontMetrics().horizontalAdvance("Bæres af")
        assert header.sectionSize(WEARER) >= title_px
        assert roster_row(page, "Anna")["Name"] == "Anna"  # the roster keeps its room
        assert page.roster.table.horizontalScrollBar().maximum() == 0
    finally:
        i18n.set_language("en")
