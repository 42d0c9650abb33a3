"""Grid and tile arithmetic: pure, so every class size and screen is checked exhaustively."""

import itertools

import pytest

from ui.wall.layout import (
    TRACE_MIN_PX,
    contains,
    grid_for,
    header_parts,
    overlaps,
    tile_parts,
    tile_rects,
    wall_areas,
)

SCREENS = [(1920, 1080), (1280, 720), (3840, 2160), (1024, 768), (1080, 1920)]


def test_forty_tiles_on_full_hd_are_eight_by_five():
    _, area, gap = wall_areas(1920, 1080)
    grid = grid_for(40, area[2], area[3], gap)
    assert (grid.cols, grid.rows) == (8, 5)


def test_three_tiles_are_not_made_into_tall_slivers():
    _, area, gap = wall_areas(1920, 1080)
    grid = grid_for(3, area[2], area[3], gap)
    assert grid.tile_w >= grid.tile_h


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_every_class_size_fits_the_screen_without_overlap(width, height):
    header, area, gap = wall_areas(width, height)
    screen = (0, 0, width, height)
    assert contains(screen, header) and contains(screen, area)
    assert not overlaps(header, area)
    for n in range(1, 41):
        rects = tile_rects(n, area, gap)
        assert len(rects) == n
        assert all(contains(area, r) for r in rects)
        assert not any(overlaps(a, b) for a, b in itertools.combinations(rects, 2))
        assert len({(r[2], r[3]) for r in rects}) == 1, "tiles of one wall share a size"


def test_no_grid_leaves_a_whole_row_or_column_empty():
    for n in range(1, 41):
        grid = grid_for(n, 1900, 920, 10)
        assert grid.cols * grid.rows >= n
        assert grid.cols * (grid.rows - 1) < n and (grid.cols - 1) * grid.rows < n


def test_tiles_run_row_by_row_in_the_given_order():
    rects = tile_rects(10, (0, 0, 1900, 900), 10)
    keys = [(y, x) for x, y, _, _ in rects]
    assert keys == sorted(keys)


@pytest.mark.parametrize(("width", "height"),
                         [(228, 174), (300, 200), (460, 300), (945, 900), (1900, 900),
                          (120, 80)])
def test_tile_parts_lie_inside_the_tile_and_apart(width, height):
    parts = tile_parts(width, height)
    tile = (0, 0, width, height)
    inner = (parts.margin, parts.margin, width - 2 * parts.margin, height - 2 * parts.margin)
    all_parts = parts.text_parts()
    if parts.trace is not None:
        all_parts["trace"] = parts.trace
    for name, rect in all_parts.items():
        assert contains(inner, rect), name
        assert contains(tile, rect), name
        assert rect[2] > 0 and rect[3] > 0, name
    for (a, ra), (b, rb) in itertools.combinations(all_parts.items(), 2):
        assert not overlaps(ra, rb), f"{a} overlaps {b}"


@pytest.mark.parametrize(("width", "height"), [(228, 174), (472, 223), (472, 455)])
def test_the_number_gets_the_biggest_row(width, height):
    parts = tile_parts(width, height)
    others = [parts.name, parts.word, parts.cue] + ([parts.trace] if parts.trace else [])
    assert all(parts.number[3] > r[3] for r in others)


def test_small_tiles_give_the_trace_to_name_number_and_cue():
    # 40 and 16 on a 1080p wall: a trace would be under TRACE_MIN_PX, a flat line from 5 m.
    for width, height in ((228, 174), (472, 223)):
        small = tile_parts(width, height)
        assert small.trace is None
        assert small.name[2] == width - 2 * small.margin, "a name gets the whole row"
    small, large = tile_parts(228, 174), tile_parts(472, 455)  # 40 and 8 on 1080p
    assert large.trace is not None and large.trace[3] >= TRACE_MIN_PX
    share = {k: small.text_parts()[k][3] / 174 for k in ("name", "cue")}
    assert all(share[k] > large.text_parts()[k][3] / 455 for k in share)


def test_header_parts_lie_inside_the_header_and_apart():
    for width, height in ((1900, 130), (1260, 86), (3800, 260)):
        parts = header_parts(width, height)
        texts = parts.text_parts()
        for name, rect in {**texts, "progress": parts.progress}.items():
            assert contains((0, 0, width, height), rect), name
        for (a, ra), (b, rb) in itertools.combinations(
                {**texts, "progress": parts.progress}.items(), 2):
            assert not overlaps(ra, rb), f"{a} overlaps {b}"


def test_no_tiles_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="at least one tile"):
        grid_for(0, 1920, 1080, 8)
