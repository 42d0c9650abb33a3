"""Who is training today: display name, strap and the HRmax used for % HRmax."""

from __future__ import annotations

from dataclasses import dataclass

from hiaim_monitor.hrmax import HRMax


@dataclass(frozen=True, slots=True)
class Participant:
    participant_id: str  # pseudonymous study code; never shown on the wall screen
    display_name: str  # what the operator chose to show
    strap_id: str
    hrmax: HRMax
    beta_blocker: bool = False  # heart-rate targets may not apply
