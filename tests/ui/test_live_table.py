import queue

from PySide6.QtGui import QColor

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session import LiveSession
from ui.live_table import CLASS_COLOUR, LiveTableWindow


def test_window_shows_live_rows_coloured_by_class_and_lost_rows_without_number(qtbot):
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    people = [Participant("P1", "Anna", "A", measured_hrmax(160)),
              Participant("P2", "Bo", "B", measured_hrmax(180))]
    session = LiveSession(load_protocol("norwegian-4x4"), people, clock, events)
    events.put(sample_from_notification("B", encode_heart_rate_measurement(150), clock))
    session.tick()
    clock.advance(620)
    events.put(sample_from_notification("A", encode_heart_rate_measurement(144), clock))
    window = LiveTableWindow()
    qtbot.addWidget(window)
    window.show_snapshot(session.tick())
    window.show()
    qtbot.waitExposed(window)

    assert "Interval 1/4" in window.header.text() and "3:40 left" in window.header.text()
    table = window.table
    anna = [table.item(0, c).text() for c in range(table.columnCount())]
    bo = [table.item(1, c).text() for c in range(table.columnCount())]
    assert anna[:5] == ["Anna", "144", "90 %", "high", "live"]
    assert bo[1] == "—" and bo[4] == "signal lost"

    # What is on screen: the class cell is painted in the class colour.
    image = window.grab().toImage()
    rect = table.visualItemRect(table.item(0, 3))
    origin = table.viewport().mapTo(window, rect.center())
    painted = QColor(image.pixel(origin.x(), origin.y()))
    assert painted == QColor(CLASS_COLOUR[Level.HIGH])
