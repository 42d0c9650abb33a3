"""Choosing the day's protocol, and the timeline that draws it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog

from hiaim_monitor.protocols import PhaseKind, load_protocol
from ui.setup.timeline import CURSOR_COLOUR, KIND_COLOUR, PhaseTimeline

BAD_PROTOCOL = """name = "Broken"
[[steps]]
name = "Warm-up"
kind = "warm-up"
duration_min = 5
target_min_pct = "sixty"
"""


@pytest.fixture
def timeline(qtbot):
    widget = PhaseTimeline()
    qtbot.addWidget(widget)
    widget.resize(900, 90)
    with qtbot.waitExposed(widget):
        widget.show()
    return widget


def centre(rect) -> QPoint:
    return rect.center().toPoint()


@pytest.mark.parametrize("preset", ["norwegian-4x4", "hi-aim", "novakovic-8x1"])
def test_timeline_draws_one_block_per_phase_in_its_kinds_colour(timeline, preset):
    protocol = load_protocol(preset)
    timeline.set_protocol(protocol)
    image = timeline.grab().toImage()
    lefts = []
    for i, phase in enumerate(protocol.phases):
        rect = timeline.block_rect(i)
        lefts.append(rect.left())
        point = centre(rect)
        if rect.width() >= 3:  # a block of a few seconds may be a pixel wide
            assert QColor(image.pixel(point)) == QColor(KIND_COLOUR[phase.kind]), phase.name
    assert lefts == sorted(lefts) and len(set(lefts)) == len(protocol.phases)
    # Widths follow durations; the last block ends at the right edge.
    last = timeline.block_rect(len(protocol.phases) - 1)
    assert abs(last.right() - (timeline.width() - 1)) < 1.0


def test_timeline_blocks_are_proportional_to_duration(timeline):
    protocol = load_protocol("norwegian-4x4")  # 10 min warm-up, 4 min intervals, 3 min rest
    timeline.set_protocol(protocol)
    warm_up, interval, rest = (timeline.block_rect(i).width() for i in range(3))
    assert warm_up / interval == pytest.approx(10 / 4, rel=0.01)
    assert interval / rest == pytest.approx(4 / 3, rel=0.01)
    # High intensity stands taller than the recovery after it.
    assert timeline.block_rect(1).height() > timeline.block_rect(2).height()


def test_timeline_cursor_is_a_line_at_the_session_time(timeline):
    protocol = load_protocol("norwegian-4x4")
    timeline.set_protocol(protocol)
    timeline.set_cursor(12 * 60.0)  # in the first interval
    image = timeline.grab().toImage()
    rect = timeline.block_rect(1)
    x = int(timeline._x(12 * 60.0))
    assert rect.left() < x < rect.right()
    y = int(rect.center().y())
    assert QColor(image.pixel(x, y)) == QColor(CURSOR_COLOUR)
    assert QColor(image.pixel(x - 10, y)) == QColor(KIND_COLOUR[PhaseKind.HIGH])
    timeline.set_cursor(None)
    assert QColor(timeline.grab().toImage().pixel(x, y)) == QColor(KIND_COLOUR[PhaseKind.HIGH])


def test_picking_a_preset_changes_the_protocol_and_the_timeline(page):
    panel = page.protocols
    names = [panel.combo.itemText(i) for i in range(panel.combo.count())]
    assert "Norwegian 4x4" in names and "HI AIM" in names
    panel.combo.setCurrentIndex(panel.combo.findData("norwegian-4x4"))
    assert page.model.protocol.name == "Norwegian 4x4"
    assert panel.timeline.protocol.name == "Norwegian 4x4"
    assert page.problems_title.text() == "Ready: 2 participants, Norwegian 4x4."


def test_a_protocol_file_can_be_opened(page, tmp_path, monkeypatch, qtbot):
    source = Path(__file__).parents[3] / "hiaim_monitor" / "protocols" / "norwegian-4x4.toml"
    path = tmp_path / "our-4x4.toml"
    path.write_text(source.read_text(encoding="utf-8").replace(
        'name = "Norwegian 4x4"', 'name = "Our 4x4"'), encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    qtbot.mouseClick(page.protocols.open_button, Qt.MouseButton.LeftButton)
    assert page.model.protocol.name == "Our 4x4"
    assert page.protocols.combo.currentText() == "Our 4x4 (our-4x4.toml)"


def test_a_bad_protocol_file_is_refused_and_the_previous_choice_kept(page, tmp_path,
                                                                     monkeypatch, qtbot):
    path = tmp_path / "broken.toml"
    path.write_text(BAD_PROTOCOL, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    qtbot.mouseClick(page.protocols.open_button, Qt.MouseButton.LeftButton)
    assert page.model.protocol.name == "HI AIM"
    assert page.protocols.combo.currentText() == "HI AIM"
    assert page.message.isVisible()
    assert "broken.toml" in page.message.text()


def test_protocol_set_from_outside_shows_on_the_page(page):
    page.model.set_protocol(load_protocol("novakovic-8x1"))
    page.refresh()
    assert page.protocols.combo.currentText() == page.model.protocol.name
    assert page.protocols.timeline.protocol is page.model.protocol
