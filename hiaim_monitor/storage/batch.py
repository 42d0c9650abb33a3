"""One transaction of a session writer's rows, stored exactly once.

Every row a writer takes has a sequence number, and the transaction that stores rows also
moves the writer's progress (``writer_progress``) past them. Storing the same rows again,
after a commit whose acknowledgement was lost or from a spill file written while the
database was down, skips what is there already. The live writer and the replay of a spill
file both store rows here, so both obey this rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import exc

from hiaim_monitor.storage import records
from hiaim_monitor.storage.heartbeat import stamp_heartbeat
from hiaim_monitor.storage.schema import (
    EventRow,
    PhaseAdherenceRow,
    RRIntervalRow,
    SampleRow,
    WriterProgressRow,
)

SAMPLES, BEATS, EVENTS, ADHERENCE, CORRECTIONS = range(5)
INSERTED: Final = (SampleRow.__table__, RRIntervalRow.__table__, EventRow.__table__,
                   PhaseAdherenceRow.__table__)
KIND_NAMES: Final = ("samples", "rr_intervals", "events", "phase_adherence",
                     "sample corrections")

# A confirmed jump: the samples stored flagged get their new flags and level.
_CORRECT: Final = (sa.update(SampleRow)
                   .where(SampleRow.session_participant_id == sa.bindparam("b_sp"),
                          SampleRow.t_s == sa.bindparam("b_t_s"))
                   .values(flags=sa.bindparam("b_flags"), level=sa.bindparam("b_level")))

Converted = list[tuple[int, dict[str, Any]]]  # (kind, row), in sequence; {} = never stored
Refused = list[tuple[int, dict[str, Any], Exception]]


def to_rows(entries: Iterable[tuple[int, Any]], session_id: int) -> tuple[Converted, Refused]:
    """Records as submitted, ``(kind, record)``, as table rows of session ``session_id``, and
    those that cannot be (a malformed record must not hold up the others): each of these
    keeps its place in the sequence as ``{}``, never stored."""
    to_row: tuple[Callable[[Any], dict[str, Any]], ...] = (  # by kind, as SAMPLES, ...
        records.sample_row, records.beat_row,
        lambda r: records.event_row(r, session_id), records.adherence_row,
        records.correction_row)
    refused: Refused = []
    converted: Converted = []
    for kind, item in entries:
        try:
            converted.append((kind, to_row[kind](item)))
        except Exception as error:
            refused.append((kind, item, error))
            converted.append((kind, {}))
    return converted, refused


def is_bad_row(error: BaseException) -> bool:
    """True when retrying cannot help: the rows themselves are wrong, not the database."""
    if isinstance(error, exc.IntegrityError | exc.DataError):
        return True
    return isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError)


def store_rows(conn: sa.Connection, writer_id: str, session_id: int, converted: Converted,
               start_seq: int, *, row_by_row: bool, heartbeat: bool) -> Refused:
    """Store what of ``converted`` (sequence numbers from ``start_seq``) is not stored yet
    and move the writer's progress past it; with ``heartbeat`` also stamp the session as
    alive. With ``row_by_row``, find the rows the database refuses and store the rest."""
    end_seq = start_seq + len(converted)
    progress = sa.select(WriterProgressRow.end_seq).where(
        WriterProgressRow.writer_id == writer_id)
    stored_to = conn.scalar(progress)
    skip = 0 if stored_to is None else max(0, stored_to - start_seq)
    groups: list[list[dict[str, Any]]] = [[] for _ in KIND_NAMES]
    for kind, row in converted[skip:]:
        if row:
            groups[kind].append(row)
    refused: Refused = []
    statements = [sa.insert(table) for table in INSERTED] + [_CORRECT]
    # Corrections last: the samples they correct may be in this very batch.
    for kind, (statement, rows) in enumerate(zip(statements, groups, strict=True)):
        if not rows:
            continue
        if not row_by_row:
            conn.execute(statement, rows)
            continue
        for row in rows:
            try:
                with conn.begin_nested():
                    conn.execute(statement, row)
            except exc.SQLAlchemyError as error:
                if not is_bad_row(error):
                    raise
                refused.append((kind, row, error))
    now = datetime.now(UTC)
    if stored_to is None:
        conn.execute(sa.insert(WriterProgressRow).values(
            writer_id=writer_id, session_id=session_id, end_seq=end_seq, updated_utc=now))
    elif end_seq > stored_to:
        conn.execute(sa.update(WriterProgressRow)
                     .where(WriterProgressRow.writer_id == writer_id)
                     .values(end_seq=end_seq, updated_utc=now))
    if heartbeat:
        stamp_heartbeat(conn, session_id, now)
    return refused


def store_batch(engine: sa.Engine, writer_id: str, session_id: int, converted: Converted,
                start_seq: int) -> Refused:
    """Store ``converted`` as ``store_rows`` does, stamping the session as alive, in one
    transaction; when the database refuses a row of it, store the rest in another. Returns
    the rows the database refused."""
    args = (writer_id, session_id, converted, start_seq)
    try:
        with engine.begin() as conn:
            return store_rows(conn, *args, row_by_row=False, heartbeat=True)
    except exc.SQLAlchemyError as error:
        if not is_bad_row(error):
            raise
        with engine.begin() as conn:
            return store_rows(conn, *args, row_by_row=True, heartbeat=True)
