"""The strap registry: each strap under every id it is heard by (``ble:…``, ``ant:…``):
any of them finds it, assigns it, and it is worn by one person.

Every write checks everything first and then commits once, so a refused command changes
nothing. What a user can get wrong raises ``RegistryError`` with one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor import strap_ids
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage import straps
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.registry import RegistryError, find_participant_row
from hiaim_monitor.storage.schema import (
    SIMULATED_STRAP_KIND,
    ParticipantRow,
    StrapAssignmentRow,
    StrapRow,
)


@dataclass(frozen=True, slots=True)
class StrapInfo:
    strap_key: str
    name: str
    kind: str
    battery_pct: int | None
    battery_utc: datetime | None
    study_code: str | None  # who wears it by default
    display_name: str | None
    ids: tuple[str, ...] = ()  # every id it is heard by, strap_key first


def add_strap(db: Database, strap_key: str, *, name: str = "", kind: str = "") -> StrapInfo:
    """Register a strap before its first session, by its id (``ble:…``, ``ant:12345``) or a
    bare Bluetooth address. ``kind`` defaults to its radio ("simulated" for ``sim:``)."""
    key = normalise_strap_key(strap_key)
    kind = kind.strip() or _kind_of(key)
    with storage_errors(db), db.writing() as s, s.begin():
        _must_be_free(s, key)
        row = StrapRow(strap_key=key, name=name.strip(), kind=kind)
        s.add(row)
        s.flush()
        return _strap_info(s, row)


def add_strap_id(db: Database, strap_key: str, new_id: str) -> StrapInfo:
    """Record that the strap ``strap_key`` (any of its ids) is also heard as ``new_id``: a
    dual-mode strap's ANT+ number beside its Bluetooth address. It stays one strap, worn by
    one person."""
    new_key = normalise_strap_key(new_id)
    with storage_errors(db), db.writing() as s, s.begin():
        strap, _ = _must_find_strap(s, strap_key)
        _must_be_free(s, new_key, strap)
        straps.add_alias(s, strap, new_key)
        s.flush()
        return _strap_info(s, strap)


def find_strap(db: Database, strap_key: str) -> StrapInfo | None:
    """The strap ``strap_key`` names, by any of its ids, or None."""
    with storage_errors(db), db.session() as s:
        strap, _ = _lookup_strap(s, strap_key)
        return None if strap is None else _strap_info(s, strap)


def list_straps(db: Database) -> list[StrapInfo]:
    """Every known strap with all its ids and who wears it by default, by id."""
    with storage_errors(db), db.session() as s:
        rows = s.execute(
            sa.select(StrapRow, ParticipantRow.study_code, ParticipantRow.display_name)
            .outerjoin(StrapAssignmentRow, StrapAssignmentRow.strap_id == StrapRow.id)
            .outerjoin(ParticipantRow, ParticipantRow.id == StrapAssignmentRow.participant_id)
            .order_by(StrapRow.strap_key)).all()
        ids = straps.ids_of(s, [r for r, _, _ in rows])
        return [StrapInfo(r.strap_key, r.name, r.kind, r.battery_pct, r.battery_utc, study_code,
                          name, ids[r.id]) for r, study_code, name in rows]


def assign_strap(db: Database, strap_key: str, study_code: str) -> str | None:
    """Make the strap ``strap_key`` names (any of its ids) the one participant ``code``
    wears by default (one strap per person, one person per strap). Returns the study code
    of the participant the strap was taken from, or None."""
    with storage_errors(db), db.writing() as s, s.begin():
        person = find_participant_row(s, study_code)
        strap, _ = _must_find_strap(s, strap_key)
        previous = s.scalar(
            sa.select(ParticipantRow.study_code)
            .join(StrapAssignmentRow, StrapAssignmentRow.participant_id == ParticipantRow.id)
            .where(StrapAssignmentRow.strap_id == strap.id,
                   StrapAssignmentRow.participant_id != person.id))
        s.execute(sa.delete(StrapAssignmentRow).where(sa.or_(
            StrapAssignmentRow.strap_id == strap.id,
            StrapAssignmentRow.participant_id == person.id)))
        s.add(StrapAssignmentRow(participant_id=person.id, strap_id=strap.id,
                                 assigned_utc=datetime.now(UTC)))
        return previous


def normalise_strap_key(strap_key: str) -> str:
    """The strap id as stored (``strap_ids.parse``): the radio in lower case, a Bluetooth
    address upper-case with colons; a bare address is a BLE one."""
    try:
        return strap_ids.parse(strap_key)
    except strap_ids.StrapIdError as error:
        raise RegistryError(str(error)) from None


# -- checks and helpers --------------------------------------------------------------------


def _lookup_strap(s: Session, text: str) -> tuple[StrapRow | None, str]:
    """The strap ``text`` names and its id as stored. An id of no known form is looked up
    as it is: a database from before ids named their radio may keep such ids."""
    try:
        key = strap_ids.parse(text)
    except strap_ids.StrapIdError as error:
        strap = straps.strap_by_id(s, text.strip())
        if strap is None:
            raise RegistryError(str(error)) from None
        return strap, text.strip()
    return straps.strap_by_id(s, key), key


def _must_find_strap(s: Session, text: str) -> tuple[StrapRow, str]:
    strap, key = _lookup_strap(s, text)
    if strap is None:
        raise RegistryError(tr("There is no strap {key} in the registry; add it, or "
                               "connect it once in a session.").format(key=key))
    return strap, key


def _must_be_free(s: Session, key: str, strap: StrapRow | None = None) -> None:
    """Refuse ``key`` when a strap has it already (``strap``: the one it is to be added to)."""
    owner = straps.strap_by_id(s, key)
    if owner is None:
        return
    if strap is not None and owner.id == strap.id:
        raise RegistryError(tr("Strap {key} already has the id {new}.")
                            .format(key=strap.strap_key, new=key))
    if strap is not None:
        raise RegistryError(tr("{new} is already the id of strap {key}; one id names one "
                               "strap.").format(new=key, key=owner.strap_key))
    raise RegistryError(tr("Strap {key} is already registered.").format(key=key))


def _kind_of(key: str) -> str:
    radio, _ = strap_ids.split(key)
    return SIMULATED_STRAP_KIND if radio == strap_ids.SIM else radio


def _strap_info(s: Session, row: StrapRow) -> StrapInfo:
    study_code, name = s.execute(
        sa.select(ParticipantRow.study_code, ParticipantRow.display_name)
        .join(StrapAssignmentRow, StrapAssignmentRow.participant_id == ParticipantRow.id)
        .where(StrapAssignmentRow.strap_id == row.id)).one_or_none() or (None, None)
    return StrapInfo(row.strap_key, row.name, row.kind, row.battery_pct, row.battery_utc,
                     study_code, name, straps.ids_of(s, [row])[row.id])
