import queue

from rich.console import Console

from hiaim_monitor import i18n
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session import LiveSession
from hiaim_monitor.terminal_view import render
from tests.conftest import people


def screen(snap) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(render(snap))
    return console.export_text()


def make_session():
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    return clock, events, LiveSession(load_protocol("norwegian-4x4"), people(160, 180), clock,
                                      events)


def test_table_shows_bpm_percent_class_phase_and_countdown():
    clock, events, session = make_session()
    clock.advance(630)
    events.put(sample_from_notification("A", encode_heart_rate_measurement(144), clock))
    text = screen(session.tick())
    assert "Interval 1/4" in text and "3:30 left" in text and "next: Active recovery 1/4" in text
    anna = next(line for line in text.splitlines() if "Anna" in line)
    assert "144" in anna and "90 %" in anna and "high" in anna and "live" in anna


def test_lost_participant_shows_signal_lost_and_no_number():
    clock, events, session = make_session()
    events.put(sample_from_notification("A", encode_heart_rate_measurement(144), clock))
    session.tick()
    clock.advance(15)
    anna = next(line for line in screen(session.tick()).splitlines() if "Anna" in line)
    assert "signal lost" in anna
    assert "144" not in anna


def test_stale_participant_shows_the_age_of_the_value():
    clock, events, session = make_session()
    events.put(sample_from_notification("A", encode_heart_rate_measurement(144), clock))
    session.tick()
    clock.advance(5)
    anna = next(line for line in screen(session.tick()).splitlines() if "Anna" in line)
    assert "stale (5 s)" in anna


def test_view_speaks_danish_when_asked():
    clock, events, session = make_session()
    events.put(sample_from_notification("A", encode_heart_rate_measurement(144), clock))
    try:
        assert i18n.set_language("da") == "da"
        text = screen(session.tick())
    finally:
        i18n.set_language("en")
    assert "Navn" in text and "høj" in text and "opvarmning" in text and "tilbage" in text


def test_unknown_language_falls_back_to_english():
    try:
        assert i18n.set_language("xx") == "en"
    finally:
        i18n.set_language("en")


def test_class_cell_wears_the_walls_class_colour_and_word():
    from hiaim_monitor.display import CLASS_COLOUR
    from hiaim_monitor.engine.codes import Level

    clock, events, session = make_session()
    clock.advance(630)
    events.put(sample_from_notification("A", encode_heart_rate_measurement(144), clock))
    table = render(session.tick()).renderables[1]
    cell = table.columns[3]._cells[0]  # Anna's class
    assert cell.plain == "high"
    assert CLASS_COLOUR[Level.HIGH].lower() in str(cell.style).lower()


class SecondPerTick:
    """What the terminal loop is given to tick (the recorded session, in the app): here a
    session of 3 s whose clock moves a second per tick."""

    def __init__(self):
        self.clock, self.events, _ = make_session()
        participants = people(160)
        self.session = LiveSession(load_protocol("norwegian-4x4"), participants, self.clock,
                                   self.events, duration_s=3.0)
        self.ticks = 0

    def tick(self):
        self.ticks += 1
        self.events.put(sample_from_notification("A", encode_heart_rate_measurement(120),
                                                 self.clock))
        self.clock.advance(1)
        return self.session.tick()


def test_terminal_loop_ticks_what_it_is_given_until_the_session_is_over(capsys):
    from hiaim_monitor.terminal_view import run_in_terminal

    ticking = SecondPerTick()
    run_in_terminal(ticking)
    out = capsys.readouterr().out
    assert ticking.ticks == 3  # one tick per beat, the last one the finished session's
    assert out.count("Session finished") == 1
    assert "Anna" in out and "120" in out
