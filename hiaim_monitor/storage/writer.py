"""The session writer: stores every sample, beat, event and interval result on its own thread,
in batches about once a second, so the consumer thread never waits for the database.

While the database fails (locked, disk full, server unreachable) rows wait in a bounded
buffer and writes are retried with exponential backoff; once it is back the backlog is
written. Only a buffer overflow loses rows, oldest first, and those are counted, logged,
reported in the status and recorded as a 'storage' event when the database is back.
A row the database rejects as invalid is likewise counted and logged, never retried forever.

Every row has a sequence number, and each transaction also stores how far the writer has
got (``writer_progress``). A batch retried after a commit whose acknowledgement was lost
therefore skips the rows that did reach the database: nothing is stored twice.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import exc

from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.storage import records
from hiaim_monitor.storage.database import Database, error_detail, explain
from hiaim_monitor.storage.records import AdherenceRecord, BeatRecord, EventRecord, SampleRecord
from hiaim_monitor.storage.schema import (
    EventKind,
    EventRow,
    PhaseAdherenceRow,
    RRIntervalRow,
    SampleRow,
    WriterProgressRow,
)
from hiaim_monitor.storage.sessions import StoredSession

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S: Final = 1.0  # a crash loses at most about this much
# 40 participants send about 1 sample and 2.5 beats a second each: ~25 min of outage.
CAPACITY_ROWS: Final = 200_000
BATCH_ROWS: Final = 5_000  # rows per transaction when a backlog is written
RETRY_FIRST_S: Final = 0.5  # first wait after a failed write; doubles each time
RETRY_MAX_S: Final = 30.0
CLOSE_TIMEOUT_S: Final = 10.0


class StorageState(StrEnum):
    OK = "ok"
    FAILING = "failing"  # writes fail; rows wait in memory
    RECOVERED = "recovered"  # writes work again; the backlog is being written


@dataclass(frozen=True, slots=True)
class WriterStatus:
    state: StorageState
    reason: str  # one sentence while failing, else ""
    since_utc: datetime
    dropped_rows: int  # lost to a full buffer so far


_SAMPLES, _BEATS, _EVENTS, _ADHERENCE = range(4)
_TABLES: Final = (SampleRow.__table__, RRIntervalRow.__table__, EventRow.__table__,
                  PhaseAdherenceRow.__table__)


def _is_bad_row(error: BaseException) -> bool:
    """True when retrying cannot help: the rows themselves are wrong, not the database."""
    if isinstance(error, exc.IntegrityError | exc.DataError):
        return True
    return isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError)


class SessionWriter:
    """Writes one stored session's rows on a background thread. ``submit_*`` never block."""

    def __init__(self, db: Database, session: StoredSession, *,
                 capacity_rows: int = CAPACITY_ROWS, flush_interval_s: float = FLUSH_INTERVAL_S,
                 batch_rows: int = BATCH_ROWS, retry_first_s: float = RETRY_FIRST_S,
                 retry_max_s: float = RETRY_MAX_S) -> None:
        if capacity_rows < 1:
            raise ValueError("the writer's buffer needs room for at least one row")
        self.db = db
        self.session = session
        self.capacity_rows = capacity_rows
        self._flush_interval_s = flush_interval_s
        self._batch_rows = batch_rows
        self._retry_first_s = retry_first_s
        self._retry_max_s = retry_max_s
        self._convert: tuple[Callable[[Any], dict[str, Any]], ...] = (
            records.sample_row, records.beat_row,
            lambda r: records.event_row(r, session.session_id), records.adherence_row)

        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the thread waits here
        self._drained = threading.Condition(self._lock)  # flush() waits here
        self._buffer: deque[tuple[int, Any]] = deque()  # (table, record), oldest first
        self._head_seq = 0  # sequence number of _buffer[0]
        self.writer_id = str(uuid.uuid4())  # names this writer's progress in the database
        self._in_flight_end = 0  # entries with a lower sequence number are being written
        self._dropped_in_flight = 0  # dropped while being written: lost only if that fails
        self._dropped = 0
        self._rejected = 0
        self._written = 0
        self._dropping = False  # an overflow was logged and the buffer has not drained since
        self._flush_now = False
        self._closed = False
        self._close_deadline = 0.0
        self._status = WriterStatus(StorageState.OK, "", datetime.now(UTC), 0)
        self._changes: list[WriterStatus] = []
        self._thread = threading.Thread(target=self._run, daemon=True,
                                         name=f"session-writer-{session.session_id}")
        self._thread.start()

    # -- the consumer thread's side -----------------------------------------------------
    def submit_samples(self, samples: Iterable[SampleRecord]) -> None:
        """Queue heart-rate samples for writing."""
        self._submit(_SAMPLES, samples)

    def submit_beats(self, beats: Iterable[BeatRecord]) -> None:
        """Queue RR intervals for writing."""
        self._submit(_BEATS, beats)

    def submit_event(self, event: EventRecord) -> None:
        """Queue one event (phase change, alarm, connection change, gap) for writing."""
        self._submit(_EVENTS, (event,))

    def submit_adherence(self, session_participant_id: int, result: PhaseAdherence) -> None:
        """Queue the judgement of one finished work phase for one participant."""
        self._submit(_ADHERENCE, (AdherenceRecord(session_participant_id, result),))

    @property
    def backlog_rows(self) -> int:
        """Rows waiting to be written."""
        return len(self._buffer)

    @property
    def backlog_fraction(self) -> float:
        """How full the buffer is, 0–1; at 1 every new row pushes out the oldest."""
        return len(self._buffer) / self.capacity_rows

    @property
    def dropped_rows(self) -> int:
        """Rows lost because the buffer overflowed while the database failed."""
        return self._dropped

    @property
    def rejected_rows(self) -> int:
        """Rows the database refused as invalid (each one logged)."""
        return self._rejected

    @property
    def written_rows(self) -> int:
        """Rows committed so far."""
        return self._written

    @property
    def status(self) -> WriterStatus:
        """ok, failing (with the reason) or recovered, as of now."""
        with self._lock:
            return dataclasses.replace(self._status, dropped_rows=self._dropped)

    def take_status_changes(self) -> list[WriterStatus]:
        """Status changes since the last call, oldest first (for the alarm banner)."""
        with self._lock:
            out, self._changes = self._changes, []
            return out

    def flush(self, timeout_s: float) -> bool:
        """Write now and wait up to ``timeout_s`` for the backlog to empty; True if it did.
        Blocks: for the end of a session and for tests, not for the live path."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            self._flush_now = True
            self._wake.notify()
            while self._buffer and (left := deadline - time.monotonic()) > 0:
                self._drained.wait(left)
            return not self._buffer

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> int:
        """Write what can be written within ``timeout_s``, stop the thread, and return the
        number of rows left unwritten (logged as an error when not 0)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close_deadline = time.monotonic() + timeout_s
                self._wake.notify()
        self._thread.join(timeout_s + 1.0)
        left = len(self._buffer)
        if left:
            log.error("%d rows of session %d were not written: %s", left,
                      self.session.session_id, self._status.reason or "the writer timed out")
        return left

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _submit(self, table: int, items: Iterable[Any]) -> None:
        entries = [(table, item) for item in items]
        if not entries:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("rows were submitted to a closed session writer")
            self._buffer.extend(entries)
            overflow = len(self._buffer) - self.capacity_rows
            started_dropping = overflow > 0 and not self._dropping
            if overflow > 0:
                self._drop_oldest(overflow)
        if started_dropping:
            log.warning("The storage buffer is full (%d rows): dropping the oldest rows until "
                        "%s can be written again.", self.capacity_rows, self.db.name)

    def _drop_oldest(self, count: int) -> None:
        self._dropping = True
        for _ in range(count):
            self._buffer.popleft()
            if self._head_seq < self._in_flight_end:
                self._dropped_in_flight += 1
            else:
                self._dropped += 1
            self._head_seq += 1

    # -- the writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        retry_s = 0.0
        next_write = time.monotonic() + self._flush_interval_s
        closing = False
        while True:
            with self._lock:
                # Wait for the next write, unless asked to write now or just told to close.
                while not self._flush_now and not (self._closed and not closing):
                    left = next_write - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
                self._flush_now = False
                closing, deadline = self._closed, self._close_deadline
            ok = self._write_backlog()
            now = time.monotonic()
            if ok:
                retry_s = 0.0
                next_write = now + self._flush_interval_s
            else:
                retry_s = min(max(2 * retry_s, self._retry_first_s), self._retry_max_s)
                next_write = now + retry_s
            if closing and (ok or now >= deadline):
                return
            if closing:
                next_write = min(next_write, deadline)

    def _write_backlog(self) -> bool:
        """Write everything buffered, in batches; False when the database failed."""
        while True:
            with self._lock:
                count = min(len(self._buffer), self._batch_rows)
                if count == 0:
                    self._dropping = False
                    if self._status.state is StorageState.RECOVERED:
                        self._set_status(StorageState.OK, "")
                    self._drained.notify_all()
                    return True
                batch = list(itertools.islice(self._buffer, count))
                end = self._head_seq + count
                self._in_flight_end = end
            try:
                refused = self._write(batch, end - count)
            except Exception as error:  # the thread must outlive any failure
                self._failed(error)
                return False
            for table, item, error in refused:
                log.error("A %s row was refused and not stored (%s): %r", _TABLES[table].name,
                          error_detail(error), item)
            with self._lock:
                for _ in range(max(0, end - self._head_seq)):
                    self._buffer.popleft()
                self._head_seq = max(self._head_seq, end)
                self._in_flight_end = 0
                self._dropped_in_flight = 0  # they were written after all
                self._written += count - len(refused)
                self._rejected += len(refused)
                if self._status.state is StorageState.FAILING:
                    self._recovered()

    def _write(self, batch: list[tuple[int, Any]], start_seq: int
               ) -> list[tuple[int, Any, Exception]]:
        """Insert ``batch`` (sequence numbers from ``start_seq``) in one transaction; return
        the rows refused as invalid (only counted once that transaction committed, as a
        failed one is retried whole)."""
        refused: list[tuple[int, Any, Exception]] = []
        converted: list[tuple[int, dict[str, Any]]] = []  # (table, row), in sequence
        for table, item in batch:
            try:
                converted.append((table, self._convert[table](item)))
            except Exception as error:  # a malformed record must not hold up the others
                refused.append((table, item, error))
                converted.append((table, {}))  # keeps the sequence; never inserted
        end_seq = start_seq + len(batch)
        try:
            with self.db.engine.begin() as conn:
                self._insert(conn, converted, start_seq, end_seq, row_by_row=False)
        except exc.SQLAlchemyError as error:
            if not _is_bad_row(error):
                raise
            with self.db.engine.begin() as conn:
                refused += self._insert(conn, converted, start_seq, end_seq, row_by_row=True)
        return refused

    def _insert(self, conn: sa.Connection, converted: list[tuple[int, dict[str, Any]]],
                start_seq: int, end_seq: int, *, row_by_row: bool
                ) -> list[tuple[int, Any, Exception]]:
        """Insert what is not stored yet and move this writer's progress to ``end_seq``;
        with ``row_by_row``, find the rows the database refuses and commit the rest."""
        progress = sa.select(WriterProgressRow.end_seq).where(
            WriterProgressRow.writer_id == self.writer_id)
        stored_to = conn.scalar(progress)
        skip = 0 if stored_to is None else max(0, stored_to - start_seq)
        groups: list[list[dict[str, Any]]] = [[] for _ in _TABLES]
        for table, row in converted[skip:]:
            if row:
                groups[table].append(row)
        refused: list[tuple[int, Any, Exception]] = []
        for index, (table, rows) in enumerate(zip(_TABLES, groups, strict=True)):
            if not rows:
                continue
            if not row_by_row:
                conn.execute(sa.insert(table), rows)
                continue
            for row in rows:
                try:
                    with conn.begin_nested():
                        conn.execute(sa.insert(table), row)
                except exc.SQLAlchemyError as error:
                    if not _is_bad_row(error):
                        raise
                    refused.append((index, row, error))
        now = datetime.now(UTC)
        if stored_to is None:
            conn.execute(sa.insert(WriterProgressRow).values(
                writer_id=self.writer_id, session_id=self.session.session_id,
                end_seq=end_seq, updated_utc=now))
        else:
            conn.execute(sa.update(WriterProgressRow)
                         .where(WriterProgressRow.writer_id == self.writer_id)
                         .values(end_seq=max(stored_to, end_seq), updated_utc=now))
        return refused

    def _failed(self, error: Exception) -> None:
        reason = explain(error, self.db.name)
        with self._lock:
            self._dropped += self._dropped_in_flight
            self._dropped_in_flight = 0
            self._in_flight_end = 0
            first = self._status.state is not StorageState.FAILING
            changed = first or reason != self._status.reason
            if changed:
                self._set_status(StorageState.FAILING, reason)
            backlog = len(self._buffer)
        if not isinstance(error, exc.SQLAlchemyError):
            log.exception("Unexpected failure while writing session data")
        elif changed:
            log.warning("%s Keeping %d rows in memory and retrying.", reason, backlog)

    def _recovered(self) -> None:
        """Called with the lock held after the first good write following failures."""
        failing = self._status
        now = datetime.now(UTC)
        self._set_status(StorageState.RECOVERED, "")
        log.warning("%s is writable again after failing since %s; %d rows were dropped.",
                    self.db.name, failing.since_utc.isoformat(timespec="seconds"),
                    self._dropped)
        # The outage goes on record with the data, so an analysis knows what is missing.
        self._buffer.append((_EVENTS, EventRecord(
            EventKind.STORAGE, self.session.t_s(now), now, None,
            {"failing_since_utc": failing.since_utc.isoformat(), "reason": failing.reason,
             "dropped_rows_total": self._dropped})))
        if len(self._buffer) > self.capacity_rows:
            self._drop_oldest(len(self._buffer) - self.capacity_rows)

    def _set_status(self, state: StorageState, reason: str) -> None:
        self._status = WriterStatus(state, reason, datetime.now(UTC), self._dropped)
        self._changes.append(self._status)
