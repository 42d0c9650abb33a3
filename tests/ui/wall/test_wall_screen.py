"""The wall screen rendered offscreen and checked from its pixels and its widgets."""

import dataclasses
import itertools
from functools import cache

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QGuiApplication, QImage

from hiaim_monitor import i18n
from hiaim_monitor.display import CLASS_COLOUR, Cue, mmss
from hiaim_monitor.engine.alarms import AlarmKind
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import SessionSnapshot, SignalState
from tests.ui.wall.gym import HandClass, simulated_class
from ui.wall import WallScreen, default_wall_screen, palette, render_wall_image

FULL_HD = QSize(1920, 1080)


@cache
def simulated_snapshot(n: int) -> SessionSnapshot:
    # 16 min 40 s into HI AIM: the first high-intensity interval, every trace full.
    return simulated_class(n, 1000.0).tick()


@pytest.fixture
def wall(qtbot):
    screen = WallScreen()
    qtbot.addWidget(screen)
    screen.resize(FULL_HD)
    return screen


def draw(wall: WallScreen, snap: SessionSnapshot) -> QImage:
    wall.show_snapshot(snap)
    wall.frame()
    return wall.grab().toImage()


def colour_at(image: QImage, wall: WallScreen, tile, point: QPoint) -> QColor:
    at = tile.mapTo(wall, point)
    return QColor(image.pixel(at.x(), at.y()))


def count_colour(image: QImage, rect: QRect, colour: str, step: int = 1) -> int:
    want = QColor(colour).rgb()
    return sum(1 for x in range(rect.left(), rect.right() + 1, step)
               for y in range(rect.top(), rect.bottom() + 1, step)
               if image.pixel(x, y) == want)


def assert_unclipped(wall: WallScreen) -> None:
    """Every tile inside the wall and apart; every text inside its tile and apart."""
    area = wall.rect()
    geometries = [t.geometry() for t in wall.tiles]
    assert all(area.contains(g) for g in geometries)
    for a, b in itertools.combinations(geometries, 2):
        assert not a.intersects(b)
    for tile in wall.tiles:
        inside = tile.rect()
        for key, placed in tile.placed.items():
            assert inside.contains(placed.ink), f"{tile.content.name}: {key} is clipped"
        for (ka, a), (kb, b) in itertools.combinations(tile.placed.items(), 2):
            assert not a.ink.intersects(b.ink), f"{tile.content.name}: {ka} overlaps {kb}"
    header = wall.header
    for key, placed in header.placed.items():
        assert header.rect().contains(placed.ink), f"header {key} is clipped"
    for (ka, a), (kb, b) in itertools.combinations(header.placed.items(), 2):
        assert not a.ink.intersects(b.ink), f"header: {ka} overlaps {kb}"


@pytest.mark.parametrize("n", [1, 8, 16, 40])
def test_every_participant_has_an_unclipped_tile_in_their_class_colour(wall, n):
    snap = simulated_snapshot(n)
    image = draw(wall, snap)
    assert len(wall.tiles) == n
    assert_unclipped(wall)
    for tile, p in zip(wall.tiles, snap.participants, strict=True):
        texts = tile.texts()
        assert texts["name"] == p.display_name, "names are shown whole"
        assert p.signal is SignalState.LIVE
        assert texts["number"] == str(p.bpm)
        assert texts["pct"] == f"{p.pct_hrmax} %"
        class_colour = CLASS_COLOUR[p.level]
        assert colour_at(image, wall, tile, tile.probe_point()) == QColor(class_colour)
        if n > 8:
            # On a 1080p wall of more than 8 a trace would be a flat line: none is drawn.
            assert tile.style_.parts.trace is None and not tile.trace.isVisibleTo(tile)
            continue
        # The trace is drawn: line pixels in the tile's text colour inside the trace area.
        trace = tile.trace.geometry().translated(tile.pos())
        assert count_colour(image, trace, tile.content.text, step=2) > 10


@pytest.mark.parametrize("n", [1, 8, 16, 40])
def test_heart_rate_is_the_largest_type_and_at_least_8_percent_of_the_tile(wall, n):
    draw(wall, simulated_snapshot(n))
    for tile in wall.tiles:
        number = tile.placed["number"].ink
        assert number.height() >= 0.08 * tile.height()
        # Digits are capital height: compare with the capitals of every other text.
        others = [QFontMetricsF(p.font).capHeight() for k, p in tile.placed.items()
                  if k != "number"]
        assert number.height() > max(others)


def test_tiles_keep_the_operators_order_not_the_heart_rate_order(wall):
    gym = HandClass(["Anna", "Bo", "Cy", "Dee", "Eva"])
    gym.beats(30, {0: 110, 1: 160, 2: 130, 3: 170, 4: 100})
    draw(wall, gym.session.tick())
    names = [t.texts()["name"] for t in wall.tiles]
    assert names == ["Anna", "Bo", "Cy", "Dee", "Eva"]
    positions = [(t.y(), t.x()) for t in wall.tiles]
    assert positions == sorted(positions)


def test_stale_tile_is_dimmed_with_a_grey_number_and_the_age_of_the_value(wall):
    gym = HandClass(["Anna", "Bo"])
    gym.beats(30, {0: 150, 1: 126})
    gym.beats(5, {0: 150})  # Bo's strap has said nothing for 5 s
    snap = gym.session.tick()
    image = draw(wall, snap)
    bo_view, bo = snap.participants[1], wall.tiles[1]
    assert bo_view.signal is SignalState.STALE
    assert bo.texts()["word"] == "5 s ago"
    assert bo.texts()["number"] == str(bo_view.bpm)
    dimmed = palette.blend(CLASS_COLOUR[bo_view.level], palette.WALL_BG,
                           palette.STALE_DIM)
    assert colour_at(image, wall, bo, bo.probe_point()) == QColor(dimmed)
    number = bo.placed["number"].ink.translated(bo.pos())
    assert count_colour(image, number, palette.STALE_NUMBER) > 50, "the number is greyed"
    assert bo.content.cue is None, "no push or ease-off on an old value"
    assert_unclipped(wall)


def test_lost_tile_says_signal_lost_and_shows_no_number(wall):
    gym = HandClass(["Anna", "Bo"])
    gym.beats(30, {0: 150, 1: 126})
    gym.beats(12, {0: 150})
    snap = gym.session.tick()
    image = draw(wall, snap)
    bo = wall.tiles[1]
    assert snap.participants[1].signal is SignalState.LOST
    texts = bo.texts()
    assert texts["number"] == "signal lost"
    assert "pct" not in texts and "cue" not in texts
    assert not any(ch.isdigit() for key, text in texts.items() if key != "badges"
                   for ch in text)
    assert colour_at(image, wall, bo, bo.probe_point()) == QColor(palette.NEUTRAL_BG)
    assert_unclipped(wall)


def test_strap_without_skin_contact_says_check_strap(wall):
    gym = HandClass(["Anna", "Bo"])
    gym.beats(20, {0: 150, 1: 126})
    gym.beats(8, {0: 150, 1: 126}, no_contact=frozenset({1}))
    snap = gym.session.tick()
    draw(wall, snap)
    assert snap.participants[1].signal is SignalState.NO_CONTACT
    assert wall.tiles[1].texts()["number"] == "check strap"
    assert wall.tiles[1].content.number_colour == palette.WARNING_TEXT


def test_header_countdown_follows_the_session_clock(wall):
    gym = HandClass(["Anna", "Bo"])
    gym.beats(620, {0: 160, 1: 150})
    snap = gym.session.tick()
    draw(wall, snap)
    header = wall.header.texts()
    assert header["countdown"] == mmss(snap.position.remaining_s) == "3:40"
    assert header["phase"] == "Interval 1/4 · high"
    assert header["detail"] == "target 85–95 %   next: Active recovery 1/4"
    assert header["clock"] == "session time 10:20"
    assert "paused" not in header
    gym.beats(15, {0: 160, 1: 150})
    draw(wall, gym.session.tick())
    assert wall.header.texts()["countdown"] == "3:25"
    assert_unclipped(wall)


def test_paused_session_says_paused_and_the_countdown_stands(wall):
    gym = HandClass(["Anna"])
    gym.beats(100, {0: 120})
    gym.session.pause()
    gym.beats(30, {0: 120})
    image = draw(wall, gym.session.tick())  # paused: the snapshot says so
    header = wall.header.texts()
    assert header["paused"] == "PAUSED"
    assert header["countdown"] == "8:20"
    badge = wall.header.placed["paused"].ink.translated(wall.header.pos())
    assert count_colour(image, badge, palette.PAUSED_BG) > 20


def test_cue_and_class_word_say_what_the_colour_says(wall):
    gym = HandClass(["Low", "In", "Over"])
    gym.beats(600, {0: 120, 1: 120, 2: 120})  # warm-up
    gym.beats(90, {0: 130, 1: 162, 2: 185})  # Interval 1/4: 85–95 % of 180
    draw(wall, gym.session.tick())
    low, mid, over = (t.content for t in wall.tiles)
    assert (low.cue, mid.cue, over.cue) == (Cue.PUSH, Cue.HOLD, Cue.EASE_OFF)
    assert low.cue_text == "▲ PUSH" and over.cue_text == "▼ EASE OFF"
    assert (low.word, mid.word, over.word) == ("INTERMEDIATE", "HIGH", "TOO HIGH")
    assert over.ceiling and not mid.ceiling


def test_above_ceiling_tile_is_framed(wall):
    gym = HandClass(["Over"])
    gym.beats(600, {0: 120})
    gym.beats(40, {0: 185})
    image = draw(wall, gym.session.tick())
    tile = wall.tiles[0]
    assert tile.content.ceiling
    assert colour_at(image, wall, tile, QPoint(1, tile.height() // 2)) == \
        QColor(tile.content.text)


def test_low_battery_and_beta_blocker_are_marked(wall):
    gym = HandClass(["Anna", "Bo"], beta_blockers={1})
    gym.battery(0, 9)
    gym.beats(20, {0: 120, 1: 120})
    image = draw(wall, gym.session.tick())
    anna, bo = wall.tiles
    assert anna.content.battery_low and anna.battery_rect is not None
    assert not bo.content.battery_low and bo.battery_rect is None
    battery = anna.battery_rect.translated(anna.pos())
    assert count_colour(image, battery, anna.content.text) > 10
    assert bo.content.beta_blocker and bo.texts()["marks"] == "β"
    assert "marks" not in anna.texts()


def test_a_participant_heard_by_broadcast_is_marked_no_rr(wall, tmp_path):
    gym = HandClass(["Anna", "Bo", "Cai"], beta_blockers={2})
    gym.beats(20, {0: 120, 1: 150, 2: 130}, broadcast=frozenset({1, 2}))
    image = draw(wall, gym.session.tick())
    anna, bo, cai = wall.tiles
    assert "marks" not in anna.texts()
    assert bo.texts()["marks"] == "no RR"
    assert cai.texts()["marks"] == "no RR  β"
    # The mark is drawn, in the tile's text colour, and the number is still shown live.
    assert bo.texts()["number"] == "150"
    ink = bo.placed["marks"].ink.translated(bo.pos())
    assert count_colour(image, ink, bo.content.text) > 10
    assert_unclipped(wall)
    image.save(str(tmp_path / "wall_no_rr.png"))


def test_the_no_rr_mark_is_translated(wall):
    i18n.set_language("da")
    try:
        gym = HandClass(["Anna"])
        gym.beats(5, {0: 120}, broadcast=frozenset({0}))
        draw(wall, gym.session.tick())
        assert wall.tiles[0].texts()["marks"] == "ingen RR"
    finally:
        i18n.set_language("en")


def test_the_battery_mark_shows_exactly_while_the_battery_alarm_is_raised(wall):
    # The alarm is raised below 15 % and cleared only by a fresher battery (20 % or more):
    # a battery reading 17 % after 12 % keeps both the alarm and the mark.
    gym = HandClass(["Anna"])
    marks = []
    for pct in (40, 12, 17, 25):
        gym.battery(0, pct)
        gym.beats(2, {0: 120})
        snap = gym.session.tick()
        draw(wall, snap)
        alarm = AlarmKind.BATTERY_LOW in snap.participants[0].alarms
        marks.append((wall.tiles[0].content.battery_low, alarm))
    assert marks == [(False, False), (True, True), (True, True), (False, False)]


def test_a_frame_repaints_only_what_changed(wall, qtbot):
    gym = HandClass(["Anna", "Bo", "Cy"])
    gym.beats(20, {0: 120})
    with qtbot.waitExposed(wall):
        wall.show()
    wall.show_snapshot(gym.session.tick())
    wall.frame()
    assert wall.frame() == 0, "no new snapshot: nothing to do"
    wall.show_snapshot(gym.session.tick())
    assert wall.frame() == 0, "a snapshot with nothing new redraws nothing"
    gym.beats(1, {0: 124})
    wall.show_snapshot(gym.session.tick())
    assert wall.frame() == 2, "Anna's tile and the header's second, not Bo or Cy"


def test_a_new_phase_moves_every_target_band_even_without_new_samples(wall):
    gym = HandClass(["Anna", "Bo"])
    gym.beats(598, {0: 120, 1: 120})  # warm-up: 60–70 %
    draw(wall, gym.session.tick())
    assert wall.tiles[1].trace.band.rect().top() == 60
    gym.beats(3, {0: 124})  # into Interval 1/4 (85–95 %); Bo sends nothing new
    wall.show_snapshot(gym.session.tick())
    assert wall.frame() == 3
    bo = wall.tiles[1]
    assert bo.trace_changed
    band = bo.trace.band.rect()
    assert (band.top(), band.bottom()) == (85, 95)


def test_a_frame_puts_the_new_value_on_screen_at_once(wall, qtbot):
    gym = HandClass(["Anna"])
    gym.beats(30, {0: 120})
    with qtbot.waitExposed(wall):
        wall.show()
    wall.show_snapshot(gym.session.tick())
    wall.frame()
    gym.beats(10, {0: 171})  # 95 %: high
    wall.show_snapshot(gym.session.tick())
    wall.frame()  # paints synchronously: no event processing between frame and screen
    # What the window system was handed (the window's backing store), not a fresh render.
    shot = wall.screen().grabWindow(wall.winId()).toImage()
    tile = wall.tiles[0]
    view = wall.shown.participants[0]
    assert view.level is Level.HIGH and tile.texts()["number"] == str(view.bpm)
    at = tile.mapTo(wall, tile.probe_point())
    high = CLASS_COLOUR[Level.HIGH]
    assert QColor(shot.pixel(at.x(), at.y())) == QColor(high)
    line = tile.trace.geometry().translated(tile.pos())
    assert count_colour(shot, line, high, step=2) > 100
    assert count_colour(shot, line, tile.content.text) > 10, "the trace was repainted"


def test_tiles_are_built_again_for_a_new_class(wall):
    draw(wall, simulated_snapshot(8))
    draw(wall, simulated_snapshot(16))
    assert len(wall.tiles) == 16
    assert_unclipped(wall)


def test_wall_speaks_danish(wall):
    i18n.set_language("da")
    try:
        gym = HandClass(["Low", "Bo"])
        gym.beats(600, {0: 120, 1: 120})
        gym.beats(90, {0: 130, 1: 126})
        gym.beats(12, {0: 130})
        draw(wall, gym.session.tick())
        low, bo = wall.tiles
        assert low.texts()["word"] == "MODERAT"
        assert low.texts()["cue"] == "▲ SKRU OP"
        assert bo.texts()["number"] == "signal tabt"
        assert wall.header.texts()["clock"] == "tid 11:42"
        assert wall.header.texts()["detail"].startswith("mål 85–95 %")
        assert_unclipped(wall)
    finally:
        i18n.set_language("en")


def test_wall_header_names_the_phases_in_danish(wall):
    i18n.set_language("da")
    try:
        gym = HandClass(["Anna"], protocol="intermediate-high")
        gym.beats(702, {0: 130})  # 11:42: the first intermediate interval
        draw(wall, gym.session.tick())
        header = wall.header.texts()
        assert header["phase"] == "Moderat 1/4 · moderat"
        assert "næste: Høj 1/4" in header["detail"]
        assert_unclipped(wall)
    finally:
        i18n.set_language("en")


def test_render_wall_image_draws_at_the_size_asked():
    image = render_wall_image(dataclasses.replace(simulated_snapshot(8), paused=True),
                              QSize(1280, 720))
    assert image.size() == QSize(1280, 720)
    assert QColor(image.pixel(1, 1)) == QColor(palette.WALL_BG)
    classes = {CLASS_COLOUR[p.level] for p in simulated_snapshot(8).participants}
    found = {QColor(image.pixel(x, y)).name().upper()
             for x in range(0, 1280, 16) for y in range(100, 720, 16)}
    assert classes <= found


class FakeApp:
    def __init__(self, screens):
        self._screens = screens

    def screens(self):
        return self._screens

    def primaryScreen(self):
        return self._screens[0]


def test_default_screen_is_the_second_monitor_when_there_is_one():
    assert default_wall_screen(FakeApp(["laptop", "tv"])) == "tv"
    assert default_wall_screen(FakeApp(["laptop"])) == "laptop"
    app = QGuiApplication.instance()
    assert default_wall_screen(app) == app.primaryScreen()


def test_place_on_opens_frameless_full_screen_and_escape_closes(wall, qtbot):
    screen = QGuiApplication.instance().primaryScreen()
    geometry = screen.geometry()
    with qtbot.waitExposed(wall):
        wall.place_on(screen)
    assert wall.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert wall.windowState() & Qt.WindowState.WindowFullScreen
    assert wall.geometry() == geometry
    assert wall.timer.isActive()
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    assert not wall.isVisible()
    assert not wall.timer.isActive()


def test_w_on_the_wall_itself_hides_it_too(wall, qtbot):
    """With one screen the wall covers the control window; W must still bring it back."""
    with qtbot.waitExposed(wall):
        wall.place_on(QGuiApplication.instance().primaryScreen())
    qtbot.keyClick(wall, Qt.Key.Key_W)
    assert not wall.isVisible()


# Cap heights (px) at 8, 16 and 40 on a 1080p wall; on a 55" screen (0.63 mm a pixel) a text
# reads from about 200 times its height (benchmarks/wall_text.py prints the distances).
LEAST_CAP_PX = {
    8: {"name": 34, "number": 80, "pct": 45, "cue": 42, "word": 27},
    16: {"name": 27, "number": 50, "pct": 32, "cue": 35, "word": 20},
    40: {"name": 24, "number": 38, "pct": 22, "cue": 22, "word": 17},
}


@pytest.mark.parametrize("n", sorted(LEAST_CAP_PX))
def test_name_number_pct_and_cue_are_big_enough_to_read_across_the_room(wall, n):
    snap = simulated_snapshot(n)
    draw(wall, snap)
    for tile in wall.tiles:
        assert set(tile.placed) >= {"name", "number", "pct", "word"}
        for part, least in LEAST_CAP_PX[n].items():
            if part not in tile.placed:
                continue  # no cue on a tile that needs none
            font = tile.placed[part].font
            if part == "pct" and len(tile.placed[part].text) > len("88 %"):
                least *= 0.78  # 100 % and more (over the ceiling) takes three digits' type
            cap_px = (tile.placed[part].ink.height() if part == "number"
                      else QFontMetricsF(font).capHeight())
            assert cap_px >= least, f"{n} tiles: {tile.content.name}'s {part} is {cap_px} px"
        assert tile.texts()["name"] == tile.content.name, "and the name is whole"
