"""A live session together with its storage: started from a plan, finished exactly once.
Used by the window and the terminal alike, so both store a session the same way."""

from __future__ import annotations

import queue
from collections.abc import Mapping
from dataclasses import dataclass

from hiaim_monitor.admin.registry import RegistryError, assign_strap
from hiaim_monitor.clock import Clock
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import SourceEvent
from hiaim_monitor.session import LiveSession
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.storage import (
    Database,
    SessionWriter,
    StorageError,
    finish_session,
    start_session,
)
from hiaim_monitor.storage.recorder import SessionRecorder
from hiaim_monitor.storage.sessions import StoredSession, store_notes


@dataclass
class FinishResult:
    unwritten_rows: int  # rows the writer could not store
    error: str  # one sentence when marking the session finished failed; "" when it worked


class RecordedSession:
    def __init__(self, db: Database, session: LiveSession, writer: SessionWriter,
                 stored: StoredSession) -> None:
        self.db = db
        self.session = session
        self.writer = writer
        self.stored = stored
        self.finished: FinishResult | None = None

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
            remember_assignments(db, {p.participant_id: p.strap_id for p in people})
        writer = SessionWriter(db, stored)
        session = LiveSession(protocol, people, clock, events, start_mono_s=start_s,
                              duration_s=duration_s, cue=cue,
                              recorder=SessionRecorder(writer, stored, start_mono_s=start_s))
        return cls(db, session, writer, stored)

    @property
    def session_id(self) -> int:
        return self.stored.session_id

    def finish(self, *, notes: str | None = None,
               participant_notes: Mapping[str, str] | None = None) -> FinishResult:
        """Hand storage the last of the data, close the writer and mark the session
        finished with the notes. Only the first call does anything."""
        if self.finished is not None:
            return self.finished
        self.session.tick()
        self.session.flush_final()
        if self.session.cue is not None:
            self.session.cue.publish(())
        unwritten = self.writer.close()
        # The window may go on showing the finished session, and straps may still report:
        # from here on nothing is handed to the closed writer.
        self.session.recorder = None
        error = ""
        try:
            finish_session(self.db, self.session_id,
                           ended_utc=self.session.clock.now_utc(), notes=notes,
                           participant_notes=participant_notes)
        except StorageError as err:
            error = str(err)
        self.finished = FinishResult(unwritten, error)
        return self.finished


    def store_notes(self, notes: str, participant_notes: Mapping[str, str]) -> str:
        """The notes as they read now, for a session already finished (the operator often
        writes them after Stop); returns one sentence when the database refused, else ""."""
        try:
            store_notes(self.db, self.session_id, notes=notes,
                        participant_notes=participant_notes)
        except StorageError as err:
            return str(err)
        return ""


def remember_assignments(db: Database, straps_by_code: Mapping[str, str]) -> None:
    """Today's straps become each participant's default for next time. Best effort: a
    participant missing from the registry keeps none."""
    for code, strap_key in straps_by_code.items():
        try:
            assign_strap(db, strap_key, code)
        except RegistryError:
            continue
