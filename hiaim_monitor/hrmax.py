"""Maximal heart rate: measured, or estimated from age by a formula the operator picks.

The method always travels with the value, so a stored session says how its % HRmax was
computed.

- Tanaka, Monahan & Seals 2001 (J Am Coll Cardiol 37:153): 208 − 0.7 × age. The default.
- "220 − age": the classic rule of thumb (Fox, Naughton & Haskell 1971).
- Gellish et al. 2007 (Med Sci Sports Exerc 39:822), linear form: 207 − 0.7 × age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

HRMAX_MIN_BPM: Final = 100  # a value outside this range is a typo, not a person
HRMAX_MAX_BPM: Final = 230


class HRMaxMethod(StrEnum):
    MEASURED = "measured"
    TANAKA = "tanaka"
    AGE_220 = "220-age"
    GELLISH = "gellish"


_FORMULAS: Final = {
    HRMaxMethod.TANAKA: lambda age: 208 - 0.7 * age,
    HRMaxMethod.AGE_220: lambda age: 220 - age,
    HRMaxMethod.GELLISH: lambda age: 207 - 0.7 * age,
}


@dataclass(frozen=True, slots=True)
class HRMax:
    bpm: float
    method: HRMaxMethod

    def __post_init__(self) -> None:
        if not HRMAX_MIN_BPM <= self.bpm <= HRMAX_MAX_BPM:
            raise ValueError(
                f"HRmax {self.bpm:g} bpm is outside {HRMAX_MIN_BPM}–{HRMAX_MAX_BPM} bpm"
            )

    def pct(self, bpm: float) -> float:
        """``bpm`` as % of this HRmax."""
        return 100.0 * bpm / self.bpm


def measured_hrmax(bpm: float) -> HRMax:
    return HRMax(float(bpm), HRMaxMethod.MEASURED)


def estimate_hrmax(age_years: float, method: HRMaxMethod = HRMaxMethod.TANAKA) -> HRMax:
    """HRmax from age by ``method`` (not MEASURED)."""
    if method is HRMaxMethod.MEASURED:
        raise ValueError("a measured HRmax comes from a test, not from age")
    if not 10 <= age_years <= 110:
        raise ValueError(f"age {age_years:g} years is outside 10–110")
    return HRMax(round(_FORMULAS[method](age_years), 1), method)


def hrmax_today(*, hrmax_bpm: float | None, method: HRMaxMethod | None,
                birth_year: int | None, today: date) -> HRMax | None:
    """Today's HRmax of a registered participant, the one rule every path uses.

    A measured test wins (a value stored without a method is a measured one). Otherwise the
    age formula the operator picked (Tanaka when none) for the age reached this year: an
    estimate stored at registration would freeze the age at which it was made. Without a
    birth year a stored estimate is the best there is. None when nothing is known.
    """
    if hrmax_bpm is not None and method in (None, HRMaxMethod.MEASURED):
        return HRMax(float(hrmax_bpm), HRMaxMethod.MEASURED)
    if birth_year is not None:
        formula = HRMaxMethod.TANAKA if method in (None, HRMaxMethod.MEASURED) else method
        try:
            # Only the year of birth is known: the age may be a year high, HRmax ≤ 1 bpm off.
            return estimate_hrmax(today.year - birth_year, formula)
        except ValueError:
            pass  # an age no formula covers: fall back on what was stored
    if hrmax_bpm is not None and method is not None:
        return HRMax(float(hrmax_bpm), method)
    return None
