"""Exports of a stored session in the formats analysis tools read.

    paths = export_session(db, session_id, "csv", Path("out"))

Files are named by session id and study code (``session-12_HIAIM-001_samples.csv``); display
names appear, in file names and content, only with ``with_names=True``. Formats and their
exact layout: ``samples_csv`` (csv), ``rr`` (rr), ``tcx`` (tcx), ``summary`` (summary).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    ExportError,
    ExportFormat,
    participant_stem,
    prepare_out_dir,
)
from hiaim_monitor.exports.rr import export_rr
from hiaim_monitor.exports.samples_csv import export_samples_csv
from hiaim_monitor.exports.summary import export_summary
from hiaim_monitor.exports.tcx import export_tcx
from hiaim_monitor.storage.database import Database

_WRITERS: Final[dict[ExportFormat, Callable[..., list[Path]]]] = {
    ExportFormat.CSV: export_samples_csv,
    ExportFormat.RR: export_rr,
    ExportFormat.TCX: export_tcx,
    ExportFormat.SUMMARY: export_summary,
}


def export_session(db: Database, session_id: int, fmt: ExportFormat | str, out_dir: Path, *,
                   with_names: bool = False, omit_artifacts: bool = False) -> list[Path]:
    """Write session ``session_id`` as ``fmt`` into ``out_dir`` (created if needed) and
    return the files written. ``omit_artifacts`` leaves out flagged beats (rr) and untrusted
    samples (csv, tcx). Raises ``ExportError`` (one sentence) for an unknown session or
    format or a folder that cannot be written, ``StorageError`` when the database fails."""
    try:
        writer = _WRITERS[ExportFormat(fmt)]
    except ValueError:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of "
                          f"{', '.join(f.value for f in ExportFormat)}.") from None
    session = data.load_session(db, session_id)
    _check_unique_names(session, with_names)
    out_dir = prepare_out_dir(Path(out_dir))
    return writer(db, session, out_dir, with_names=with_names, omit_artifacts=omit_artifacts)


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


__all__ = ["ExportError", "ExportFormat", "export_session"]
