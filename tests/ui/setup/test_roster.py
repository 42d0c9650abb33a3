"""Today's roster: HRmax typed in place, and participants added or changed through the
registry's dialog on a real database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit

from hiaim_monitor.storage.registry import list_participants
from hiaim_monitor.storage.schema import ParticipantRow
from tests.ui.setup.conftest import roster_row
from ui.setup.roster_panel import HRMAX


def type_hrmax(page, qtbot, name: str, text: str) -> None:
    """Double-click the HRmax cell, type, press Enter: as the operator does."""
    table = page.roster.table
    row = next(r for r in range(table.rowCount()) if table.item(r, 1).text() == name)
    item = table.item(row, HRMAX)
    table.setCurrentItem(item)
    table.editItem(item)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The delegate commits on the next turn of the event loop.
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState)


def participant_rows(db) -> list[tuple]:
    with db.session() as s:
        return sorted(tuple(r) for r in s.execute(sa.select(*ParticipantRow.__table__.c)))


def test_hrmax_typed_for_today_replaces_the_registered_one(page, qtbot):
    type_hrmax(page, qtbot, "Bo", "171")
    bo = roster_row(page, "Bo")
    assert (bo["HRmax"], bo["Method"]) == ("171", "today")
    assert page.model.entry("HA-002").hrmax.bpm == 171


def test_hrmax_typo_is_refused_with_the_sentence_and_nothing_changes(page, qtbot):
    type_hrmax(page, qtbot, "Anna", "1680")
    assert page.message.isVisible()
    assert page.message.text() == "HRmax 1680 bpm is outside 100–230 bpm; check the value."
    anna = roster_row(page, "Anna")
    assert (anna["HRmax"], anna["Method"]) == ("168", "measured")
    assert page.model.entry("HA-001").hrmax.bpm == 168

    type_hrmax(page, qtbot, "Anna", "17o")
    assert page.message.text() == ("HRmax 17o is not a number; type the beats per minute, "
                                   "e.g. 172.")
    assert roster_row(page, "Anna")["HRmax"] == "168"


def test_clearing_the_hrmax_goes_back_to_the_registered_one(page, qtbot):
    type_hrmax(page, qtbot, "Bo", "171,5")
    assert page.model.entry("HA-002").hrmax.bpm == 171.5
    type_hrmax(page, qtbot, "Bo", "")
    bo = roster_row(page, "Bo")
    assert (bo["HRmax"], bo["Method"]) == ("158", "Tanaka (age)")


def open_add_dialog(page, qtbot):
    qtbot.mouseClick(page.roster.add_button, Qt.MouseButton.LeftButton)
    dialog = page.roster.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def save(dialog, qtbot):
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save),
                     Qt.MouseButton.LeftButton)


def test_add_dialog_registers_a_participant_who_joins_todays_class(page, qtbot, db):
    dialog = open_add_dialog(page, qtbot)
    qtbot.keyClicks(dialog.study_code, "HA-005")
    qtbot.keyClicks(dialog.name, "Erik")
    dialog.birth_year.setValue(1958)
    dialog.method.setCurrentIndex(dialog.method.findData("gellish"))
    dialog.beta_blocker.setChecked(True)
    save(dialog, qtbot)
    assert not dialog.isVisible()
    erik = roster_row(page, "Erik")
    assert (erik["Code"], erik["HRmax"], erik["Method"]) == ("HA-005", "159", "Gellish (age)")
    assert erik["Check"].startswith("β-blocker")
    assert page.model.entry("HA-005").attending
    assert page.roster.selected_code() == "HA-005"
    stored = {p.study_code: p for p in list_participants(db)}["HA-005"]
    assert (stored.display_name, stored.birth_year, stored.beta_blocker) == ("Erik", 1958,
                                                                             True)
    assert "Erik has no strap" in page.problems.item(0).text()


def test_add_dialog_refuses_a_duplicate_code_inline_and_writes_nothing(page, qtbot, db):
    before = participant_rows(db)
    dialog = open_add_dialog(page, qtbot)
    qtbot.keyClicks(dialog.study_code, "HA-002")
    qtbot.keyClicks(dialog.name, "Another Bo")
    dialog.hrmax.setValue(170)
    save(dialog, qtbot)
    assert dialog.isVisible()
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("Study code HA-002 is already registered")
    assert participant_rows(db) == before
    assert [page.roster.table.item(r, 1).text()
            for r in range(page.roster.table.rowCount())] == ["Anna", "Bo", "Cy", "Dorte"]
    dialog.reject()


@pytest.mark.parametrize(("field", "value", "sentence"), [
    ("name", "", "The display name is empty"),
    ("study_code", "HA 9", "Study code 'HA 9' is not valid"),
])
def test_add_dialog_refuses_what_the_registry_refuses(page, qtbot, db, field, value,
                                                       sentence):
    before = participant_rows(db)
    dialog = open_add_dialog(page, qtbot)
    dialog.study_code.setText("HA-009")
    dialog.name.setText("Ida")
    getattr(dialog, field).setText(value)
    save(dialog, qtbot)
    assert dialog.isVisible() and dialog.error.text().startswith(sentence)
    assert participant_rows(db) == before
    dialog.reject()


def test_edit_dialog_changes_the_registry_and_keeps_todays_strap(page, qtbot, db):
    page.roster.select("HA-001")
    qtbot.mouseClick(page.roster.edit_button, Qt.MouseButton.LeftButton)
    dialog = page.roster.dialog
    assert dialog.study_code.text() == "HA-001" and dialog.name.text() == "Anna"
    assert dialog.hrmax.value() == 168 and dialog.birth_year.value() == 1961
    dialog.name.setText("Anna K")
    dialog.study_code.setText("HA-101")
    save(dialog, qtbot)
    assert not dialog.isVisible()
    anna = roster_row(page, "Anna K")
    assert (anna["Code"], anna["HRmax"]) == ("HA-101", "168")
    assert page.model.entry("HA-101").strap_id == "ble:A0:9E:1A:00:00:01"
    stored = {p.study_code: p for p in list_participants(db)}
    assert "HA-001" not in stored and stored["HA-101"].display_name == "Anna K"
    assert stored["HA-101"].hrmax_bpm == 168


def test_edit_with_nothing_changed_writes_nothing(page, qtbot, db):
    before = participant_rows(db)
    page.roster.select("HA-002")
    page.roster.edit_participant()
    dialog = page.roster.dialog
    save(dialog, qtbot)
    assert not dialog.isVisible()
    assert participant_rows(db) == before
