"""The protocol editor on the setup page, driven by typing: a new protocol with a phase and a
block, its timeline redrawn as it is typed, bad values refused beside their field in the
file loader's words, Save into the user's folder, the picker listing it, and a class run on
it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFormLayout, QLineEdit, QMessageBox, QWidget

from hiaim_monitor import i18n
from hiaim_monitor.protocols import (
    ProtocolError,
    list_user_protocols,
    load_protocol,
    parse_protocol,
    user_protocol_dir,
)
from hiaim_monitor.protocols.document import ProtocolDocument, save_user_protocol
from hiaim_monitor.session import LiveSession
from simulators.stepped import SteppedClass
from ui.setup import SetupPage
from ui.setup.protocol_editor import ProtocolEditor
from ui.setup.step_forms import Fields

SCREENSHOT = Path("/tmp/protocol_editor.png")


@pytest.fixture(autouse=True)
def own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's protocol folder of this test alone (platformdirs reads XDG_DATA_HOME)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return user_protocol_dir()


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Select what the field holds and type ``text`` over it, key by key."""
    edit = widget if isinstance(widget, QLineEdit) else widget.lineEdit()
    edit.setFocus()
    edit.selectAll()
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)


def field(form: Fields, key: str) -> QWidget:
    widget = form.field(key)
    assert widget is not None, key
    return widget


def error_beside(form: Fields, key: str) -> str:
    """The text under ``key``'s field ("" when none shows)."""
    label = form.error_label(key)
    assert label is not None, key
    return label.text() if label.isVisibleTo(form) else ""


def label_of(form: Fields, key: str) -> str:
    """The words in front of ``key``'s field."""
    layout: QFormLayout = form.form
    for row in range(layout.rowCount()):
        item = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if item is not None and item.widget().isAncestorOf(field(form, key)):
            return layout.labelForField(item.widget()).text()
    raise AssertionError(f"no row has {key}")


def loader_says(editor: ProtocolEditor) -> str:
    """What the file loader says about the editor's document saved under its key."""
    with pytest.raises(ProtocolError) as err:
        parse_protocol(editor.document.to_text(), source=f"{editor.key()}.toml",
                       key=editor.key())
    return str(err.value)


def open_editor(qtbot, page, button) -> ProtocolEditor:
    click(qtbot, button)
    editor = page.protocols.editor
    assert editor is not None
    qtbot.waitExposed(editor)
    return editor


def test_typing_a_protocol_with_a_phase_and_a_block_saves_one_that_runs(page, qtbot,
                                                                        own_folder):
    panel = page.protocols
    editor = open_editor(qtbot, page, panel.new_button)
    top, block = editor.top_form, editor.block_form
    # A new protocol starts with a warm-up and a cool-down, and asks for its name.
    assert error_beside(top, "name") == "missing or not a text"
    assert not editor.save_button.isEnabled()
    type_into(qtbot, field(top, "name"), "Bike sprints")
    type_into(qtbot, field(top, "name_da"), "Cykelspurter")
    assert error_beside(top, "name") == "" and editor.save_button.isEnabled()
    assert editor.key() == "bike-sprints"

    # The warm-up: 8 minutes on the bike.
    editor.steps.select(0)
    phase = editor.phase_form
    type_into(qtbot, field(phase, "duration_min"), "8")
    type_into(qtbot, field(phase, "station"), "Exercise bike")
    assert editor.timeline.protocol.phases[0].duration_s == 480
    assert editor.timeline.protocol.phases[0].station == "bike"

    # A block after it: named, 15 × 20 s / 20 s at 85 % HRmax or more.
    click(qtbot, editor.steps.add_buttons[2])
    assert editor.stack.currentWidget() is block
    assert error_beside(block, "block") == "expected the block's name as a text"
    assert not editor.save_button.isEnabled()
    type_into(qtbot, field(block, "block"), "Sprints")
    for key, text in (("repeat", "15"), ("work_s", "20"), ("rest_s", "20"),
                      ("target_min_pct", "85")):
        type_into(qtbot, field(block, key), text)
    type_into(qtbot, field(block, "station"), "bike")
    drawn = editor.timeline.protocol
    assert [b.repeat for b in drawn.blocks] == [15]
    assert drawn.total_s == 8 * 60 + 15 * 40 + 5 * 60
    assert editor.steps.list.item(1).text() == "2. Sprints: 15 × 20 s / 20 s"
    assert editor.save_button.isEnabled()

    # Bad values: the loader's own sentence beside the field, the whole line under the
    # timeline, Save disabled, the timeline as it last loaded.
    for key, text, problem in (
        ("work_s", "0", "0 s: must be above 0"),
        ("station", "x" * 200, "200 characters is too long (at most 40; known stations are "
                               "bike, rower, ski, cross-trainer, step-up)"),
        ("target_max_pct", "105", "105 is above the safety ceiling ceiling_pct 100"),
        ("repeat", "0", "expected a whole number 1–100, got 0"),
    ):
        drawn = editor.protocol
        before = {k: field(block, k).lineEdit().text() if k == "station"
                  else field(block, k).text() for k in ("work_s", "station", "repeat")}
        type_into(qtbot, field(block, key), text)
        assert error_beside(block, key) == problem
        assert editor.status.text() == loader_says(editor)
        assert editor.status.text() == (f"bike-sprints.toml: step 2 (Sprints), key '{key}': "
                                        f"{problem}")
        assert not editor.save_button.isEnabled()
        # Drawn as it last loaded (the station's first 40 characters were fine).
        assert editor.timeline.protocol is editor.protocol
        assert key == "station" or editor.protocol == drawn
        type_into(qtbot, field(block, key), before.get(key, ""))
        assert error_beside(block, key) == "" and editor.save_button.isEnabled()

    # Save: a file in the user's folder that the loader reads back; the picker lists it as
    # one's own, chooses it and remembers it.
    click(qtbot, editor.save_button)
    assert list_user_protocols() == ["bike-sprints"]
    saved = load_protocol("bike-sprints")
    assert saved == editor.protocol
    assert (saved.name, saved.display_name, saved.blocks[0].station) == (
        "Bike sprints", "Bike sprints", "bike")
    text = (own_folder / "bike-sprints.toml").read_text(encoding="utf-8")
    assert 'block = "Sprints"' in text and "Sprints 1/15" not in text
    assert panel.combo.currentText() == "Bike sprints (own)"
    assert page.model.protocol == saved and panel.timeline.protocol == saved
    assert QSettings("hiaim-monitor", "control").value("setup/protocol") == "bike-sprints"
    assert page.problems_title.text() == "Ready: 2 participants, Bike sprints."

    # A class runs on it: the block comes and goes, and the session ends with the plan.
    sim = SteppedClass(3, page.model.protocol, seed=4)
    session = LiveSession(page.model.protocol, sim.participants, sim.clock, sim.events,
                          start_mono_s=0.0)
    sim.run_to(8 * 60 + 15 * 40 - 10, on_second=session.tick)
    snap = session.snapshot()
    assert snap.protocol.block_of(snap.position.index).name == "Sprints"
    assert snap.position.phase.bout == 15
    assert any(p.block_peak_pct is not None for p in snap.participants)
    sim.run_to(saved.total_s + 5, on_second=session.tick)
    assert session.snapshot().finished
    assert session.summary()["protocol"] == "bike-sprints"


def test_presets_are_duplicated_to_change_and_ones_own_are_edited_in_place(page, qtbot,
                                                                          own_folder):
    panel = page.protocols
    assert panel.current_key() == "hi-aim"
    assert not panel.edit_button.isEnabled() and "duplicate" in panel.edit_button.toolTip()
    editor = open_editor(qtbot, page, panel.duplicate_button)
    assert editor.windowTitle() == "New protocol"
    assert editor.key() == "hi-aim-copy"
    click(qtbot, editor.save_button)
    assert panel.current_key() == "hi-aim-copy" and panel.edit_button.isEnabled()
    copy = (own_folder / "hi-aim-copy.toml").read_text(encoding="utf-8")
    assert copy.startswith("# HI AIM (NCT04263467")  # the preset's sources travel along
    assert load_protocol("hi-aim-copy").phases == load_protocol("hi-aim").phases

    # Edit: renamed, the sprints shortened; it keeps its key, so stored sessions still
    # name it.
    editor = open_editor(qtbot, page, panel.edit_button)
    assert editor.windowTitle() == "Edit protocol"
    type_into(qtbot, field(editor.top_form, "name"), "Our HI AIM")
    editor.steps.select(5)
    type_into(qtbot, field(editor.block_form, "repeat"), "10")
    assert editor.key() == "hi-aim-copy"
    click(qtbot, editor.save_button)
    assert list_user_protocols() == ["hi-aim-copy"]
    assert page.model.protocol.name == "Our HI AIM"
    assert page.model.protocol.blocks[0].repeat == 10
    assert panel.combo.currentText() == "Our HI AIM (own)"
    names = [panel.combo.itemText(i) for i in range(panel.combo.count())]
    assert names.count("Our HI AIM (own)") == 1 and "HI AIM" in names


def test_a_groups_phases_are_edited_and_a_step_moved_and_removed(page, qtbot):
    editor = open_editor(qtbot, page, page.protocols.new_button)
    type_into(qtbot, field(editor.top_form, "name"), "Rounds")
    click(qtbot, editor.steps.add_buttons[1])  # after the warm-up: 4 × (interval / rest)
    group = editor.group_form
    assert editor.stack.currentWidget() is group
    assert [p.name for p in editor.timeline.protocol.phases[1:3]] == ["Interval 1/4",
                                                                     "Recovery 1/4"]
    type_into(qtbot, field(group, "repeat"), "3")
    group.phases.select(1)
    type_into(qtbot, field(group.phase_form, "target_min_pct"), "100")
    assert error_beside(group.phase_form, "target_min_pct") == \
        "100 is not below the safety ceiling ceiling_pct 100"
    assert editor.status.text() == ("rounds.toml: step 2, phase 2 (Recovery), key "
                                    "'target_min_pct': 100 is not below the safety ceiling "
                                    "ceiling_pct 100")
    # Looking at the other phase, the refused one is marked in the list.
    group.phases.select(0)
    assert error_beside(group.phase_form, "target_min_pct") == ""
    assert group.phases.list.item(1).toolTip().startswith("100 is not below")
    group.phases.select(1)
    type_into(qtbot, field(group.phase_form, "target_min_pct"), "50")
    assert editor.save_button.isEnabled()
    assert len(editor.timeline.protocol.phases) == 1 + 3 * 2 + 1

    click(qtbot, editor.steps.up_button)  # the group before the warm-up
    assert editor.timeline.protocol.phases[0].name == "Interval 1/3"
    click(qtbot, editor.steps.remove_button)
    assert [p.name for p in editor.timeline.protocol.phases] == ["Warm-up", "Cool-down"]
    assert editor.steps.list.count() == 2


def test_leaving_with_changes_asks_first(page, qtbot, monkeypatch):
    editor = open_editor(qtbot, page, page.protocols.new_button)
    type_into(qtbot, field(editor.top_form, "name"), "Not yet")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    editor.reject()
    assert editor.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    editor.reject()
    qtbot.waitUntil(lambda: page.protocols.editor is None)
    assert list_user_protocols() == []
    assert page.model.protocol.key == "hi-aim"


def test_a_protocol_of_ones_own_is_listed_and_remembered_at_the_next_start(qtbot, model, db):
    save_user_protocol(ProtocolDocument.load("tabata").duplicate(), "our-tabata")
    QSettings("hiaim-monitor", "control").setValue("setup/protocol", "our-tabata")
    page = SetupPage(model, db)
    qtbot.addWidget(page)
    combo = page.protocols.combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[-1] == "Tabata (copy) (own)"
    assert texts.index("Tabata (copy) (own)") > texts.index("Tabata")
    assert model.protocol.key == "our-tabata"


def test_the_editor_speaks_danish(page, qtbot):
    i18n.set_language("da")
    try:
        editor = ProtocolEditor(ProtocolDocument.load("15-15").duplicate(), parent=page)
        qtbot.addWidget(editor)
        editor.steps.select(1)
        assert editor.windowTitle() == "Ny protokol"
        assert editor.save_button.text() == "Gem"
        assert [b.text() for b in editor.steps.add_buttons] == ["Tilføj fase",
                                                                "Tilføj gentagelse",
                                                                "Tilføj blok"]
        assert [label_of(editor.block_form, k) for k in ("block", "block_da", "work_s")] == [
            "Navn", "Navn på dansk", "Arbejde"]
        assert field(editor.block_form, "station").currentText() == "Motionscykel"
        assert editor.steps.list.item(1).text() == "2. Serie 1: 20 × 15 s / 15 s"
        assert field(editor.top_form, "name").text() == "15 s / 15 s (copy)"
        assert editor.status.text() == ("Kan indlæses: 34:00 i alt; arbejdsintervaller: 0; "
                                        "blokke af korte intervaller: 2.")
    finally:
        i18n.set_language("en")


def test_screenshot_of_the_editor(page, qtbot, monkeypatch):
    # Where an operator's copy would go (nothing is saved here, so nothing is written).
    monkeypatch.setenv("XDG_DATA_HOME", "/home/physio/.local/share")
    editor = ProtocolEditor(ProtocolDocument.load("hi-aim").duplicate(), parent=page)
    qtbot.addWidget(editor)
    with qtbot.waitExposed(editor):
        editor.show()
    editor.steps.select(5)
    type_into(qtbot, field(editor.block_form, "work_s"), "0")
    qtbot.wait(20)
    assert editor.grab().save(str(SCREENSHOT))
    assert error_beside(editor.block_form, "work_s") == "0 s: must be above 0"


def test_class_limits_and_a_step_they_make_wrong_are_both_shown(page, qtbot):
    editor = open_editor(qtbot, page, page.protocols.duplicate_button)  # of HI AIM
    limits = editor.limits_form
    type_into(qtbot, field(limits, "ceiling_pct"), "80")
    assert error_beside(limits, "high_pct") == "need intermediate_pct < high_pct ≤ ceiling_pct"
    type_into(qtbot, field(limits, "high_pct"), "75")
    # Now the warm-up's band is fine but the step-ups' reaches past the ceiling: that step's
    # line is marked, and its field shows the sentence once it is open.
    assert error_beside(limits, "high_pct") == ""
    assert editor.status.text() == ("hi-aim-copy.toml: step 5, phase 1 (Step-ups), key "
                                    "'target_max_pct': 85 is above the safety ceiling "
                                    "ceiling_pct 80")
    assert editor.steps.list.item(4).text().startswith("5. ⚠")
    editor.steps.select(4)
    assert error_beside(editor.group_form.phase_form, "target_max_pct") == \
        "85 is above the safety ceiling ceiling_pct 80"
    type_into(qtbot, field(editor.judging_form, "ramp_allowance_s"), "900")
    type_into(qtbot, field(limits, "ceiling_pct"), "100")
    assert error_beside(editor.judging_form, "ramp_allowance_s") == "900 is outside 0–600"
    assert not editor.save_button.isEnabled()
