import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiaim_monitor.engine.classify import (
    HysteresisClassifier,
    Smoother,
    level_of,
    shown_pct,
    zone_of,
)
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.protocols import Thresholds

TH = Thresholds(intermediate_pct=70, high_pct=85, ceiling_pct=100)


def test_zone_bands():
    assert [zone_of(p) for p in (40, 50, 59.9, 60, 75, 85, 90, 105)] == [0, 1, 1, 2, 3, 4, 5, 5]


def test_level_without_hysteresis():
    assert [level_of(p, TH) for p in (60, 70, 84.9, 85, 100)] == [
        Level.BELOW, Level.INTERMEDIATE, Level.INTERMEDIATE, Level.HIGH, Level.ABOVE_CEILING]


def test_hovering_at_a_threshold_does_not_flicker():
    c = HysteresisClassifier(TH, hysteresis_pct=1.0, min_dwell_s=5.0)
    c.update(83.0, 0.0)
    seen = {c.update(85.0 + (0.6 if k % 2 else -0.6), float(k)) for k in range(1, 120)}
    assert seen == {Level.INTERMEDIATE}


def test_a_clear_rise_changes_class_after_the_dwell():
    c = HysteresisClassifier(TH, hysteresis_pct=1.0, min_dwell_s=5.0)
    c.update(80.0, 0.0)
    levels = [c.update(88.0, float(t)) for t in range(1, 9)]
    assert levels[:4] == [Level.INTERMEDIATE] * 4  # 1–4 s: not yet 5 s
    assert levels[5:] == [Level.HIGH] * 3


def test_a_short_excursion_is_not_taken():
    c = HysteresisClassifier(TH, hysteresis_pct=1.0, min_dwell_s=5.0)
    c.update(80.0, 0.0)
    for t in range(1, 4):
        assert c.update(90.0, float(t)) is Level.INTERMEDIATE
    assert c.update(80.0, 4.0) is Level.INTERMEDIATE
    assert c.update(90.0, 5.0) is Level.INTERMEDIATE  # dwell starts again


def test_falling_needs_to_clear_the_edge_by_the_hysteresis():
    c = HysteresisClassifier(TH, hysteresis_pct=1.0, min_dwell_s=0.0)
    c.update(90.0, 0.0)
    assert c.update(84.5, 1.0) is Level.HIGH  # within 1 % of the edge
    assert c.update(83.9, 2.0) is Level.INTERMEDIATE
    assert c.update(60.0, 3.0) is Level.BELOW


def test_personal_ceiling_overrides_the_protocol():
    c = HysteresisClassifier(TH, hysteresis_pct=1.0, min_dwell_s=0.0, ceiling_pct=92.0)
    assert c.update(95.0, 0.0) is Level.ABOVE_CEILING


def test_smoother_follows_with_its_time_constant():
    s = Smoother(tau_s=3.0)
    s.update(100.0, 0.0)
    assert abs(s.update(130.0, 3.0) - (100 + 30 * (1 - 2.718281828 ** -1))) < 0.01
    s.reset()
    assert s.update(90.0, 10.0) == 90.0


def test_reaching_the_ceiling_needs_no_margin_but_leaving_it_does():
    c = HysteresisClassifier(TH, hysteresis_pct=1.0, min_dwell_s=0.0)
    c.update(95.0, 0.0)
    assert c.update(100.0, 1.0) is Level.ABOVE_CEILING  # the ceiling alarm starts here too
    assert c.update(99.5, 2.0) is Level.ABOVE_CEILING
    assert c.update(98.9, 3.0) is Level.HIGH


EDGES = (70.0, 85.0, 100.0)


@pytest.mark.parametrize(("pct", "level", "shown"), [
    (72.4, Level.BELOW, 69),  # still easy after crossing 70 (dwell): the number waits at 69
    (69.6, Level.BELOW, 69),  # 70 would read intermediate
    (84.7, Level.HIGH, 85),  # on the way down, within the hysteresis: still high
    (87.2, Level.INTERMEDIATE, 84),
    (99.8, Level.ABOVE_CEILING, 100),
    (77.4, Level.INTERMEDIATE, 77),  # inside its class: the value itself
    (84.6, Level.INTERMEDIATE, 84),
    (140.0, Level.ABOVE_CEILING, 140),
])
def test_the_shown_percent_stays_inside_the_class_it_is_shown_with(pct, level, shown):
    assert shown_pct(pct, level, EDGES) == shown


@given(st.floats(0, 150), st.sampled_from([lv for lv in Level if lv is not Level.UNKNOWN]),
       st.integers(40, 80), st.integers(1, 25), st.integers(1, 25))
def test_a_shown_percent_is_always_classified_as_its_class(pct, level, low, up1, up2):
    th = Thresholds(intermediate_pct=low, high_pct=low + up1, ceiling_pct=low + up1 + up2)
    edges = (th.intermediate_pct, th.high_pct, th.ceiling_pct)
    shown = shown_pct(pct, level, edges)
    assert level_of(shown, th) is level
    assert abs(shown - pct) <= 0.5 or level_of(round(pct), th) is not level
