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
    # The same physical strap heard on other radios (a dual-mode strap: ble:… and ant:…):
    # what arrives under these ids is this participant's too, never a second person.
    other_strap_ids: tuple[str, ...] = ()

    @property
    def strap_ids(self) -> tuple[str, ...]:
        """Every id the participant's strap is heard by, ``strap_id`` first."""
        return (self.strap_id, *self.other_strap_ids)

    def intensity_pct(self, bpm: float, *, reserve: bool = False) -> float:
        """``bpm`` as % HRmax, or as % heart-rate reserve (Karvonen) when ``reserve``."""
        if reserve and self.resting_bpm is not None:
            return 100.0 * (bpm - self.resting_bpm) / (self.hrmax.bpm - self.resting_bpm)
        return self.hrmax.pct(bpm)
