"""The session writer: stores every sample, beat, event and interval result on its own thread,
in batches twice a second, so the consumer thread never waits for the database and a crash
loses well under a second.

While the database fails (locked, disk full, server unreachable) rows wait in a bounded
buffer and writes are retried with a short backoff (at most ``RETRY_MAX_S``), so the backlog
is written within about a second of the database coming back. Only a buffer overflow loses
rows, oldest first, and those are counted, logged, reported in the status and recorded as a
'storage' event when the database is back.
A row the database rejects as invalid is likewise counted and logged, never retried forever.

Every row has a sequence number, and each transaction also stores how far the writer has
got (``writer_progress``, see ``batch``). A batch retried after a commit whose acknowledgement
was lost therefore skips the rows that did reach the database: nothing is stored twice.
Each commit also stamps the session's heartbeat, so others can tell it is being recorded.

At the end, ``finish`` hands the writer how the session ended and returns at once: the
writer goes on until the backlog is written and then marks the session finished. If the
process must end first, ``abandon`` stops it and returns the rest for a spill file.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import exc
from sqlalchemy.orm import Session

from hiaim_monitor import config
from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.storage import records
from hiaim_monitor.storage.batch import (
    ADHERENCE,
    BEATS,
    CORRECTIONS,
    EVENTS,
    KIND_NAMES,
    SAMPLES,
    Converted,
    Refused,
    is_bad_row,
    stamp_heartbeat,
    store_rows,
)
from hiaim_monitor.storage.database import WRITES, Database, error_detail, explain
from hiaim_monitor.storage.records import (
    AdherenceRecord,
    BeatRecord,
    EventRecord,
    FlagCorrection,
    SampleRecord,
)
from hiaim_monitor.storage.schema import EventKind
from hiaim_monitor.storage.sessions import SessionEnd, StoredSession, apply_end

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S: Final = config.WRITER_FLUSH_INTERVAL_S  # a crash loses about this much
# 40 participants send about 1 sample and 2.5 beats a second each: ~25 min of outage.
CAPACITY_ROWS: Final = 200_000
BATCH_ROWS: Final = 5_000  # rows per transaction when a backlog is written
RETRY_FIRST_S: Final = 0.25  # first wait after a failed write; doubles up to RETRY_MAX_S
# Low: a retry costs one failed connection attempt, and the backlog must reach the
# database soon after it is back (a crash then loses only what is still in memory).
RETRY_MAX_S: Final = config.WRITER_RETRY_MAX_S
CLOSE_TIMEOUT_S: Final = config.FINISH_WAIT_S


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


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a writer still holds, for a spill file: rows as they would be stored, with the
    sequence number of the first, and how the session ended (None: not yet)."""

    writer_id: str
    session_id: int
    start_seq: int
    rows: Converted
    end: SessionEnd | None


class SessionWriter:
    """Writes one stored session's rows on a background thread. ``submit_*`` never block."""

    def __init__(self, db: Database, session: StoredSession, *,
                 capacity_rows: int = CAPACITY_ROWS, flush_interval_s: float = FLUSH_INTERVAL_S,
                 batch_rows: int = BATCH_ROWS, retry_first_s: float = RETRY_FIRST_S,
                 retry_max_s: float = RETRY_MAX_S,
                 heartbeat_every_s: float = config.HEARTBEAT_EVERY_S) -> None:
        if capacity_rows < 1:
            raise ValueError("the writer's buffer needs room for at least one row")
        self.db = db
        # SQLite: take the write lock at BEGIN, so a locked file waits the busy timeout.
        self._engine = db.engine.execution_options(**{WRITES: True})
        self.session = session
        self.capacity_rows = capacity_rows
        self._flush_interval_s = flush_interval_s
        self._batch_rows = batch_rows
        self._retry_first_s = retry_first_s
        self._retry_max_s = retry_max_s
        self._heartbeat_every_s = heartbeat_every_s
        self._convert: tuple[Callable[[Any], dict[str, Any]], ...] = (
            records.sample_row, records.beat_row,
            lambda r: records.event_row(r, session.session_id), records.adherence_row,
            records.correction_row)

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
        self._end: SessionEnd | None = None  # set by finish(): mark the session finished
        self._abandoned = False
        self._done = threading.Event()  # closed, everything written (and the end marked)
        self._last_commit_s = time.monotonic()
        self._status = WriterStatus(StorageState.OK, "", datetime.now(UTC), 0)
        self._changes: list[WriterStatus] = []
        self._thread = threading.Thread(target=self._run, daemon=True,
                                         name=f"session-writer-{session.session_id}")
        self._thread.start()

    # -- the consumer thread's side -----------------------------------------------------
    def submit_samples(self, samples: Iterable[SampleRecord]) -> None:
        """Queue heart-rate samples for writing."""
        self._submit(SAMPLES, samples)

    def submit_beats(self, beats: Iterable[BeatRecord]) -> None:
        """Queue RR intervals for writing."""
        self._submit(BEATS, beats)

    def submit_event(self, event: EventRecord) -> None:
        """Queue one event (phase change, alarm, connection change, gap) for writing."""
        self._submit(EVENTS, (event,))

    def submit_adherence(self, session_participant_id: int, result: PhaseAdherence) -> None:
        """Queue the judgement of one finished work phase for one participant."""
        self._submit(ADHERENCE, (AdherenceRecord(session_participant_id, result),))

    def submit_corrections(self, corrections: Iterable[FlagCorrection]) -> None:
        """Queue new flags for samples submitted earlier (a jump that was confirmed)."""
        self._submit(CORRECTIONS, corrections)

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

    def finish(self, end: SessionEnd) -> None:
        """No more rows: write the backlog, then mark the session finished as ``end`` says.
        Returns at once; the writer retries until it is done (``wait``) or abandoned."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the session writer was closed before the session ended")
            self._closed = True
            self._end = end
            self._close_deadline = math.inf
            self._wake.notify()

    def amend_end(self, end: SessionEnd) -> bool:
        """Replace how the session ended (notes written after Stop) while the end is not
        stored yet; False when it is (then store the change directly)."""
        with self._lock:
            if self._end is None or self._done.is_set():
                return False
            self._end = end
            self._flush_now = True
            self._wake.notify()
            return True

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for ``finish`` to be done; True when it is."""
        return self._done.wait(timeout_s)

    @property
    def done(self) -> bool:
        """Closed, and everything is stored (with the session's end, after ``finish``)."""
        return self._done.is_set()

    def abandon(self, timeout_s: float = 2.0) -> Backlog:
        """Stop trying (the process is ending) and return what was not stored. A write under
        way may still commit after this: storing the backlog again skips it (see batch)."""
        with self._lock:
            self._closed = True
            self._abandoned = True
            self._wake.notify()
        self._thread.join(timeout_s)
        with self._lock:
            entries, start_seq = list(self._buffer), self._head_seq
            end = None if self._done.is_set() else self._end
        rows: Converted = []
        for kind, item in entries:
            try:
                rows.append((kind, self._convert[kind](item)))
            except Exception as error:  # counted and logged like a refused row
                log.error("A %s row was refused and not stored (%s): %r", KIND_NAMES[kind],
                          error_detail(error), item)
                rows.append((kind, {}))  # keeps the sequence; never stored
        return Backlog(self.writer_id, self.session.session_id, start_seq, rows, end)

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
                while not (self._flush_now or self._abandoned
                           or (self._closed and not closing)):
                    left = next_write - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
                self._flush_now = False
                if self._abandoned:
                    return
                closing, deadline, end = self._closed, self._close_deadline, self._end
            ok = self._write_backlog(heartbeat=not closing)
            if ok and end is not None:
                ok = self._write_end(end)
            now = time.monotonic()
            if ok:
                retry_s = 0.0
                next_write = now + self._flush_interval_s
            else:
                retry_s = min(max(2 * retry_s, self._retry_first_s), self._retry_max_s)
                next_write = now + retry_s
            if closing and ok:
                with self._lock:
                    if self._end is not end:  # amended meanwhile: store that one too
                        continue
                    self._done.set()
                return
            if closing and now >= deadline:
                return
            if closing:
                next_write = min(next_write, deadline)

    def _write_end(self, end: SessionEnd) -> bool:
        try:
            with Session(self._engine) as s, s.begin():
                apply_end(self.db, s, self.session.session_id, end)
        except Exception as error:  # the thread must outlive any failure
            self._failed(error)
            return False
        return True

    def _write_backlog(self, *, heartbeat: bool = True) -> bool:
        """Write everything buffered, in batches; False when the database failed. With
        ``heartbeat``, an idle writer still stamps the session now and then."""
        while True:
            with self._lock:
                count = min(len(self._buffer), self._batch_rows)
                if count == 0:
                    beat_due = (heartbeat and time.monotonic() - self._last_commit_s
                                >= self._heartbeat_every_s)
                if count == 0 and not beat_due:
                    self._dropping = False
                    if self._status.state is StorageState.RECOVERED:
                        self._set_status(StorageState.OK, "")
                    self._drained.notify_all()
                    return True
            if count == 0:
                if not self._beat():
                    return False
                continue
            with self._lock:
                batch = list(itertools.islice(self._buffer, count))
                end = self._head_seq + count
                self._in_flight_end = end
            try:
                refused = self._write(batch, end - count)
            except Exception as error:  # the thread must outlive any failure
                self._failed(error)
                return False
            self._last_commit_s = time.monotonic()
            for kind, item, error in refused:
                log.error("A %s row was refused and not stored (%s): %r", KIND_NAMES[kind],
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

    def _beat(self) -> bool:
        """Stamp the session's heartbeat without rows; False when the database failed."""
        try:
            with self._engine.begin() as conn:
                stamp_heartbeat(conn, self.session.session_id, datetime.now(UTC))
        except Exception as error:  # the thread must outlive any failure
            self._failed(error)
            return False
        self._last_commit_s = time.monotonic()
        with self._lock:
            if self._status.state is StorageState.FAILING:
                self._recovered()
        return True

    def _write(self, batch: list[tuple[int, Any]], start_seq: int) -> Refused:
        """Store ``batch`` (sequence numbers from ``start_seq``) in one transaction; return
        the rows refused as invalid (only counted once that transaction committed, as a
        failed one is retried whole)."""
        refused: Refused = []
        converted: Converted = []
        for kind, item in batch:
            try:
                converted.append((kind, self._convert[kind](item)))
            except Exception as error:  # a malformed record must not hold up the others
                refused.append((kind, item, error))
                converted.append((kind, {}))  # keeps the sequence; never inserted
        args = (self.writer_id, self.session.session_id, converted, start_seq)
        try:
            with self._engine.begin() as conn:
                store_rows(conn, *args, row_by_row=False, heartbeat=True)
        except exc.SQLAlchemyError as error:
            if not is_bad_row(error):
                raise
            with self._engine.begin() as conn:
                refused += store_rows(conn, *args, row_by_row=True, heartbeat=True)
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
        self._buffer.append((EVENTS, EventRecord(
            EventKind.STORAGE, self.session.t_s(now), now, None,
            {"failing_since_utc": failing.since_utc.isoformat(), "reason": failing.reason,
             "dropped_rows_total": self._dropped})))
        if len(self._buffer) > self.capacity_rows:
            self._drop_oldest(len(self._buffer) - self.capacity_rows)

    def _set_status(self, state: StorageState, reason: str) -> None:
        self._status = WriterStatus(state, reason, datetime.now(UTC), self._dropped)
        self._changes.append(self._status)
