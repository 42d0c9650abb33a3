""""Report…" on the session page after a class: the session's PDF report, built from the
store (never from the live session), written where the operator says and opened in the
platform's PDF viewer.

Building the report reads the whole session back and draws a page per participant, about a
second for a class: it runs on a worker thread so the window keeps drawing, and the result
comes back to the window's thread as a signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget

from hiaim_monitor.i18n import tr
from hiaim_monitor.reports import ReportError, write_session_report
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.registry import RegistryError


def default_report_path(session_id: int) -> Path:
    """Where the save dialog suggests a session's report: a folder of its own among the
    user's documents."""
    return Path(platformdirs.user_documents_dir()) / "HI AIM Monitor" / f"session-{session_id}.pdf"


def ask_report_path(parent: QWidget, session_id: int) -> Path | None:
    """The file the operator picks for the report, or None when they cancel."""
    suggested = default_report_path(session_id)
    suggested.parent.mkdir(parents=True, exist_ok=True)
    chosen, _ = QFileDialog.getSaveFileName(parent, tr("Save the session report"),
                                            str(suggested), tr("PDF files (*.pdf)"))
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix.lower() == ".pdf" else path.with_suffix(".pdf")


def open_in_viewer(path: Path) -> bool:
    """Open ``path`` in the platform's viewer; False when none would take it."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class SessionReportWriter(QObject):
    """Writes one session's report on a worker thread; ``written`` (session id, path, error
    message or "") arrives on the window's thread when it is done."""

    written = Signal(int, str, str)

    def __init__(self, parent: QObject | None = None,
                 opener: Callable[[Path], bool] = open_in_viewer) -> None:
        super().__init__(parent)
        self.opener = opener
        self.busy = False

    def start(self, db: Database, session_id: int, path: Path) -> None:
        self.busy = True
        threading.Thread(target=self._write, args=(db, session_id, path), daemon=True,
                         name=f"report-{session_id}").start()

    def _write(self, db: Database, session_id: int, path: Path) -> None:
        try:
            write_session_report(db, session_id, path)
        except (ReportError, RegistryError, StorageError, OSError) as err:
            self.written.emit(session_id, str(path), str(err))
            return
        self.written.emit(session_id, str(path), "")
