"""A virtual class: plausible patients, unique names, a mix of responses."""

from __future__ import annotations

import pytest

from hiaim_monitor.hrmax import estimate_hrmax, measured_hrmax
from simulators.physiology import Response
from simulators.roster import make_virtual_class


def test_the_same_seed_gives_the_same_class() -> None:
    assert make_virtual_class(12, seed=3) == make_virtual_class(12, seed=3)
    assert make_virtual_class(12, seed=3) != make_virtual_class(12, seed=4)


@pytest.mark.parametrize("seed", range(5))
def test_figures_are_those_of_plausible_patients(seed: int) -> None:
    for p in make_virtual_class(40, seed=seed):
        assert 45 <= p.age_years <= 80
        assert 55 <= p.resting_bpm <= 85
        tanaka = estimate_hrmax(p.age_years).bpm
        assert abs(p.hrmax_bpm - tanaka) <= 8.5
        measured_hrmax(p.hrmax_bpm)  # inside the range the app accepts
        assert 0.0 <= p.fitness <= 1.0


@pytest.mark.parametrize("n", [1, 8, 40])
def test_names_and_ids_are_unique_in_a_class(n: int) -> None:
    people = make_virtual_class(n, seed=1)
    assert len({p.display_name for p in people}) == n
    assert len({p.study_code for p in people}) == n
    assert len({p.seed for p in people}) == n


def test_a_class_of_eight_has_a_struggler_and_an_overshooter() -> None:
    for seed in range(50):
        responses = {p.response for p in make_virtual_class(8, seed=seed)}
        assert {Response.STRUGGLES, Response.OVERSHOOTS, Response.NORMAL} <= responses


def test_most_of_a_large_class_responds_normally() -> None:
    people = make_virtual_class(40, seed=2)
    normal = sum(p.response is Response.NORMAL for p in people)
    assert normal >= 0.6 * len(people)


@pytest.mark.parametrize("n", [0, 41])
def test_class_sizes_outside_1_to_40_are_refused(n: int) -> None:
    with pytest.raises(ValueError, match="1–40"):
        make_virtual_class(n, seed=0)


@pytest.mark.parametrize("seed", [1, 7])
def test_a_simulated_code_is_the_same_person_whatever_the_class_size(seed: int) -> None:
    big = {p.study_code: p for p in make_virtual_class(40, seed=seed)}
    for n in (1, 3, 8, 16):
        for p in make_virtual_class(n, seed=seed):
            same = big[p.study_code]
            assert (p.display_name, p.age_years, p.hrmax_bpm, p.resting_bpm, p.seed) == (
                same.display_name, same.age_years, same.hrmax_bpm, same.resting_bpm, same.seed)
