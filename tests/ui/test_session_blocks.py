"""The control window during a block of short bouts, and the protocol timelines (setup page
and session page) drawing a block as one block with its repeats."""

import pytest
from PySide6.QtGui import QColor

from hiaim_monitor import i18n
from hiaim_monitor.protocols import PhaseKind, load_protocol
from hiaim_monitor.session import LiveSession
from simulators.stepped import SteppedClass
from ui.control_window import ControlWindow
from ui.setup.timeline import BLOCK_GROUND, CURSOR_COLOUR, KIND_COLOUR, PhaseTimeline
from ui.wall import palette

BLOCK_START_S = 1380.0  # HI AIM's 15 × 20/20 s sprints start at 23:00
GO_7_S = BLOCK_START_S + 6 * 40 + 8  # 8 s into bout 7's sprint


class Gym:
    """A simulated class in HI AIM shown in a control window; ``to`` steps it on."""

    def __init__(self, n: int = 4) -> None:
        protocol = load_protocol("hi-aim")
        self.sim = SteppedClass(n, protocol, seed=3)
        self.session = LiveSession(protocol, self.sim.participants, self.sim.clock,
                                   self.sim.events, start_mono_s=0.0)
        self.window = ControlWindow(self.session)

    def to(self, t_s: float) -> None:
        self.sim.run_to(t_s, on_second=self.session.tick)
        self.window.loop.tick()


@pytest.fixture
def gym(qtbot):
    gym = Gym()
    qtbot.addWidget(gym.window)
    gym.window.loop.run(gym.session)
    gym.window.resize(1200, 800)
    with qtbot.waitExposed(gym.window):
        gym.window.show()
    yield gym
    gym.window._quit_confirmed = True


def test_the_control_header_shows_go_the_bout_its_seconds_and_the_station(gym):
    gym.to(GO_7_S)
    header = gym.window.header
    assert header.bout.isVisible() and header.bout.text() == "GO 7/15"
    assert palette.GO_BG in header.bout.styleSheet()
    assert header.countdown.text() == "12 s"
    assert header.phase.text() == "Sprints (high)"
    assert header.station.text() == "station: Exercise bike"
    assert header.target.text() == "target 85–100 % HRmax"
    # 12 s of this sprint, bout 7's rest and bouts 8–15: 12 + 20 + 8 × 40 s.
    assert header.next_phase.text() == "next after the block: Cool-down in 5:52"
    gym.to(GO_7_S + 15)
    assert header.bout.text() == "REST 7/15" and header.countdown.text() == "17 s"
    assert palette.GO_BG not in header.bout.styleSheet()
    image = gym.window.grab().toImage()
    assert not image.isNull()


def test_a_long_phase_in_the_control_header_names_its_station(gym):
    gym.to(100)
    header = gym.window.header
    assert not header.bout.isVisible()
    assert header.phase.text() == "Warm-up: bike (warm-up)"
    assert header.station.text() == "station: Exercise bike"
    assert header.countdown.text() == "1:20"
    gym.to(200)
    assert header.station.text() == "station: Ski machine"
    gym.to(40 * 60 - 60)  # the cool-down names no station
    assert header.station.text() == ""


def test_the_control_header_speaks_danish_in_a_block(gym):
    i18n.set_language("da")
    try:
        gym.to(GO_7_S)
        header = gym.window.header
        assert header.bout.text() == "KØR 7/15"
        assert header.station.text() == "station: Motionscykel"
        gym.to(GO_7_S + 15)
        assert header.bout.text() == "HVIL 7/15"
    finally:
        i18n.set_language("en")


def test_the_session_timeline_draws_the_block_as_one_with_its_bouts(gym):
    gym.to(GO_7_S)
    timeline = gym.window.session_panel.timeline
    timeline.resize(1100, 70)
    image = timeline.grab().toImage()
    block = gym.session.protocol.blocks[0]
    assert [text for text, _ in timeline.labels].count("Sprints 15 × 20/20 s · 10:00") == 1
    assert work_stripes(timeline, image, block) == 15
    assert timeline.group_rect(0).left() < timeline._x(timeline.cursor_s) \
        < timeline.group_rect(0).right()


def work_stripes(timeline, image, block) -> int:
    """Runs of the block's class colour along a line through the block's lower half (the
    cursor's line, drawn over one, does not split it)."""
    rect = timeline.group_rect(block.index)
    y = int(rect.bottom() - rect.height() / 4)
    work, cursor = QColor(KIND_COLOUR[block.kind]).rgb(), QColor(CURSOR_COLOUR).rgb()
    runs, inside = 0, False
    for x in range(int(rect.left()), int(rect.right())):
        pixel = image.pixel(x, y)
        if pixel == cursor:
            continue
        now = pixel == work
        runs += now and not inside
        inside = now
    return runs


@pytest.fixture
def timeline(qtbot):
    widget = PhaseTimeline()
    qtbot.addWidget(widget)
    widget.resize(900, 90)
    with qtbot.waitExposed(widget):
        widget.show()
    return widget


@pytest.mark.parametrize(("preset", "labels"), [
    ("hi-aim", ["Sprints 15 × 20/20 s · 10:00"]),
    ("tabata", ["Tabata 8 × 20/10 s · 4:00"]),
    ("15-15", ["Series 1 20 × 15/15 s · 10:00", "Series 2 20 × 15/15 s · 10:00"]),
])
def test_the_setup_timeline_labels_each_block_once_with_its_repeats(timeline, preset, labels):
    protocol = load_protocol(preset)
    timeline.set_protocol(protocol)
    image = timeline.grab().toImage()
    drawn = [text for text, _ in timeline.labels]
    for label in labels:
        assert drawn.count(label) == 1, drawn
    for block in protocol.blocks:
        assert work_stripes(timeline, image, block) == block.repeat
        # Rests stand as tall as the bouts, on the paler ground: one block, not slivers.
        rest = next(i for i in block.phase_indices
                    if protocol.phases[i].kind is PhaseKind.RECOVERY)
        work = block.first_phase
        assert timeline.block_rect(rest).height() == timeline.block_rect(work).height()
        centre = timeline.block_rect(rest).center().toPoint()
        centre.setY(int(timeline.block_rect(rest).bottom() - 4))
        assert QColor(image.pixel(centre)) != QColor(KIND_COLOUR[PhaseKind.RECOVERY])
        assert 0 < BLOCK_GROUND < 1


def test_a_lengthened_bout_and_a_stop_show_on_the_block(timeline):
    protocol = load_protocol("hi-aim")
    timeline.set_protocol(protocol)
    block = protocol.blocks[0]
    durations = [p.duration_s for p in protocol.phases]
    durations[block.first_phase] += 60  # +1 min on the first sprint
    timeline.set_durations(durations)
    first, second = block.first_phase, block.first_phase + 2
    assert timeline.block_rect(first).width() == pytest.approx(
        4 * timeline.block_rect(second).width(), rel=0.02)
    # Stopped after bout 3's sprint: what never ran is left out.
    stop = block.first_phase + 5
    timeline.set_durations([d if i < stop else 0.0 for i, d in enumerate(durations)])
    image = timeline.grab().toImage()
    assert timeline.group_rect(0).right() == pytest.approx(
        timeline.block_rect(stop - 1).right())
    assert work_stripes(timeline, image, block) == 3


def test_the_tooltip_over_a_bout_names_the_block_its_station_and_the_bout(timeline):
    protocol = load_protocol("hi-aim")
    timeline.set_protocol(protocol)
    bout_7 = protocol.blocks[0].first_phase + 12
    tip = timeline.tooltip_of(bout_7)
    assert tip.splitlines() == ["Sprints 15 × 20/20 s (high)", "10:00 · 85+ % HRmax",
                                "Exercise bike", "Sprints 7/15"]
    assert "Exercise bike" in timeline.tooltip_of(0)
