"""Today's class from the registry: the participants whose default strap is assigned, and
every id each strap is heard by (a dual-mode strap: ble:… and ant:…, one participant).
Only real people with real straps: simulated participants, straps of kind "simulated" and
archived participants never join a class of real straps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor import strap_ids
from hiaim_monitor.hrmax import HRMax, hrmax_today
from hiaim_monitor.participants import Participant
from hiaim_monitor.storage import straps
from hiaim_monitor.storage.database import Database, StorageError, storage_errors
from hiaim_monitor.storage.schema import (
    SIMULATED_STRAP_KIND,
    ParticipantRow,
    StrapAssignmentRow,
    StrapRow,
)


def assigned_class(db: Database, strap_keys: Sequence[str] | None = None) -> list[Participant]:
    """Participants with an assigned strap (only those straps, when given: by any of their
    ids, or bare Bluetooth addresses), in study-code order, each once: a dual-mode strap
    given by both its ids is one participant. ``Participant.strap_id`` is the strap's
    ``strap_key``, its other ids are ``other_strap_ids``. HRmax follows the one rule
    (``hrmax.hrmax_today``), as in the window."""
    with storage_errors(db), db.session() as s:
        wanted = None if strap_keys is None else _straps_named(s, strap_keys)
        query = (sa.select(ParticipantRow, StrapRow)
                 .join(StrapAssignmentRow, StrapAssignmentRow.participant_id == ParticipantRow.id)
                 .join(StrapRow, StrapRow.id == StrapAssignmentRow.strap_id)
                 .where(ParticipantRow.simulated.is_(False), ParticipantRow.archived.is_(False),
                        StrapRow.kind != SIMULATED_STRAP_KIND,
                        ~StrapRow.strap_key.startswith(f"{strap_ids.SIM}:"))
                 .order_by(ParticipantRow.study_code))
        if wanted is not None:
            query = query.where(StrapRow.id.in_(set(wanted.values()) - {None}))
        rows = s.execute(query).all()
        ids = straps.ids_of(s, [strap for _, strap in rows])
    people = [Participant(p.study_code, p.display_name, strap.strap_key, _hrmax(p),
                          beta_blocker=p.beta_blocker, resting_bpm=p.resting_bpm,
                          other_strap_ids=tuple(i for i in ids[strap.id]
                                                if i != strap.strap_key))
              for p, strap in rows]
    if wanted is not None:
        worn = {strap.id for _, strap in rows}
        missing = [key for key, strap_id in wanted.items() if strap_id not in worn]
        if missing:
            raise StorageError(
                f"strap {', '.join(sorted(missing))} is not assigned to anyone: assign it with "
                "'hiaim-monitor straps assign ADDRESS CODE'")
    return people


def strap_ids_of(db: Database, strap_keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every id each strap is heard by, by the id given (e.g. ``Participant.strap_id``):
    the ids to watch for that participant, ``strap_key`` first. An id no strap has maps to
    itself alone."""
    keys = list(strap_keys)
    with storage_errors(db), db.session() as s:
        found = {key: straps.strap_by_id(s, key) for key in keys}
        ids = straps.ids_of(s, {row.id: row for row in found.values() if row}.values())
    return {key: ids[row.id] if row is not None else (key,) for key, row in found.items()}


def _straps_named(s: Session, strap_keys: Sequence[str]) -> dict[str, int | None]:
    """``straps.id`` of each strap named (None: unknown), by the id as stored."""
    named: dict[str, int | None] = {}
    for text in strap_keys:
        try:
            key = strap_ids.parse(text)
        except strap_ids.StrapIdError as error:
            if straps.strap_by_id(s, text.strip()) is None:  # an old id of no known form
                raise StorageError(str(error)) from None
            key = text.strip()
        row = straps.strap_by_id(s, key)
        named[key] = row.id if row is not None else None
    return named


def _hrmax(p: ParticipantRow) -> HRMax:
    # Today as the window's class set-up sees it (the clock's UTC date), by the same rule.
    hrmax = hrmax_today(hrmax_bpm=p.hrmax_bpm, method=p.hrmax_method,
                        birth_year=p.birth_year, today=datetime.now(UTC).date())
    if hrmax is None:
        raise StorageError(f"participant {p.study_code} has neither an HRmax nor a birth year: "
                           "add one with 'hiaim-monitor participants edit'")
    return hrmax
