"""The cue toward the phase's band, decided from the class and the whole % shown with it."""

import pytest

from hiaim_monitor.display import CLASS_COLOUR, CLASS_WORD, Cue, cue_for, cue_text
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.protocols import Phase, PhaseKind

HIGH = Phase("Interval", PhaseKind.HIGH, 240, 85, 95)
OPEN_HIGH = Phase("High", PhaseKind.HIGH, 180, 85, None)
INTERMEDIATE = Phase("Intermediate", PhaseKind.INTERMEDIATE, 240, 70, 85)
RECOVERY = Phase("Active recovery", PhaseKind.RECOVERY, 180, 60, 70)
COOL_DOWN = Phase("Cool-down", PhaseKind.COOL_DOWN, 600, 40, 65)


@pytest.mark.parametrize(("level", "pct", "cue"), [
    (Level.INTERMEDIATE, 84, Cue.PUSH),
    (Level.HIGH, 85, Cue.HOLD),
    (Level.HIGH, 94, Cue.HOLD),
    (Level.HIGH, 95, Cue.EASE_OFF),  # a band runs up to below its top, as a class does
    (Level.ABOVE_CEILING, 100, Cue.EASE_OFF),
])
def test_cue_points_toward_a_high_band(level, pct, cue):
    assert cue_for(level, pct, HIGH) is cue


def test_a_class_below_the_target_is_told_to_push_whatever_the_band_says():
    low_band = Phase("High", PhaseKind.HIGH, 180, 80, None)  # a band reaching below 85
    assert cue_for(Level.INTERMEDIATE, 82, low_band) is Cue.PUSH
    assert cue_for(Level.HIGH, 86, low_band) is Cue.HOLD


def test_a_band_starting_above_the_class_edge_asks_for_more_within_the_class():
    steep = Phase("High", PhaseKind.HIGH, 180, 88, None)
    assert cue_for(Level.HIGH, 86, steep) is Cue.PUSH
    assert cue_for(Level.HIGH, 88, steep) is Cue.HOLD


def test_an_intermediate_phase_eases_off_a_high_class():
    assert cue_for(Level.BELOW, 69, INTERMEDIATE) is Cue.PUSH
    assert cue_for(Level.INTERMEDIATE, 70, INTERMEDIATE) is Cue.HOLD
    assert cue_for(Level.INTERMEDIATE, 84, INTERMEDIATE) is Cue.HOLD
    assert cue_for(Level.HIGH, 85, INTERMEDIATE) is Cue.EASE_OFF


def test_open_band_runs_up_to_the_ceiling_class():
    assert cue_for(Level.HIGH, 99, OPEN_HIGH) is Cue.HOLD
    assert cue_for(Level.ABOVE_CEILING, 100, OPEN_HIGH) is Cue.EASE_OFF


def test_outside_work_phases_the_only_cue_is_ease_off():
    assert cue_for(Level.BELOW, 50, RECOVERY) is None
    assert cue_for(Level.BELOW, 69, RECOVERY) is None
    assert cue_for(Level.INTERMEDIATE, 70, RECOVERY) is Cue.EASE_OFF
    assert cue_for(Level.BELOW, 66, COOL_DOWN) is Cue.EASE_OFF
    assert cue_for(Level.ABOVE_CEILING, 100, COOL_DOWN) is Cue.EASE_OFF


def test_no_value_no_class_or_no_phase_gives_no_cue():
    assert cue_for(Level.HIGH, None, HIGH) is None
    assert cue_for(None, 90, HIGH) is None
    assert cue_for(Level.UNKNOWN, 90, HIGH) is None
    assert cue_for(Level.HIGH, 90, None) is None


def test_equal_numbers_and_classes_get_equal_cues_whatever_came_before():
    # The cue has no memory: "85 % ▲ PUSH" beside "85 % ● HOLD" cannot happen.
    cues = {cue_for(Level.HIGH, 85, HIGH) for _ in range(3)}
    assert cues == {Cue.HOLD}


def test_every_class_has_one_word_and_one_colour_and_every_cue_a_text():
    assert set(CLASS_WORD) == set(CLASS_COLOUR) == {lv for lv in Level if lv >= Level.BELOW}
    assert len(set(CLASS_COLOUR.values())) == 4
    assert [cue_text(c) for c in Cue] == ["▲ PUSH", "● HOLD", "▼ EASE OFF"]
    assert cue_text(None) == ""


def test_class_words_are_translated_for_every_view():
    from hiaim_monitor import i18n
    from hiaim_monitor.display import class_word

    i18n.set_language("da")
    try:
        assert [class_word(lv) for lv in CLASS_WORD] == ["let", "moderat", "høj", "for høj"]
    finally:
        i18n.set_language("en")
    assert class_word(Level.ABOVE_CEILING) == "too high" and class_word(None) == ""
