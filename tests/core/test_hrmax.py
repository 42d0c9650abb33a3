from datetime import date

import pytest

from hiaim_monitor.hrmax import HRMaxMethod, estimate_hrmax, hrmax_today, measured_hrmax


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


TODAY = date(2026, 3, 2)


def test_a_measured_hrmax_wins_over_the_birth_year():
    hr = hrmax_today(hrmax_bpm=171, method=HRMaxMethod.MEASURED, birth_year=1960, today=TODAY)
    assert (hr.bpm, hr.method) == (171, HRMaxMethod.MEASURED)
    # A value stored without its method was typed in: a measured one.
    unmarked = hrmax_today(hrmax_bpm=171, method=None, birth_year=1960, today=TODAY)
    assert unmarked.method is HRMaxMethod.MEASURED


def test_an_estimate_stored_years_ago_is_made_again_for_todays_age():
    # Registered at 50 (208 − 0.7 × 50 = 173); 66 this year gives 161.8.
    hr = hrmax_today(hrmax_bpm=173, method=HRMaxMethod.TANAKA, birth_year=1960, today=TODAY)
    assert (hr.bpm, hr.method) == (pytest.approx(161.8), HRMaxMethod.TANAKA)
    gellish = hrmax_today(hrmax_bpm=172, method=HRMaxMethod.GELLISH, birth_year=1960,
                          today=TODAY)
    assert (gellish.bpm, gellish.method) == (pytest.approx(160.8), HRMaxMethod.GELLISH)


def test_without_a_test_or_formula_the_birth_year_gives_tanaka_and_nothing_gives_none():
    hr = hrmax_today(hrmax_bpm=None, method=None, birth_year=1960, today=TODAY)
    assert (hr.bpm, hr.method) == (pytest.approx(161.8), HRMaxMethod.TANAKA)
    assert hrmax_today(hrmax_bpm=None, method=None, birth_year=None, today=TODAY) is None
    # An estimate without the birth year it came from is the best there is.
    kept = hrmax_today(hrmax_bpm=160, method=HRMaxMethod.AGE_220, birth_year=None, today=TODAY)
    assert (kept.bpm, kept.method) == (160, HRMaxMethod.AGE_220)
