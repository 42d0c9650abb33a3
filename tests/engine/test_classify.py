from hiaim_monitor.engine.classify import HysteresisClassifier, Smoother, level_of, zone_of
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
