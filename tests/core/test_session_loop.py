"""The one heartbeat, without Qt: each beat ticks the session once and every view gets that
one snapshot; a view that asks for a beat while it is shown gets it right after, not
inside; a session over and stored stands still, and the idle work runs instead."""

import dataclasses
import queue

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.session import LiveSession
from hiaim_monitor.session_loop import SessionLoop


class Stepped:
    """A session that moves one second of session time per tick; ``recording`` says what
    its snapshots say."""

    def __init__(self, recording=False):
        self.clock = SimulatedClock()
        people = [Participant("P1", "Anna", "A", measured_hrmax(160))]
        self.session = LiveSession(load_protocol("norwegian-4x4"), people, self.clock,
                                   queue.SimpleQueue())
        self.recording = recording
        self.ticks = 0

    def tick(self):
        self.ticks += 1
        self.clock.advance(1)
        return dataclasses.replace(self.session.tick(), recording=self.recording)


def test_every_view_gets_the_one_snapshot_of_each_beat():
    session, loop = Stepped(), SessionLoop()
    seen_a, seen_b = [], []
    loop.show_on(seen_a.append)
    loop.show_on(seen_b.append)
    first = loop.run(session)
    second = loop.tick()
    assert session.ticks == 2
    assert seen_a == seen_b == [first, second]
    assert all(a is b for a, b in zip(seen_a, seen_b, strict=True))
    assert second.elapsed_s == first.elapsed_s + 1


def test_a_beat_asked_for_while_views_are_shown_comes_after_them():
    session, loop = Stepped(), SessionLoop()
    order = []

    def asks_once(snap):
        order.append(("first view", snap.elapsed_s))
        if len(order) == 1:
            loop.tick()  # e.g. a view that finished the recording wants it shown

    loop.show_on(asks_once)
    loop.show_on(lambda snap: order.append(("second view", snap.elapsed_s)))
    loop.run(session)
    assert order == [("first view", 1.0), ("second view", 1.0),
                     ("first view", 2.0), ("second view", 2.0)]


def test_a_session_over_and_stored_stands_still_and_the_idle_work_runs():
    session, loop = Stepped(recording=True), SessionLoop()
    idle = []
    loop.when_idle(lambda: idle.append(session.ticks))
    loop.tick()
    assert idle == [0]  # no session yet: the setup page's turn
    loop.run(session)
    session.session.stop()
    finished = loop.tick()
    assert finished.finished and finished.recording
    session.recording = False  # the recording is closed
    closed = loop.tick()
    assert closed.finished and not closed.recording
    ticks = session.ticks
    assert loop.tick() is closed  # it stands still: no tick, the last snapshot kept
    assert session.ticks == ticks
    assert idle == [0, ticks]
