"""Straps by any of their ids: one physical strap has a ``strap_key`` (the id it was first
known by) and may have aliases (the ids it is heard by on other radios); every id names one
strap, so a dual-mode strap is one row, worn by one person, counted once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hiaim_monitor.storage.schema import StrapAliasRow, StrapRow


def strap_by_id(s: Session, strap_key: str) -> StrapRow | None:
    """The strap ``strap_key`` names (its own key or one of its aliases), or None."""
    row = s.scalars(sa.select(StrapRow).where(StrapRow.strap_key == strap_key)).one_or_none()
    if row is not None:
        return row
    return s.scalars(sa.select(StrapRow)
                     .join(StrapAliasRow, StrapAliasRow.strap_id == StrapRow.id)
                     .where(StrapAliasRow.strap_key == strap_key)).one_or_none()


def ids_of(s: Session, straps: Iterable[StrapRow]) -> dict[int, tuple[str, ...]]:
    """Every id of each strap, by ``straps.id``: its key first, then its aliases in the order
    they were added."""
    rows = list(straps)
    ids: dict[int, list[str]] = {row.id: [row.strap_key] for row in rows}
    if ids:
        for strap_id, key in s.execute(
                sa.select(StrapAliasRow.strap_id, StrapAliasRow.strap_key)
                .where(StrapAliasRow.strap_id.in_(list(ids)))
                .order_by(StrapAliasRow.added_utc, StrapAliasRow.strap_key)):
            ids[strap_id].append(key)
    return {strap_id: tuple(keys) for strap_id, keys in ids.items()}


def add_alias(s: Session, strap: StrapRow, strap_key: str) -> None:
    """Give ``strap`` another id; the caller has checked that no strap has it yet."""
    s.add(StrapAliasRow(strap_key=strap_key, strap_id=strap.id, added_utc=datetime.now(UTC)))
