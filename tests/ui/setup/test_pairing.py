"""Putting the right strap on the right person: by button, by drag and drop, and by watching
whose number moves."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from hiaim_monitor.config import LIVE_BPM_FOR_S
from tests.ui.setup.conftest import (
    NAMES,
    STRAP_A,
    STRAP_C,
    STRAP_D,
    beat,
    roster_row,
    sighting,
    strap_row,
    streaming,
)
from ui.setup.pairing_panel import signal_text
from ui.setup.strap_drag import STRAP_MIME


def hear(page, *straps, t_s=1.0):
    page.model.ingest([sighting(s, t_s, -55 - 10 * i) for i, s in enumerate(straps)], t_s)
    page.refresh()


def drag_strap_onto(page, strap, name, qtbot):
    """A real drop: the drag data Qt takes from the pairing table's model when the row is
    dragged, delivered to the roster's viewport over the participant's row as enter, move
    and drop events."""
    pairing = page.pairing.table
    pairing.selectRow(pairing.row_of(strap))
    data = pairing.model().mimeData(pairing.selectionModel().selectedIndexes())
    assert data.hasFormat(STRAP_MIME) and data.text() == strap
    roster = page.roster.table
    target = next(r for r in range(roster.rowCount()) if roster.item(r, 1).text() == name)
    pos = QPointF(roster.visualItemRect(roster.item(target, 1)).center())
    viewport = roster.viewport()
    actions = Qt.DropAction.LinkAction | Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), actions, data, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos.toPoint(), actions, data, buttons, mods)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    drop = QDropEvent(pos, actions, data, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    qtbot.wait(10)
    return drop


def test_nearby_straps_show_name_address_signal_and_wearer(page):
    hear(page, STRAP_A, STRAP_D)
    anna_strap = strap_row(page, STRAP_A)
    assert anna_strap["Strap"] == f"{NAMES[STRAP_A]}\n{STRAP_A}"
    assert anna_strap["Signal (dBm)"] == "▮▮▮▮ -55"
    assert anna_strap["Connection"] == "advertising"
    assert anna_strap["Worn by"] == "Anna"
    assert anna_strap["bpm"] == "—"
    assert strap_row(page, STRAP_D)["Worn by"] == ""
    assert signal_text(-75) == "▮▮▯▯ -75" and signal_text(None) == "—"


def test_assign_button_puts_the_selected_strap_on_the_selected_participant(page, qtbot):
    page.model.set_attending("HA-004", True)
    hear(page, STRAP_C, STRAP_D)
    page.roster.select("HA-003")
    page.pairing.table.selectRow(page.pairing.table.row_of(STRAP_D))
    qtbot.mouseClick(page.pairing.assign_button, Qt.MouseButton.LeftButton)
    cy = roster_row(page, "Cy")
    assert cy["Strap"] == NAMES[STRAP_D]
    assert page.roster.table.item(page.roster.table.row_of("HA-003"), 0).checkState() \
        == Qt.CheckState.Checked
    assert strap_row(page, STRAP_D)["Worn by"] == "Cy"
    assert page.message.text() == f"{NAMES[STRAP_D]} is now worn by Cy."
    # The next one here without a strap is selected, ready for the next strap.
    assert page.roster.selected_code() == "HA-004"


def test_assign_without_a_participant_selected_says_what_to_do(page, qtbot):
    hear(page, STRAP_C)
    page.roster.table.clearSelection()
    page.pairing.table.selectRow(0)
    qtbot.mouseClick(page.pairing.assign_button, Qt.MouseButton.LeftButton)
    assert "Select a participant" in page.message.text()
    assert page.model.wearer(STRAP_C) is None


def test_dropping_a_strap_on_a_row_assigns_it(page, qtbot):
    hear(page, STRAP_C, STRAP_D)
    drop = drag_strap_onto(page, STRAP_C, "Dorte", qtbot)
    assert drop.isAccepted()
    assert roster_row(page, "Dorte")["Strap"] == NAMES[STRAP_C]
    assert page.model.entry("HA-004").attending
    assert strap_row(page, STRAP_C)["Worn by"] == "Dorte"


def test_dropping_a_worn_strap_takes_it_from_its_wearer_and_says_so(page, qtbot):
    hear(page, STRAP_A)
    drag_strap_onto(page, STRAP_A, "Cy", qtbot)
    assert roster_row(page, "Cy")["Strap"] == NAMES[STRAP_A]
    assert roster_row(page, "Anna")["Strap"] == "—"
    assert page.message.text() == (f"{NAMES[STRAP_A]} moved from Anna to Cy; Anna has no "
                                   "strap now.")
    assert "Anna has no strap: assign one, or untick them." in [
        page.problems.item(i).text() for i in range(page.problems.count())]
    assert not page.start_button.isEnabled()


def test_drop_of_something_else_is_refused(page, qtbot):
    from PySide6.QtCore import QMimeData

    roster = page.roster.table
    data = QMimeData()
    data.setText(STRAP_C)
    pos = roster.visualItemRect(roster.item(2, 1)).center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(roster.viewport(), enter)
    assert not enter.isAccepted()
    assert roster_row(page, "Cy")["Strap"] == "—"
    assert STRAP_MIME not in data.formats()


def test_unassign_takes_the_strap_off(page, qtbot):
    page.roster.select("HA-001")
    qtbot.mouseClick(page.roster.unassign_button, Qt.MouseButton.LeftButton)
    assert roster_row(page, "Anna")["Strap"] == "—"
    assert page.message.text() == "Anna has no strap now."


def test_previewed_strap_shows_its_live_bpm_then_loses_it(page):
    hear(page, STRAP_C, STRAP_D)
    table = page.pairing.table
    table.item(table.row_of(STRAP_C), 0).setCheckState(Qt.CheckState.Checked)
    assert page.model.previewing(STRAP_C)
    assert STRAP_C in page.model.wanted_straps()
    assert "Connecting Polar H9 5B11E0C2" in page.message.text()

    page.model.ingest([streaming(STRAP_C, 2.0), beat(STRAP_C, 3.0, 128)], 3.0)
    page.refresh()
    row = strap_row(page, STRAP_C)
    assert (row["Connection"], row["bpm"]) == ("connected", "128")
    assert strap_row(page, STRAP_D)["bpm"] == "—"

    page.model.ingest([], 3.0 + LIVE_BPM_FOR_S + 0.5)  # the strap goes quiet
    page.refresh()
    row = strap_row(page, STRAP_C)
    assert row["bpm"] == "—"
    assert table.item(table.row_of(STRAP_C), 4).foreground().color().name() == "#808080"

    table.item(table.row_of(STRAP_C), 0).setCheckState(Qt.CheckState.Unchecked)
    assert STRAP_C not in page.model.wanted_straps()


def test_selection_follows_the_strap_when_rows_reorder(page):
    hear(page, STRAP_C, STRAP_D)
    page.pairing.table.selectRow(page.pairing.table.row_of(STRAP_D))
    page.model.ingest([sighting(STRAP_D, 2.0, -40)], 2.0)  # now the strongest: moves up
    page.refresh()
    assert page.pairing.table.row_of(STRAP_D) == 0
    assert page.pairing.selected_strap() == STRAP_D


ANT_STRAP = "ant:31"


def answer_same_strap_with(monkeypatch, button_text, asked):
    """The question a drop of another radio's strap asks, answered by clicking a button."""
    from PySide6.QtWidgets import QMessageBox

    def click(box):
        asked.append(box.text())
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", click)


def test_a_strap_heard_on_ant_and_ble_is_paired_as_one_strap(page, qtbot, monkeypatch):
    """Anna wears her BLE strap; its ANT+ id dropped on her is the same strap, asked and
    confirmed: her row names both radios, both are watched, and it is one participant."""
    hear(page, STRAP_A, ANT_STRAP)
    asked = []
    answer_same_strap_with(monkeypatch, "Same strap", asked)
    drag_strap_onto(page, ANT_STRAP, "Anna", qtbot)
    assert asked and "Is ant:31 that strap heard on ANT+" in asked[0]
    assert roster_row(page, "Anna")["Strap"] == f"{NAMES[STRAP_A]} + ANT+"
    assert strap_row(page, ANT_STRAP)["Worn by"] == "Anna"
    assert strap_row(page, STRAP_A)["Worn by"] == "Anna"
    assert page.message.text() == ("ant:31 is Anna's strap heard on ANT+ too: one strap, "
                                   "counted once.")
    assert {STRAP_A, ANT_STRAP} <= set(page.model.wanted_straps())


def test_another_strap_in_its_place_replaces_the_one_worn(page, qtbot, monkeypatch):
    hear(page, STRAP_A, ANT_STRAP)
    answer_same_strap_with(monkeypatch, "Another strap", [])
    drag_strap_onto(page, ANT_STRAP, "Anna", qtbot)
    assert page.model.entry("HA-001").strap_ids == (ANT_STRAP,)
    assert strap_row(page, STRAP_A)["Worn by"] == ""


def test_no_ant_stick_is_a_line_over_the_straps_until_one_is_plugged_in(page):
    from hiaim_monitor.samples import RadioNotice
    from hiaim_monitor.strap_notes import StrapNote, StrapReason

    note = StrapNote.of(StrapReason.NO_ANT_STICK)
    page.model.ingest([RadioNotice("ant", 1.0, note)], 1.0)
    page.refresh()
    assert page.pairing.radio_notice.isVisible()
    assert page.pairing.radio_notice.text().startswith("⚠ No ANT USB stick found: plug in")
    hear(page, STRAP_A, t_s=2.0)  # BLE straps are listed all the same
    assert strap_row(page, STRAP_A)["Strap"].startswith(NAMES[STRAP_A])
    page.model.ingest([RadioNotice("ant", 3.0, None)], 3.0)
    page.refresh()
    assert not page.pairing.radio_notice.isVisible()


def test_an_ant_strap_is_received_not_connected(page):
    """ANT+ has no connections: the Connection column says what the stick does."""
    hear(page, STRAP_A, ANT_STRAP)
    assert strap_row(page, ANT_STRAP)["Connection"] == "broadcasting"
    page.model.ingest([streaming(ANT_STRAP, 2.0), streaming(STRAP_A, 2.0)], 2.0)
    page.refresh()
    assert strap_row(page, ANT_STRAP)["Connection"] == "receiving"
    assert strap_row(page, STRAP_A)["Connection"] == "connected"
