import pytest

from hiaim_monitor.hrmax import HRMaxMethod, estimate_hrmax, measured_hrmax


def test_tanaka_is_the_default_age_formula():
    hr = estimate_hrmax(60)
    assert hr.method is HRMaxMethod.TANAKA
    assert hr.bpm == pytest.approx(208 - 0.7 * 60)


@pytest.mark.parametrize(
    ("method", "expected"),
    [(HRMaxMethod.AGE_220, 155), (HRMaxMethod.GELLISH, 207 - 0.7 * 65)],
)
def test_other_formulas_carry_their_method(method, expected):
    hr = estimate_hrmax(65, method)
    assert hr.bpm == pytest.approx(expected)
    assert hr.method is method


def test_measured_hrmax_is_marked_measured_and_gives_percentages():
    hr = measured_hrmax(160)
    assert hr.method is HRMaxMethod.MEASURED
    assert hr.pct(136) == pytest.approx(85.0)


def test_implausible_hrmax_and_age_are_refused():
    with pytest.raises(ValueError, match="outside 100–230"):
        measured_hrmax(260)
    with pytest.raises(ValueError, match="age 5 years"):
        estimate_hrmax(5)
    with pytest.raises(ValueError, match="measured HRmax comes from a test"):
        estimate_hrmax(60, HRMaxMethod.MEASURED)
