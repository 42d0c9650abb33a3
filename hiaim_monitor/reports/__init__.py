"""Reports built from the store (never from a live session): the session PDF and the
programme PDF, and the same figures as CSV (issue 13). SQLite and PostgreSQL alike.

    write_session_report(db, 12, Path("session-12.pdf"))
    write_programme_report(db, "HI AIM Herlev", Path("herlev.pdf"), participant="HIAIM-007")
    write_session_csv(db, 12, Path("out/session-12"))      # out/session-12_<table>.csv
    write_programme_csv(db, "HI AIM Herlev", Path("out/herlev"))

Participants appear by study code only, never by name. The output is checked before
anything is read (the folder must exist; a PDF ends in .pdf), written beside its final
name and renamed into place, so a refused or failed report leaves nothing behind. What a
user can get wrong raises ``ReportError`` with one sentence; a database that fails raises
``StorageError``. The CSV layouts are in ``session_csv`` and ``programme_csv``.

matplotlib is imported only when a report is made (through its PDF backend, never pyplot).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hiaim_monitor.reports.common import OutputFiles, ReportError, checked_out, written
from hiaim_monitor.storage.database import Database
from hiaim_monitor.storage.registry import RegistryError

if TYPE_CHECKING:  # the report modules (and matplotlib) load only when a report is made
    from hiaim_monitor.reports.programme_data import ProgrammeReport

Warn = Callable[[str], None]


def write_session_report(db: Database, session_id: int, out: Path) -> Path:
    """The session's PDF report at ``out`` (a .pdf in a folder that exists); returns it."""
    from hiaim_monitor.reports.session_data import load_session_report
    from hiaim_monitor.reports.session_pdf import render_session_pdf

    out = checked_out(Path(out), "pdf")
    report = load_session_report(db, session_id)
    files = OutputFiles()
    with written(files):
        render_session_pdf(report, files.part(out))
    return out


def write_session_csv(db: Database, session_id: int, out: Path) -> list[Path]:
    """The session report's tables as ``<out>_<table>.csv`` files; returns them."""
    from hiaim_monitor.reports.session_csv import write_session_tables
    from hiaim_monitor.reports.session_data import load_session_report

    stem = checked_out(Path(out), "csv")
    report = load_session_report(db, session_id)
    files = OutputFiles()
    with written(files):
        write_session_tables(report, stem, files)
    return files.paths


def write_programme_report(db: Database, programme: str, out: Path, *,
                           participant: str | None = None, warn: Warn | None = None) -> Path:
    """The programme's PDF report at ``out``: the group pages and one page per participant,
    or with ``participant`` (a study code) only that participant's page. Sessions whose
    data are missing are named on the pages and, one line, through ``warn``."""
    from hiaim_monitor.reports.programme_pdf import render_programme_pdf

    out = checked_out(Path(out), "pdf")
    report = _programme_report(db, programme, participant, warn)
    files = OutputFiles()
    with written(files):
        render_programme_pdf(report, files.part(out))
    return out


def write_programme_csv(db: Database, programme: str, out: Path, *,
                        participant: str | None = None,
                        warn: Warn | None = None) -> list[Path]:
    """The programme report's tables as ``<out>_<table>.csv`` files; returns them."""
    from hiaim_monitor.reports.programme_csv import write_programme_tables

    stem = checked_out(Path(out), "csv")
    report = _programme_report(db, programme, participant, warn)
    files = OutputFiles()
    with written(files):
        write_programme_tables(report, stem, files)
    return files.paths


def _programme_report(db: Database, programme: str, participant: str | None,
                      warn: Warn | None) -> ProgrammeReport:
    """The programme's report data; the sessions whose data are missing, one line to
    ``warn``."""
    from hiaim_monitor.reports.programme_data import load_programme_report

    try:
        report = load_programme_report(db, programme, participant)
    except RegistryError as error:  # unknown programme or code, not enrolled
        raise ReportError(str(error)) from None
    if warn is not None and report.missing:
        warn(report.missing_line())
    return report


__all__ = ["ReportError", "write_programme_csv", "write_programme_report",
           "write_session_csv", "write_session_report"]
