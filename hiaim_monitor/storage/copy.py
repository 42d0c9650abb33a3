"""Copying recorded sessions from one database to another: a class recorded on the laptop
while the central server was out of reach goes to the trial's database afterwards.

One session is copied in one transaction on the target, so it arrives whole or not at all.
Participants are matched by study code and straps by address; one the target does not know
yet is added with its registry details. Every sample, RR interval, event and interval
result comes along with its identifiers remapped. A session the target already holds (same
machine, same start, same protocol) is refused, so copying twice stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hiaim_monitor import config
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import Database, StorageError, storage_errors
from hiaim_monitor.storage.schema import (
    EventRow,
    ParticipantRow,
    PhaseAdherenceRow,
    RRIntervalRow,
    SampleRow,
    SessionParticipantRow,
    SessionRow,
    SessionStatus,
    StrapRow,
)


class CopyRefused(Exception):
    """The session cannot be copied; the message is one sentence for the user."""


@dataclass(frozen=True, slots=True)
class CopiedSession:
    source_id: int
    target_id: int
    rows: int  # samples, RR intervals, events and interval results copied


def copy_session(source: Database, target: Database, session_id: int) -> CopiedSession:
    """Copy session ``session_id`` of ``source`` into ``target``; see the module text."""
    with storage_errors(source), source.engine.connect() as src:
        session = src.execute(sa.select(SessionRow.__table__)
                              .where(SessionRow.id == session_id)).mappings().first()
        if session is None:
            raise CopyRefused(tr("There is no session {id} in {db}.")
                              .format(id=session_id, db=source.name))
        if session["status"] == SessionStatus.RUNNING:
            raise CopyRefused(tr("Session {id} is still running; finish it (or close it with "
                                 "`sessions recover {id} --close`) before copying it.")
                              .format(id=session_id))
        members = src.execute(sa.select(SessionParticipantRow.__table__).where(
            SessionParticipantRow.session_id == session_id)).mappings().all()
        people = _by_id(src, ParticipantRow, {m["participant_id"] for m in members})
        straps = _by_id(src, StrapRow, {m["strap_id"] for m in members} - {None})
        with storage_errors(target), target.engine.begin() as dst:
            already = dst.scalar(sa.select(SessionRow.id).where(
                SessionRow.host == session["host"],
                SessionRow.started_utc == session["started_utc"],
                SessionRow.protocol_key == session["protocol_key"]))
            if already is not None:
                raise CopyRefused(tr("Session {id} is already in {db}, as session {there}; "
                                     "nothing was copied.")
                                  .format(id=session_id, db=target.name, there=already))
            person_ids = {old: _find_or_add(dst, ParticipantRow, "study_code", row)
                          for old, row in people.items()}
            strap_ids = {old: _find_or_add(dst, StrapRow, "strap_key", row)
                         for old, row in straps.items()}
            new_id = _insert(dst, SessionRow, _without_id(session))
            member_ids = {}
            for m in members:
                row = _without_id(m) | {
                    "session_id": new_id, "participant_id": person_ids[m["participant_id"]],
                    "strap_id": strap_ids.get(m["strap_id"])}
                member_ids[m["id"]] = _insert(dst, SessionParticipantRow, row)
            rows = 0
            for table in (SampleRow, RRIntervalRow, PhaseAdherenceRow):
                for chunk in _chunks(src, sa.select(table.__table__).where(
                        table.session_participant_id.in_(list(member_ids)))):
                    dst.execute(sa.insert(table), [
                        _without_id(r) | {"session_participant_id":
                                          member_ids[r["session_participant_id"]]}
                        for r in chunk])
                    rows += len(chunk)
            for chunk in _chunks(src, sa.select(EventRow.__table__)
                                 .where(EventRow.session_id == session_id)):
                dst.execute(sa.insert(EventRow), [
                    _without_id(r) | {"session_id": new_id, "session_participant_id":
                                      member_ids.get(r["session_participant_id"])}
                    for r in chunk])
                rows += len(chunk)
    return CopiedSession(session_id, new_id, rows)


def _by_id(conn: sa.Connection, table: type[Any], ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    found = conn.execute(sa.select(table.__table__).where(table.id.in_(list(ids))))
    return {row["id"]: dict(row) for row in found.mappings()}


def _find_or_add(conn: sa.Connection, table: type[Any], key: str, row: dict[str, Any]) -> int:
    """The target's id of the row with the same ``key`` value, adding the row if needed."""
    found = conn.scalar(sa.select(table.id).where(getattr(table, key) == row[key]))
    return found if found is not None else _insert(conn, table, _without_id(row))


def _insert(conn: sa.Connection, table: type[Any], row: dict[str, Any]) -> int:
    new_id = conn.execute(sa.insert(table).values(**row).returning(table.id)).scalar_one()
    return int(new_id)


def _without_id(row: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(row).items() if k != "id"}


def _chunks(conn: sa.Connection, query: sa.Select[Any]) -> Iterator[list[dict[str, Any]]]:
    result = conn.execution_options(stream_results=True).execute(query).mappings()
    while chunk := result.fetchmany(config.COPY_CHUNK_ROWS):
        yield [dict(r) for r in chunk]


__all__ = ["CopiedSession", "CopyRefused", "StorageError", "copy_session"]
