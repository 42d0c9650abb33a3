"""What a tile says, decided without Qt: the cue toward the phase's band and the palette."""

import itertools

import pytest

from hiaim_monitor.engine.codes import Level
from hiaim_monitor.protocols import Phase, PhaseKind, Thresholds
from ui.wall import palette
from ui.wall.content import Cue, cue_for

TH = Thresholds(intermediate_pct=70, high_pct=85, ceiling_pct=100)
HIGH = Phase("Interval", PhaseKind.HIGH, 240, 85, 95)
OPEN_HIGH = Phase("High", PhaseKind.HIGH, 180, 85, None)
RECOVERY = Phase("Active recovery", PhaseKind.RECOVERY, 180, 60, 70)


@pytest.mark.parametrize(("pct", "cue"), [(70, Cue.PUSH), (84.9, Cue.PUSH), (85, Cue.HOLD),
                                          (95, Cue.HOLD), (95.5, Cue.EASE_OFF)])
def test_cue_points_toward_the_work_phase_band(pct, cue):
    assert cue_for(pct, HIGH, Level.HIGH, Level.HIGH, TH, None) is cue


def test_hold_does_not_flicker_at_the_band_edge():
    assert cue_for(84.5, HIGH, Level.HIGH, Level.HIGH, TH, Cue.HOLD) is Cue.HOLD
    assert cue_for(83.5, HIGH, Level.HIGH, Level.HIGH, TH, Cue.HOLD) is Cue.PUSH
    assert cue_for(84.5, HIGH, Level.HIGH, Level.HIGH, TH, Cue.PUSH) is Cue.PUSH
    assert cue_for(95.8, HIGH, Level.HIGH, Level.HIGH, TH, Cue.HOLD) is Cue.HOLD


def test_open_band_runs_up_to_the_ceiling_and_the_ceiling_always_says_ease_off():
    assert cue_for(99, OPEN_HIGH, Level.HIGH, Level.HIGH, TH, None) is Cue.HOLD
    assert cue_for(100, OPEN_HIGH, Level.HIGH, Level.HIGH, TH, None) is Cue.EASE_OFF
    assert cue_for(97, OPEN_HIGH, Level.HIGH, Level.ABOVE_CEILING, TH, None) is Cue.EASE_OFF


def test_outside_work_phases_the_only_cue_is_ease_off():
    assert cue_for(50, RECOVERY, None, Level.BELOW, TH, None) is None
    assert cue_for(65, RECOVERY, None, Level.BELOW, TH, None) is None
    assert cue_for(75, RECOVERY, None, Level.INTERMEDIATE, TH, None) is Cue.EASE_OFF


def test_no_value_or_no_phase_gives_no_cue():
    assert cue_for(None, HIGH, Level.HIGH, None, TH, None) is None
    assert cue_for(90, None, None, Level.HIGH, TH, None) is None


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
def test_every_pair_of_zone_colours_stays_apart_for_red_green_colour_blindness(vision):
    seen = {z: _seen(c, DICHROMAT[vision]) for z, c in palette.ZONE_COLOUR.items()}
    for a, b in itertools.combinations(seen, 2):
        distance = sum((x - y) ** 2 for x, y in zip(seen[a], seen[b], strict=True)) ** 0.5
        assert distance > 40, f"zones {a} and {b} look alike with {vision}"


def test_neighbouring_zones_differ_in_lightness_too():
    lum = [palette.luminance(palette.ZONE_COLOUR[z]) for z in range(6)]
    assert all(max(a, b) / min(a, b) > 1.2 for a, b in itertools.pairwise(lum))


@pytest.mark.parametrize("zone", range(6))
def test_text_on_every_zone_colour_reads_well(zone):
    bg = palette.ZONE_COLOUR[zone]
    assert palette.contrast(bg, palette.text_on(bg)) >= 4.5  # WCAG AA for normal text


def test_state_colours_read_on_their_backgrounds():
    assert palette.contrast(palette.NEUTRAL_BG, palette.MESSAGE_TEXT) >= 7
    assert palette.contrast(palette.NEUTRAL_BG, palette.WARNING_TEXT) >= 4.5
    for colour in palette.ZONE_COLOUR.values():
        dim = palette.blend(colour, palette.WALL_BG, palette.STALE_DIM)
        assert palette.contrast(dim, palette.STALE_NUMBER) >= 3
        assert palette.contrast(dim, palette.STALE_TEXT) >= 4.5
