"""The session writer: stores every sample, beat, event and interval result on its own thread,
in batches twice a second, so the consumer thread never waits for the database and a crash
loses well under a second.

While the database fails (locked, disk full, server unreachable) rows wait in a bounded
buffer (``buffer``) and writes are retried with a short backoff (``retry``), so the backlog
is written within about a second of the database coming back. Only a buffer overflow loses
rows, oldest first, and those are counted, logged, reported in the status (``status``) and
recorded as a 'storage' event when the database is back.
A row the database rejects as invalid is likewise counted and logged, never retried forever.

Every row has a sequence number, and each transaction also stores how far the writer has
got (``writer_progress``, see ``batch``). A batch retried after a commit whose acknowledgement
was lost therefore skips the rows that did reach the database: nothing is stored twice.
Each commit also stamps the session's heartbeat (``heartbeat``), so others can tell it is
being recorded.

At the end, ``finish`` hands the writer how the session ended and returns at once: the
writer goes on until the backlog is written and then marks the session finished. If the
process must end first, ``abandon`` stops it and returns the rest for a spill file
(``ending``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exc

from hiaim_monitor import config
from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.storage.batch import (
    ADHERENCE,
    BEATS,
    CORRECTIONS,
    EVENTS,
    KIND_NAMES,
    SAMPLES,
    Refused,
    store_batch,
    to_rows,
)
from hiaim_monitor.storage.buffer import Entry, RowBuffer
from hiaim_monitor.storage.database import WRITES, Database, error_detail, explain
from hiaim_monitor.storage.ending import Backlog, Ending, write_end
from hiaim_monitor.storage.heartbeat import Heartbeat, beat
from hiaim_monitor.storage.records import (
    AdherenceRecord,
    BeatRecord,
    EventRecord,
    FlagCorrection,
    SampleRecord,
)
from hiaim_monitor.storage.retry import Backoff
from hiaim_monitor.storage.schema import EventKind
from hiaim_monitor.storage.sessions import SessionEnd, StoredSession
from hiaim_monitor.storage.status import StatusLog, WriterStatus

log = logging.getLogger(__name__)


class SessionWriter:
    """Writes one stored session's rows on a background thread. ``submit_*`` never block."""

    def __init__(self, db: Database, session: StoredSession, *,
                 capacity_rows: int = config.WRITER_CAPACITY_ROWS,
                 flush_interval_s: float = config.WRITER_FLUSH_INTERVAL_S,
                 batch_rows: int = config.WRITER_BATCH_ROWS,
                 retry_first_s: float = config.WRITER_RETRY_FIRST_S,
                 retry_max_s: float = config.WRITER_RETRY_MAX_S,
                 heartbeat_every_s: float = config.HEARTBEAT_EVERY_S) -> None:
        self._buffer = RowBuffer(capacity_rows)  # (kind, record), oldest first
        self.db = db
        # SQLite: take the write lock at BEGIN, so a locked file waits the busy timeout.
        self._engine = db.engine.execution_options(**{WRITES: True})
        self.session = session
        self._flush_interval_s = flush_interval_s
        self._batch_rows = batch_rows
        self._retry_first_s = retry_first_s
        self._retry_max_s = retry_max_s

        self._lock = threading.Lock()  # guards the buffer, the status and the ending
        self._wake = threading.Condition(self._lock)  # the thread waits here
        self._drained = threading.Condition(self._lock)  # flush() waits here
        self.writer_id = str(uuid.uuid4())  # names this writer's progress in the database
        self._rejected = 0
        self._written = 0
        self._flush_now = False
        self._ending = Ending()
        self._heartbeat = Heartbeat(heartbeat_every_s)
        self._status = StatusLog()
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
    def capacity_rows(self) -> int:
        """Rows the buffer holds before the oldest are pushed out."""
        return self._buffer.capacity_rows

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
        return self._buffer.dropped

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
            return self._status.as_of_now(self._buffer.dropped)

    def take_status_changes(self) -> list[WriterStatus]:
        """Status changes since the last call, oldest first (for the alarm banner)."""
        with self._lock:
            return self._status.take_changes()

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

    def close(self, timeout_s: float = config.FINISH_WAIT_S) -> int:
        """Write what can be written within ``timeout_s``, stop the thread, and return the
        number of rows left unwritten (logged as an error when not 0)."""
        with self._lock:
            if not self._ending.closed:
                self._ending.close(timeout_s)
                self._wake.notify()
        self._thread.join(timeout_s + 1.0)
        left = len(self._buffer)
        if left:
            log.error("%d rows of session %d were not written: %s", left,
                      self.session.session_id,
                      self._status.current.reason or "the writer timed out")
        return left

    def finish(self, end: SessionEnd) -> None:
        """No more rows: write the backlog, then mark the session finished as ``end`` says.
        Returns at once; the writer retries until it is done (``wait``) or abandoned."""
        with self._lock:
            self._ending.finish(end)
            self._wake.notify()

    def amend_end(self, end: SessionEnd) -> bool:
        """Replace how the session ended (notes written after Stop) while the end is not
        stored yet; False when it is (then store the change directly)."""
        with self._lock:
            if not self._ending.amend(end):
                return False
            self._flush_now = True
            self._wake.notify()
            return True

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for ``finish`` to be done; True when it is."""
        return self._ending.done.wait(timeout_s)

    @property
    def done(self) -> bool:
        """Closed, and everything is stored (with the session's end, after ``finish``)."""
        return self._ending.done.is_set()

    def abandon(self, timeout_s: float = 2.0) -> Backlog:
        """Stop trying (the process is ending) and return what was not stored. A write under
        way may still commit after this: storing the backlog again skips it (see batch)."""
        with self._lock:
            self._ending.abandon()
            self._wake.notify()
        self._thread.join(timeout_s)
        with self._lock:
            entries, start_seq = self._buffer.snapshot()
            end = self._ending.end_unstored()
        rows, refused = to_rows(entries, self.session.session_id)
        self._log_refused(refused)  # their places are kept in the rows, never stored
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
            if self._ending.closed:
                raise RuntimeError("rows were submitted to a closed session writer")
            started_dropping = self._buffer.add(entries)
        if started_dropping:
            log.warning("The storage buffer is full (%d rows): dropping the oldest rows until "
                        "%s can be written again.", self.capacity_rows, self.db.name)

    # -- the writer thread ----------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(self._retry_first_s, self._retry_max_s)
        next_write = time.monotonic() + self._flush_interval_s
        closing = False
        ending = self._ending
        while True:
            with self._lock:
                # Wait for the next write, unless asked to write now or just told to close.
                while not (self._flush_now or ending.abandoned
                           or (ending.closed and not closing)):
                    left = next_write - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
                self._flush_now = False
                if ending.abandoned:
                    return
                closing, deadline, end = ending.closed, ending.deadline_s, ending.end
            ok = self._write_backlog(heartbeat=not closing)
            if ok and end is not None:
                ok = self._write_end(end)
            now = time.monotonic()
            if ok:
                backoff.reset()
                next_write = now + self._flush_interval_s
            else:
                next_write = now + backoff.next_wait_s()
            if closing and ok:
                with self._lock:
                    if ending.end is not end:  # amended meanwhile: store that one too
                        continue
                    ending.done.set()
                return
            if closing and now >= deadline:
                return
            if closing:
                next_write = min(next_write, deadline)

    def _write_end(self, end: SessionEnd) -> bool:
        try:
            write_end(self._engine, self.db, self.session.session_id, end)
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
                    beat_due = heartbeat and self._heartbeat.due()
                if count == 0 and not beat_due:
                    self._buffer.drained()
                    self._status.settle(self._buffer.dropped)
                    self._drained.notify_all()
                    return True
            if count == 0:
                if not self._beat():
                    return False
                continue
            with self._lock:
                batch, end = self._buffer.take(count)
            try:
                refused = self._write(batch, end - count)
            except Exception as error:  # the thread must outlive any failure
                self._failed(error)
                return False
            self._heartbeat.committed()
            self._log_refused(refused)
            with self._lock:
                self._buffer.written(end)
                self._written += count - len(refused)
                self._rejected += len(refused)
                if self._status.failing:
                    self._recovered()

    def _beat(self) -> bool:
        """Stamp the session's heartbeat without rows; False when the database failed."""
        try:
            beat(self._engine, self.session.session_id)
        except Exception as error:  # the thread must outlive any failure
            self._failed(error)
            return False
        self._heartbeat.committed()
        with self._lock:
            if self._status.failing:
                self._recovered()
        return True

    def _write(self, batch: list[Entry], start_seq: int) -> Refused:
        """Store ``batch`` (sequence numbers from ``start_seq``) in one transaction; return
        the rows refused as invalid (only counted once that transaction committed, as a
        failed one is retried whole)."""
        converted, refused = to_rows(batch, self.session.session_id)
        refused += store_batch(self._engine, self.writer_id, self.session.session_id,
                               converted, start_seq)
        return refused

    @staticmethod
    def _log_refused(refused: Refused) -> None:
        for kind, item, error in refused:
            log.error("A %s row was refused and not stored (%s): %r", KIND_NAMES[kind],
                      error_detail(error), item)

    def _failed(self, error: Exception) -> None:
        reason = explain(error, self.db.name)
        with self._lock:
            self._buffer.write_failed()
            changed = self._status.fail(reason, self._buffer.dropped)
            backlog = len(self._buffer)
        if not isinstance(error, exc.SQLAlchemyError):
            log.exception("Unexpected failure while writing session data")
        elif changed:
            log.warning("%s Keeping %d rows in memory and retrying.", reason, backlog)

    def _recovered(self) -> None:
        """Called with the lock held after the first good write following failures."""
        failing = self._status.current
        now = datetime.now(UTC)
        self._status.recover(self._buffer.dropped)
        log.warning("%s is writable again after failing since %s; %d rows were dropped.",
                    self.db.name, failing.since_utc.isoformat(timespec="seconds"),
                    self._buffer.dropped)
        # The outage goes on record with the data, so an analysis knows what is missing.
        self._buffer.add([(EVENTS, EventRecord(
            EventKind.STORAGE, self.session.t_s(now), now, None,
            {"failing_since_utc": failing.since_utc.isoformat(), "reason": failing.reason,
             "dropped_rows_total": self._buffer.dropped}))])
