"""The one heartbeat of a running session: each beat ticks the session once and hands the
one snapshot that tick returned to every view. Whoever runs the app owns the loop and its
rhythm (the windows' timer in ui/app.py, the terminal's loop in terminal_view.py); views
never tick, and what they show is in the snapshot.

A finished session is ticked until a snapshot says its recording is closed too; from then
on it stands still, its last snapshot on screen, and each beat does the idle work instead
(the setup page takes in what the straps send)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hiaim_monitor.engine.snapshot import SessionSnapshot

View = Callable[[SessionSnapshot], None]


class Tickable(Protocol):
    """A session as the loop drives it: a ``RecordedSession`` (takes in what the straps
    sent, stores what became final, snapshots), or an unrecorded ``LiveSession``."""

    def tick(self) -> SessionSnapshot: ...


class SessionLoop:
    def __init__(self) -> None:
        self.session: Tickable | None = None  # the session being ticked, if any
        self.snapshot: SessionSnapshot | None = None  # the last one handed to the views
        self._views: list[View] = []
        self._idle: list[Callable[[], None]] = []
        self._beating = False
        self._again = False

    def show_on(self, view: View) -> None:
        """``view`` gets every snapshot from now on."""
        self._views.append(view)

    def when_idle(self, work: Callable[[], None]) -> None:
        """``work`` runs on every beat while no session is ticked."""
        self._idle.append(work)

    def run(self, session: Tickable) -> SessionSnapshot:
        """Tick ``session`` from now on; its first snapshot goes to every view at once."""
        self.session, self.snapshot = session, None
        self.tick()
        assert self.snapshot is not None
        return self.snapshot

    def tick(self) -> SessionSnapshot | None:
        """One beat now: the timer's, or one an operator action asks for so that what it
        changed shows at once. Asked for while a beat hands out its snapshot (a view that
        finished the recording, say), it comes right after that beat, never inside it.
        Returns the last snapshot handed out."""
        self._again = True
        if self._beating:
            return self.snapshot
        self._beating = True
        try:
            while self._again:
                self._again = False
                self._beat()
        finally:
            self._beating = False
        return self.snapshot

    def _beat(self) -> None:
        session = self.session
        if session is None:
            for work in self._idle:
                work()
            return
        snap = session.tick()
        self.snapshot = snap
        if snap.finished and not snap.recording:
            self.session = None  # over, and nothing more is stored: it stands still
        for view in self._views:
            view(snap)
