"""The headless table during a block of short bouts: GO or REST with the bout, its seconds and
the station in the header line, and each participant's peak so far in the block."""

import queue

from rich.console import Console

from hiaim_monitor import i18n
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.display import GO_COLOUR
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session import LiveSession
from hiaim_monitor.terminal_view import header_text, render
from tests.conftest import people

BLOCK_START_S = 1380  # HI AIM's 15 × 20/20 s sprints on the bike start at 23:00


def screen(snap) -> str:
    console = Console(width=140, record=True, color_system=None)
    console.print(render(snap))
    return console.export_text()


def hi_aim_at(t_s: int, bpm: dict[str, int]):
    """Anna (A) and Bo (B) in HI AIM, each sending ``bpm`` once a second up to ``t_s``."""
    clock = SimulatedClock()
    events = queue.SimpleQueue()
    session = LiveSession(load_protocol("hi-aim"), people(160, 180), clock, events)
    for _ in range(t_s):
        clock.advance(1)
        for strap, value in bpm.items():
            events.put(sample_from_notification(strap, encode_heart_rate_measurement(value),
                                                clock))
        session.tick()
    return session.tick()


def test_during_a_sprint_the_header_says_go_the_bout_its_seconds_and_the_station():
    snap = hi_aim_at(BLOCK_START_S + 6 * 40 + 8, {"A": 150, "B": 140})
    line = header_text(snap)
    assert "GO 7/15" in line.plain and " 12 s " in line.plain
    assert "Sprints (high) · Exercise bike" in line.plain
    assert "next: Cool-down" in line.plain
    go = next(span for span in line.spans if "GO" in line.plain[span.start:span.end])
    assert GO_COLOUR.lower() in str(go.style).lower(), "GO is reversed in its colour"
    text = screen(snap)
    assert "Block peak" in text
    anna = next(row for row in text.splitlines() if "Anna" in row)
    assert f"{snap.participants[0].block_peak_pct} %" in anna


def test_in_a_rest_it_says_rest_and_a_long_phase_names_its_station():
    rest = header_text(hi_aim_at(BLOCK_START_S + 25, {"A": 150})).plain
    assert "REST 1/15" in rest and " 15 s " in rest
    warm_up = screen(hi_aim_at(100, {"A": 110}))
    assert "Warm-up: bike (warm-up) · Exercise bike  1:20 left" in warm_up
    assert "Block peak" not in warm_up and "GO" not in warm_up


def test_the_block_speaks_danish():
    try:
        i18n.set_language("da")
        line = header_text(hi_aim_at(BLOCK_START_S + 25, {"A": 150})).plain
    finally:
        i18n.set_language("en")
    assert "HVIL 1/15" in line and "Spurter (høj) · Motionscykel" in line
