"""Today's class from the registry: the participants whose default strap is assigned.
Only real people with real straps: simulated participants, straps of kind "simulated" and
archived participants never join a class of real straps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from hiaim_monitor.hrmax import HRMax, hrmax_today
from hiaim_monitor.participants import Participant
from hiaim_monitor.storage.database import Database, StorageError, storage_errors
from hiaim_monitor.storage.schema import (
    SIMULATED_STRAP_KIND,
    ParticipantRow,
    StrapAssignmentRow,
    StrapRow,
)


def assigned_class(db: Database, strap_keys: Sequence[str] | None = None) -> list[Participant]:
    """Participants with an assigned strap (only those straps, when given), in study-code
    order. HRmax is the stored one, else Tanaka from the birth year."""
    with storage_errors(db), db.session() as s:
        rows = s.execute(
            sa.select(ParticipantRow, StrapRow)
            .join(StrapAssignmentRow, StrapAssignmentRow.participant_id == ParticipantRow.id)
            .join(StrapRow, StrapRow.id == StrapAssignmentRow.strap_id)
            .where(ParticipantRow.simulated.is_(False), ParticipantRow.archived.is_(False),
                   StrapRow.kind != SIMULATED_STRAP_KIND)
            .order_by(ParticipantRow.study_code)).all()
    wanted = None if strap_keys is None else {k.upper() for k in strap_keys}
    people = []
    for p, strap in rows:
        if wanted is not None and strap.strap_key.upper() not in wanted:
            continue
        people.append(Participant(p.study_code, p.display_name, strap.strap_key,
                                  _hrmax(p), beta_blocker=p.beta_blocker,
                                  resting_bpm=p.resting_bpm))
    if wanted is not None:
        missing = wanted - {p.strap_id.upper() for p in people}
        if missing:
            raise StorageError(
                f"strap {', '.join(sorted(missing))} is not assigned to anyone: assign it with "
                "'hiaim-monitor straps assign ADDRESS CODE'")
    return people


def _hrmax(p: ParticipantRow) -> HRMax:
    # Today as the window's class set-up sees it (the clock's UTC date), by the same rule.
    hrmax = hrmax_today(hrmax_bpm=p.hrmax_bpm, method=p.hrmax_method,
                        birth_year=p.birth_year, today=datetime.now(UTC).date())
    if hrmax is None:
        raise StorageError(f"participant {p.study_code} has neither an HRmax nor a birth year: "
                           "add one with 'hiaim-monitor participants edit'")
    return hrmax
