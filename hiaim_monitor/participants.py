"""Who is training today: display name, strap and the HRmax used for % HRmax."""

from __future__ import annotations

from dataclasses import dataclass

from hiaim_monitor.hrmax import HRMax


@dataclass(frozen=True, slots=True)
class Participant:
    study_code: str  # pseudonymous study code; never shown on the wall screen
    display_name: str  # what the operator chose to show
    strap_id: str
    hrmax: HRMax
    beta_blocker: bool = False  # heart-rate targets may not apply
    resting_bpm: float | None = None  # needed for % heart-rate reserve
    ceiling_pct: float | None = None  # own safety ceiling, % HRmax; None: the protocol's

    def intensity_pct(self, bpm: float, *, reserve: bool = False) -> float:
        """``bpm`` as % HRmax, or as % heart-rate reserve (Karvonen) when ``reserve``."""
        if reserve and self.resting_bpm is not None:
            return 100.0 * (bpm - self.resting_bpm) / (self.hrmax.bpm - self.resting_bpm)
        return self.hrmax.pct(bpm)
