"""The class colours the wall and the control window share, checked without Qt."""

import itertools

import pytest

from hiaim_monitor.display import CLASS_COLOUR
from hiaim_monitor.engine.codes import Level
from ui.wall import palette

CLASSES = [Level.BELOW, Level.INTERMEDIATE, Level.HIGH, Level.ABOVE_CEILING]

# Viénot, Brettel & Mollon (1999) dichromat simulation, on linear RGB.
DICHROMAT = {
    "protanopia": ((0.11238, 0.88762, 0.0), (0.11238, 0.88762, 0.0), (0.00401, -0.00401, 1.0)),
    "deuteranopia": ((0.29275, 0.70725, 0.0), (0.29275, 0.70725, 0.0),
                     (-0.02234, 0.02234, 1.0)),
    "normal vision": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
}


def _seen(colour, matrix):
    lin = [palette._channel(c) for c in palette.rgb(colour)]
    out = []
    for row in matrix:
        v = min(1.0, max(0.0, sum(m * x for m, x in zip(row, lin, strict=True))))
        out.append(255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055))
    return out


@pytest.mark.parametrize("vision", DICHROMAT)
def test_every_pair_of_class_colours_stays_apart_for_red_green_colour_blindness(vision):
    seen = {lv: _seen(c, DICHROMAT[vision]) for lv, c in CLASS_COLOUR.items()}
    for a, b in itertools.combinations(seen, 2):
        distance = sum((x - y) ** 2 for x, y in zip(seen[a], seen[b], strict=True)) ** 0.5
        assert distance > 60, f"{a.name} and {b.name} look alike with {vision}"


def test_neighbouring_classes_differ_in_lightness_too():
    lum = [palette.luminance(CLASS_COLOUR[lv]) for lv in CLASSES]
    assert all(max(a, b) / min(a, b) > 1.25 for a, b in itertools.pairwise(lum))


@pytest.mark.parametrize("level", CLASSES)
def test_text_on_every_class_colour_reads_well(level):
    bg = CLASS_COLOUR[level]
    assert palette.contrast(bg, palette.text_on(bg)) >= 4.5  # WCAG AA for normal text


def test_state_colours_read_on_their_backgrounds():
    assert palette.contrast(palette.NEUTRAL_BG, palette.MESSAGE_TEXT) >= 7
    assert palette.contrast(palette.NEUTRAL_BG, palette.WARNING_TEXT) >= 4.5
    for colour in CLASS_COLOUR.values():
        dim = palette.blend(colour, palette.WALL_BG, palette.STALE_DIM)
        assert palette.contrast(dim, palette.STALE_NUMBER) >= 3
        assert palette.contrast(dim, palette.STALE_TEXT) >= 4.5
