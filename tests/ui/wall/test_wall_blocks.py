"""The wall during a block of short bouts, rendered offscreen and read back: GO or REST with
the bout and its seconds across the header, the station, and each tile's peak so far."""

import dataclasses
from functools import cache

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QImage

from hiaim_monitor import i18n
from hiaim_monitor.display import BoutState, whole_s
from hiaim_monitor.engine.snapshot import SessionSnapshot
from tests.ui.wall.gym import HandClass, simulated_class
from tests.ui.wall.test_wall_screen import assert_unclipped, count_colour
from ui.wall import WallScreen, palette

FULL_HD = QSize(1920, 1080)
# HI AIM: four warm-ups of 3 min, step-ups 4 × (2 + 1) min without the last rest, then the
# 15 × 20/20 s sprints on the bike from 23:00.
BLOCK_START_S = 1380.0
GO_7_S = BLOCK_START_S + 6 * 40 + 8  # 8 s into bout 7's sprint: 12 s left
REST_7_S = BLOCK_START_S + 6 * 40 + 25  # 5 s into bout 7's rest: 15 s left
# 6 m on a 55" 1080p screen (0.634 mm a pixel) by the 1/200 rule (benchmarks/wall_text.py):
# 30 mm, 47 px.
SIX_METRES_PX = 47

SPRINTS_TOML = """name = "Sprint test"
[[steps]]
block = "Sprints"
repeat = 3
work_s = 20
rest_s = 20
target_min_pct = 85
target_max_pct = 95
station = "rower"
"""


@cache
def block_snapshot(n: int, at_s: float) -> SessionSnapshot:
    return simulated_class(n, at_s).tick()


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


def header_rect(wall: WallScreen, rect: tuple[int, int, int, int]) -> QRect:
    return QRect(*rect).translated(wall.header.pos())


@pytest.mark.parametrize("n", [8, 40])
def test_during_a_sprint_the_header_says_go_the_bout_and_its_seconds(wall, n):
    snap = block_snapshot(n, GO_7_S)
    image = draw(wall, snap)
    header = wall.header.texts()
    assert header["state"] == "GO"
    assert header["bout"] == "7/15"
    assert header["countdown"] == "12" == str(whole_s(snap.position.remaining_s))
    assert header["station"] == "Exercise bike"
    assert header["phase"] == "Sprints · high"
    assert header["detail"] == "target 85–100 %   next: Cool-down"
    assert header["clock"] == "session time 27:08"
    # GO is a filled badge: most of it in the GO colour.
    badge = header_rect(wall, wall.header.block_parts.state)
    assert count_colour(image, badge, palette.GO_BG, step=3) > 0.5 * (
        badge.width() * badge.height() / 9)
    assert_unclipped(wall)


@pytest.mark.parametrize("n", [8, 40])
def test_every_tile_shows_its_peak_so_far_in_the_block_and_no_push(wall, n):
    snap = block_snapshot(n, GO_7_S)
    draw(wall, snap)
    for tile, p in zip(wall.tiles, snap.participants, strict=True):
        texts = tile.texts()
        assert p.block_peak_pct is not None
        assert texts["peak"] == f"PEAK {p.block_peak_pct} %"
        assert texts["pct"] == f"{p.pct_hrmax} %", "beside the live value"
        # The % lags a 20 s bout: GO says when to push, not the tile.
        assert "cue" not in texts
        assert p.block_peak_pct >= p.pct_hrmax


def test_rest_differs_from_go_by_word_and_by_an_empty_badge(wall):
    snap = block_snapshot(8, REST_7_S)
    image = draw(wall, snap)
    header = wall.header.texts()
    assert header["state"] == "REST" and header["bout"] == "7/15"
    assert header["countdown"] == "15"
    badge = header_rect(wall, wall.header.block_parts.state)
    assert count_colour(image, badge, palette.GO_BG, step=2) == 0
    # Its outline in the edge colour, its inside the header's dark background.
    assert count_colour(image, badge, palette.REST_EDGE, step=1) > badge.width()
    assert count_colour(image, badge, palette.WALL_BG, step=3) > 0.3 * (
        badge.width() * badge.height() / 9)
    assert_unclipped(wall)


def test_go_and_rest_are_told_apart_without_colour():
    # Filled GO against the hollow REST badge: far apart in lightness, so in greyscale too.
    assert palette.luminance(palette.GO_BG) / palette.luminance(palette.WALL_BG) > 10
    assert palette.contrast(palette.GO_BG, palette.text_on(palette.GO_BG)) >= 4.5
    assert palette.contrast(palette.WALL_BG, palette.HEADER_TEXT) >= 7


def test_go_rest_the_bout_and_the_seconds_read_from_six_metres(wall):
    draw(wall, block_snapshot(8, GO_7_S))
    for key in ("state", "bout", "countdown"):
        ink = wall.header.placed[key].ink
        assert ink.height() >= SIX_METRES_PX, f"{key} is {ink.height()} px"


def test_the_seconds_count_down_each_bout_and_the_bout_moves_on(wall):
    gym = HandClass(["Anna", "Bo"], protocol="hi-aim")
    gym.beats(int(BLOCK_START_S) + 3, {0: 150, 1: 140})
    draw(wall, gym.session.tick())
    header = wall.header.texts()
    assert (header["state"], header["bout"], header["countdown"]) == ("GO", "1/15", "17")
    gym.beats(17, {0: 160, 1: 150})
    draw(wall, gym.session.tick())
    header = wall.header.texts()
    assert (header["state"], header["bout"], header["countdown"]) == ("REST", "1/15", "20")
    gym.beats(20, {0: 150, 1: 140})
    draw(wall, gym.session.tick())
    assert wall.header.texts()["state"] == "GO"
    assert wall.header.texts()["bout"] == "2/15"
    # The bar runs over the whole block, a tick where each later bout starts.
    assert wall.header.content.progress == pytest.approx(40 / 600)
    assert len(wall.header.content.ticks) == 14
    assert_unclipped(wall)


def test_a_long_phase_keeps_its_header_and_adds_the_station(wall):
    gym = HandClass(["Anna"], protocol="hi-aim")
    gym.beats(100, {0: 110})
    draw(wall, gym.session.tick())
    header = wall.header.texts()
    assert header["phase"] == "Warm-up: bike · warm-up"
    assert header["countdown"] == "1:20"
    assert header["station"] == "Exercise bike"
    assert header["clock"] == "session time 1:40"
    assert "state" not in header and "bout" not in header
    assert_unclipped(wall)


def test_paused_in_a_block_says_paused_where_the_session_time_was(wall):
    snap = dataclasses.replace(block_snapshot(8, GO_7_S), paused=True)
    draw(wall, snap)
    header = wall.header.texts()
    assert header["paused"] == "PAUSED" and "clock" not in header
    assert header["state"] == "GO" and header["station"] == "Exercise bike"
    assert_unclipped(wall)


def test_ease_off_still_shows_in_a_block(wall, tmp_path):
    path = tmp_path / "sprints.toml"
    path.write_text(SPRINTS_TOML, encoding="utf-8")
    gym = HandClass(["High", "Low"], protocol=str(path))  # HRmax 180
    gym.beats(12, {0: 175, 1: 120})  # 97 %: above the block's band top of 95 %
    snap = gym.session.tick()
    draw(wall, snap)
    high, low = wall.tiles
    assert high.texts()["cue"] == "▼ EASE OFF", "the band's top and the ceiling still say so"
    assert "peak" not in high.texts()
    assert low.texts()["peak"] == f"PEAK {snap.participants[1].block_peak_pct} %"
    assert wall.header.texts()["station"] == "Rower"
    assert wall.header.texts()["bout"] == "1/3"


def test_the_wall_speaks_danish_in_a_block(wall):
    i18n.set_language("da")
    try:
        snap = simulated_class(8, GO_7_S).tick()
        draw(wall, snap)
        header = wall.header.texts()
        assert header["state"] == "KØR"
        assert header["station"] == "Motionscykel"
        assert header["phase"] == "Spurter · høj"
        p = snap.participants[0]
        assert wall.tiles[0].texts()["peak"] == f"TOP {p.block_peak_pct} %"
        draw(wall, simulated_class(8, REST_7_S).tick())
        assert wall.header.texts()["state"] == "HVIL"  # not PAUSE: that is a paused clock
        assert_unclipped(wall)
    finally:
        i18n.set_language("en")


def test_the_header_content_names_its_state():
    from ui.wall.content import header_content

    go, rest = header_content(block_snapshot(8, GO_7_S)), header_content(
        block_snapshot(8, REST_7_S))
    assert go.state is BoutState.GO and rest.state is BoutState.REST
    assert go.in_block and not header_content(simulated_class(1, 100.0).tick()).in_block


@pytest.mark.parametrize("station", [False, True])
def test_header_parts_of_a_block_lie_inside_the_header_and_apart(station):
    import itertools

    from ui.wall.layout import block_header_parts, contains, header_parts, overlaps

    for width, height in ((1900, 130), (1260, 86), (3800, 260)):
        long, block = (header_parts(width, height, station=station),
                       block_header_parts(width, height, station=station))
        for parts in (long, block):
            rects = {**parts.text_parts(), "progress": parts.progress}
            if station:
                # PAUSED takes the session time's place while paused: never both.
                assert rects.pop("paused") == rects["clock"]
            for name, rect in rects.items():
                assert contains((0, 0, width, height), rect), name
            for (a, ra), (b, rb) in itertools.combinations(rects.items(), 2):
                assert not overlaps(ra, rb), f"{a} overlaps {b}"
        # The middle column is the same size in both, so its type stays put.
        assert long.clock[2:] == block.clock[2:]
        assert (long.station is not None) is station
