"""Exports of stored sessions in the formats analysis tools read.

    paths = export_sessions(db, [12, 13], "csv", Path("out"))

Files are named by session id and study code (``session-12_HIAIM-001_samples.csv``); display
names appear, in file names and content, only with ``with_names=True``; HRmax and its method
only with ``with_hrmax=True`` (summary). Formats and their exact layout: ``samples_csv``
(csv), ``rr`` (rr), ``tcx`` (tcx), ``summary`` (summary), ``events`` (events), ``parquet``
(parquet: one set of four tables for all the sessions given together).

A programme (``export_programme``): ``parquet`` (the four tables of its linked sessions,
only its participants' rows, plus ``programme_parquet``'s planned-session and record
tables) or ``redcap`` (``redcap``: a REDCap data CSV and its data dictionary), for everyone
enrolled or one participant. Every file is the user's only (0600), and the files of one
call appear together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    ExportError,
    ExportFormat,
    ExportOptions,
    FileSet,
    participant_stem,
    prepare_out_dir,
)
from hiaim_monitor.exports.events import export_events
from hiaim_monitor.exports.programme import programme_scope, programme_stem, scoped_sessions
from hiaim_monitor.exports.rr import export_rr
from hiaim_monitor.exports.samples_csv import export_samples_csv
from hiaim_monitor.exports.summary import export_summary
from hiaim_monitor.exports.tcx import export_tcx
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import Database

Writer = Callable[[Database, data.ExportSession, FileSet, ExportOptions], None]
_WRITERS: Final[dict[ExportFormat, Writer]] = {
    ExportFormat.CSV: export_samples_csv,
    ExportFormat.RR: export_rr,
    ExportFormat.TCX: export_tcx,
    ExportFormat.SUMMARY: export_summary,
    ExportFormat.EVENTS: export_events,
}


def export_sessions(db: Database, session_ids: Iterable[int], fmt: ExportFormat | str,
                    out_dir: Path, *, with_names: bool = False, omit_artifacts: bool = False,
                    with_hrmax: bool = False) -> list[Path]:
    """Write each of ``session_ids`` as ``fmt`` into ``out_dir`` (created if needed) and
    return the files written. ``omit_artifacts`` leaves out flagged beats (rr, parquet) and
    untrusted samples (csv, tcx, parquet). Raises ``ExportError`` (one sentence) for an
    unknown session or format or a folder that cannot be written, ``StorageError`` when the
    database fails; then no file is written (nor replaced)."""
    try:
        fmt = ExportFormat(fmt)
    except ValueError:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of "
                          f"{', '.join(f.value for f in ExportFormat)}.") from None
    options = ExportOptions(with_names=with_names, omit_artifacts=omit_artifacts,
                            with_hrmax=with_hrmax)
    ids = list(dict.fromkeys(session_ids))  # once each, in the order given
    if not ids:
        raise ExportError("Give at least one session id to export.")
    if fmt is ExportFormat.REDCAP:  # its instances are a programme's planned sessions
        raise ExportError(tr("A REDCap export is one programme's planned sessions; give "
                             "--programme NAME instead of session ids."))
    sessions = data.load_sessions(db, ids)
    for session in sessions if fmt is not ExportFormat.PARQUET else ():  # per-person files
        _check_unique_names(session, with_names)
    files = FileSet(prepare_out_dir(Path(out_dir)))
    try:
        if fmt is ExportFormat.PARQUET:  # one set of tables for all the sessions together
            # pyarrow takes a while to import: only when asked, not on every command.
            from hiaim_monitor.exports.parquet import export_parquet

            export_parquet(db, sessions, files, options,
                           links=data.session_links(db, ids))
        else:
            for session in sessions:
                _WRITERS[fmt](db, session, files, options)
        return files.commit()
    except BaseException:
        files.discard()
        raise


def export_programme(db: Database, programme: str, fmt: ExportFormat | str, out_dir: Path,
                     *, participant: str | None = None, with_names: bool = False,
                     omit_artifacts: bool = False) -> list[Path]:
    """Write ``programme`` (only ``participant``'s part, when given) as ``parquet`` or
    ``redcap`` into ``out_dir`` and return the files written. Raises ``ExportError`` (one
    sentence) for another format, an unknown programme or study code, a participant not
    enrolled in it, or a folder that cannot be written; then no file is written."""
    given = str(fmt)
    if given not in (ExportFormat.PARQUET.value, ExportFormat.REDCAP.value):
        raise ExportError(tr("A programme is exported as parquet or redcap, not {fmt}; the "
                             "other formats take session ids.").format(fmt=repr(given)))
    fmt = ExportFormat(given)
    options = ExportOptions(with_names=with_names, omit_artifacts=omit_artifacts)
    scope = programme_scope(db, programme, participant)
    sessions = scoped_sessions(db, scope) if fmt is ExportFormat.PARQUET else []
    stem = programme_stem(scope, with_names)
    files = FileSet(prepare_out_dir(Path(out_dir)))
    try:
        if fmt is ExportFormat.PARQUET:
            from hiaim_monitor.exports.parquet import export_parquet
            from hiaim_monitor.exports.programme_parquet import export_programme_tables

            export_parquet(db, sessions, files, options, stem=stem, links=scope.links)
            export_programme_tables(db, scope, files, options, stem)
        else:
            from hiaim_monitor.exports.redcap import export_redcap

            export_redcap(db, scope, files, options, stem)
        return files.commit()
    except BaseException:
        files.discard()
        raise


def export_session(db: Database, session_id: int, fmt: ExportFormat | str, out_dir: Path, *,
                   with_names: bool = False, omit_artifacts: bool = False,
                   with_hrmax: bool = False) -> list[Path]:
    """``export_sessions`` for one session."""
    return export_sessions(db, [session_id], fmt, out_dir, with_names=with_names,
                           omit_artifacts=omit_artifacts, with_hrmax=with_hrmax)


def _check_unique_names(session: data.ExportSession, with_names: bool) -> None:
    """Two study codes that differ only in characters a file name cannot hold would
    overwrite each other's files: refuse rather than lose one."""
    seen: dict[str, str] = {}
    for p in session.participants:
        stem = participant_stem(session.session_id, p.study_code,
                                p.display_name if with_names else None)
        if stem in seen:
            raise ExportError(f"Study codes {seen[stem]!r} and {p.study_code!r} give the same "
                              f"file name ({stem}); rename one with `participants edit`.")
        seen[stem] = p.study_code


__all__ = ["ExportError", "ExportFormat", "export_programme", "export_session",
           "export_sessions"]
