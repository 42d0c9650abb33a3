"""A class of virtual participants with plausible patient figures.

Ages, resting heart rates and the spread of HRmax around the Tanaka estimate (208 − 0.7 ×
age; Tanaka, Monahan & Seals 2001, J Am Coll Cardiol 37:153) are chosen to look like an
outpatient oncology exercise class, not like athletes.
"""

from __future__ import annotations

import random
from typing import Final

from hiaim_monitor import config
from simulators.physiology import Response, VirtualParticipant

# Common Danish first names of people born 1945–1980: more than a full class, all distinct.
# fmt: off
_NAMES: Final = (
    "Anne", "Kirsten", "Hanne", "Mette", "Susanne", "Lene", "Marianne", "Inge", "Karen",
    "Birgitte", "Helle", "Jette", "Bente", "Lone", "Pia", "Tove", "Grethe", "Ulla", "Dorte",
    "Annette", "Charlotte", "Gitte", "Vibeke", "Merete", "Peter", "Jens", "Michael", "Lars",
    "Henrik", "Søren", "Thomas", "Jan", "Niels", "Ole", "Hans", "Per", "Jørgen", "Erik",
    "Bent", "Poul", "Finn", "Torben", "Flemming", "Steen", "Carsten", "Preben", "Knud", "Kim",
)
# fmt: on


def make_virtual_class(n: int, seed: int) -> list[VirtualParticipant]:
    """``n`` (1–40) virtual participants, the same for the same ``seed``.

    A study code has the same name, age and HRmax whatever ``n``: SIM-003 of a class of 3
    is SIM-003 of a class of 40 (the simulations' registry remembers them by code). From
    three participants on, at least one STRUGGLES and one OVERSHOOTS.
    """
    if not 1 <= n <= config.MAX_PARTICIPANTS:
        raise ValueError(f"a virtual class has 1–{config.MAX_PARTICIPANTS} participants, not {n}")
    rng = random.Random(seed)
    names = rng.sample(_NAMES, len(_NAMES))[:n]  # one order per seed: a prefix per class
    responses = [Response.NORMAL] * n
    if n >= 3:
        strugglers = max(1, round(0.2 * n))
        overshooters = max(1, round(0.15 * n))
        responses = (
            [Response.STRUGGLES] * strugglers
            + [Response.OVERSHOOTS] * overshooters
            + [Response.NORMAL] * (n - strugglers - overshooters)
        )
        rng.shuffle(responses)
    return [virtual_participant(f"SIM-{i:03d}", name, random.Random(f"{seed}/{i}"), response)
            for i, (name, response) in enumerate(zip(names, responses, strict=True), start=1)]


def make_cohort(n: int, seed: int, code_prefix: str) -> list[VirtualParticipant]:
    """``n`` virtual participants of any number (a programme's, spread over several
    classes), coded ``{code_prefix}-001``…, the same for the same ``seed``: figures drawn as
    for ``make_virtual_class``, about 20 % STRUGGLES and 15 % OVERSHOOTS. Display names
    repeat, numbered, past the list's end."""
    if n < 1:
        raise ValueError(f"a cohort has at least 1 participant, not {n}")
    rng = random.Random(f"{seed}/cohort")
    order = rng.sample(_NAMES, len(_NAMES))
    strugglers = round(0.2 * n) if n >= 3 else 0
    overshooters = round(0.15 * n) if n >= 3 else 0
    responses = ([Response.STRUGGLES] * strugglers + [Response.OVERSHOOTS] * overshooters
                 + [Response.NORMAL] * (n - strugglers - overshooters))
    rng.shuffle(responses)
    people = []
    for i, response in enumerate(responses, start=1):
        lap, at = divmod(i - 1, len(order))
        name = order[at] if lap == 0 else f"{order[at]} {lap + 1}"
        own = random.Random(f"{seed}/cohort/{i}")
        people.append(virtual_participant(f"{code_prefix}-{i:03d}", name, own, response))
    return people


def virtual_participant(study_code: str, display_name: str, own: random.Random,
                        response: Response) -> VirtualParticipant:
    """One participant's figures, drawn from ``own`` (their own generator)."""
    age_years = round(own.triangular(45, 80, 66))
    resting_bpm = round(own.triangular(55, 85, 70))
    hrmax_bpm = round(208 - 0.7 * age_years + own.uniform(-8.0, 8.0))
    # A low resting heart rate goes with fitness, loosely.
    fitness = min(1.0, max(0.0, 1.0 - (resting_bpm - 55) / 30 + own.gauss(0.0, 0.2)))
    return VirtualParticipant(
        study_code=study_code,
        display_name=display_name,
        age_years=age_years,
        resting_bpm=float(resting_bpm),
        hrmax_bpm=float(hrmax_bpm),
        fitness=round(fitness, 2),
        response=response,
        seed=own.randrange(2**31),
    )
