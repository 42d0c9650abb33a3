"""A live session together with its storage: started from a plan, finished exactly once.
Used by the window and the terminal alike, so both store a session the same way.

Recording wraps the live session, which knows no storage: each ``tick`` advances it, hands
what became final (``TickOutput``) to the recorder, and completes the snapshot with the
storage's state.

Finishing never throws rows away and never makes the caller wait long: the writer goes on
storing the backlog (and then marks the session finished) while the window stays
responsive; if the app must end before the database answers, ``settle`` keeps the backlog
in a spill file, stored at the next start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import queue
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.engine.snapshot import SessionSnapshot, StorageView
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import SourceEvent
from hiaim_monitor.session import LiveSession
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.storage import (
    Database,
    SessionWriter,
    StorageError,
    start_session,
)
from hiaim_monitor.storage.recorder import SessionRecorder
from hiaim_monitor.storage.registry import RegistryError
from hiaim_monitor.storage.sessions import SessionEnd, StoredSession, store_notes
from hiaim_monitor.storage.spill import write_spill
from hiaim_monitor.storage.strap_registry import add_strap_id, assign_strap, find_strap

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinishResult:
    unwritten_rows: int  # rows kept nowhere: neither in the database nor in a spill file
    error: str  # one sentence when rows could not be kept; "" otherwise
    pending_rows: int = 0  # rows not in the database yet (waiting, or in the spill file)
    spill_path: Path | None = None  # the backlog and the session's end were kept here
    pending: bool = False  # the writer is still storing the rows and the session's end

    @property
    def stored(self) -> bool:
        """Every row and the session's end are in the database."""
        return not (self.pending or self.spill_path or self.unwritten_rows or self.error)


_STORED = FinishResult(0, "")


class RecordedSession:
    def __init__(self, db: Database, session: LiveSession, writer: SessionWriter,
                 stored: StoredSession) -> None:
        self.db = db
        self.session = session
        self.writer = writer
        self.stored = stored
        self.recorder = SessionRecorder(writer, stored)
        self.finished: FinishResult | None = None  # set once the session has ended
        self._end: SessionEnd | None = None

    @classmethod
    def start(cls, db: Database, protocol: TrainingProtocol,
              participants: list[Participant] | tuple[Participant, ...], clock: Clock,
              events: queue.SimpleQueue[SourceEvent], *, duration_s: float | None = None,
              cue: SessionCue | None = None, remember_straps: bool = False,
              simulated: bool = False) -> RecordedSession:
        """Store the new session and start it now (``simulated``: flagged as a simulation's).
        StorageError (one sentence) when the database refuses; nothing runs then."""
        start_s, start_utc = clock.monotonic(), clock.now_utc()
        people = list(participants)
        stored = start_session(db, protocol, people, started_utc=start_utc,
                               simulated=simulated)
        if remember_straps:
            remember_assignments(db, {p.study_code: p.strap_ids for p in people})
        writer = SessionWriter(db, stored)
        session = LiveSession(protocol, people, clock, events, start_mono_s=start_s,
                              duration_s=duration_s, cue=cue)
        return cls(db, session, writer, stored)

    @property
    def session_id(self) -> int:
        return self.stored.session_id

    @property
    def recording(self) -> bool:
        """Notes, acknowledgements and rows are stored with the session (until ``finish``)."""
        return self._end is None

    def tick(self) -> SessionSnapshot:
        """The one heartbeat: take in what the straps sent, store what became final, and
        return the snapshot every view shows. Once finished, the session goes on showing
        what straps send, and nothing more is stored."""
        out, snap = self.session.advance()
        if self._end is None:
            self.recorder.record(out)
        return self._with_storage(snap)

    def snapshot(self) -> SessionSnapshot:
        """The snapshot as of now, without taking anything in."""
        return self._with_storage(self.session.snapshot())

    def _with_storage(self, snap: SessionSnapshot) -> SessionSnapshot:
        writer = self.writer
        status = writer.status
        return dataclasses.replace(snap, recording=self._end is None, storage=StorageView(
            status.state, status.reason, writer.backlog_fraction, writer.dropped_rows))

    def finish(self, *, notes: str | None = None,
               participant_notes: Mapping[str, str] | None = None,
               wait_s: float = config.FINISH_WAIT_S) -> FinishResult:
        """Hand storage the last of the data and how the session ended (with the notes), and
        wait up to ``wait_s`` for the database. The writer goes on trying after that
        (``progress``, ``settle``). Only the first call ends the session."""
        if self._end is not None:
            return self.progress()
        self.tick()
        self.recorder.record(self.session.conclude())
        if self.session.cue is not None:
            self.session.cue.publish(())
        # The window may go on showing the finished session, and straps may still report:
        # from here on nothing is handed to the writer.
        self._end = SessionEnd(self.session.clock.now_utc(), notes, participant_notes)
        self.writer.finish(self._end)
        self.writer.wait(wait_s)
        return self.progress()

    def progress(self) -> FinishResult:
        """Where the finished session's data is now."""
        if self._end is None:
            raise RuntimeError("the session has not been finished yet")
        if self.finished is not None and (self.finished.spill_path
                                          or self.finished.unwritten_rows):
            return self.finished
        if self.writer.done:
            self.finished = _STORED
        else:
            self.finished = FinishResult(0, "", pending_rows=self.writer.backlog_rows,
                                         pending=True)
        return self.finished

    def settle(self, wait_s: float = config.EXIT_WAIT_S) -> FinishResult:
        """The app is ending: wait up to ``wait_s`` more for the database, then keep what it
        has not taken in a spill file, stored at the next start."""
        if self._end is None:
            self.finish(wait_s=wait_s)
        elif not self.writer.done:
            self.writer.wait(wait_s)
        if self.writer.done or (self.finished is not None and self.finished.spill_path):
            return self.progress()
        backlog = self.writer.abandon()
        rows = sum(1 for _, row in backlog.rows if row)
        try:
            path = write_spill(self.db, self.stored, backlog)
        except OSError as err:
            log.error("The backlog of session %d could not be kept: %s", self.session_id, err)
            self.finished = FinishResult(
                rows, f"{rows} rows of session {self.session_id} could not be written to "
                      f"{self.db.name}, nor kept on this computer ({err.strerror or err}).")
            return self.finished
        self.finished = FinishResult(0, "", spill_path=path, pending_rows=rows)
        return self.finished

    def store_notes(self, notes: str, participant_notes: Mapping[str, str]) -> str:
        """The notes as they read now, for a session already finished (the operator often
        writes them after Stop); returns one sentence when the database refused, else ""."""
        end = self._end
        if end is not None and self.writer.amend_end(
                SessionEnd(end.ended_utc, notes, participant_notes)):
            return ""  # the writer still has the session's end: the notes go with it
        try:
            store_notes(self.db, self.session_id, notes=notes,
                        participant_notes=participant_notes)
        except StorageError as err:
            return str(err)
        return ""


def remember_assignments(db: Database, strap_ids_by_code: Mapping[str, Sequence[str]]) -> None:
    """Today's straps become each participant's default for next time, with every id each
    was heard by today (a dual-mode strap's ANT+ number beside its Bluetooth address), so
    next time it is paired once. Best effort: a participant missing from the registry keeps
    none, and an id the registry gives another strap stays that strap's."""
    for code, (strap_key, *others) in strap_ids_by_code.items():
        try:
            assign_strap(db, strap_key, code)
        except RegistryError:
            continue
        known = find_strap(db, strap_key)
        for other in others:
            if known is not None and other in known.ids:
                continue
            with contextlib.suppress(RegistryError):
                add_strap_id(db, strap_key, other)
