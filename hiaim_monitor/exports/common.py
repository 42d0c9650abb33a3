"""What every export shares: the formats, the options, the one error a user sees, file names
made from the session id and study code, a set of files that appears whole or not at all
(private to the user: health data), and how values are written.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntFlag, StrEnum
from pathlib import Path
from typing import IO, Any, Final

from hiaim_monitor.engine.codes import UNTRUSTED, Level

# Comma separated, a header row, quoted as RFC 4180 says, but LF line ends: the ends that
# Unix tools (wc, diff, grep, awk) and R's readLines take as they are; pandas.read_csv and
# R's read.csv read LF and CRLF alike, and Excel and LibreOffice open both.
CSV_OPTIONS: Final[dict[str, Any]] = {"dialect": "excel", "lineterminator": "\n"}
PART_SUFFIX: Final = ".part"  # a file being written; renamed when the whole set is complete
EXPORT_FILE_MODE: Final = 0o600  # health data: readable by the user only, whatever the umask
EXPORT_DIR_MODE: Final = 0o700  # a folder the export creates
_UNSAFE_IN_NAME: Final = re.compile(r"[^\w.-]+|_+")  # "_" separates the parts of a name


class ExportFormat(StrEnum):
    CSV = "csv"  # per participant: one row per heart-rate sample
    RR = "rr"  # per participant: RR intervals for HRV tools, plus a flags sidecar
    TCX = "tcx"  # per participant: Garmin Training Center XML, for training tools
    SUMMARY = "summary"  # per session: adherence per interval, and per participant
    EVENTS = "events"  # per session: alarms, acknowledgements, notes, actions, phases, straps
    PARQUET = "parquet"  # all sessions given together: samples, beats, events, phase results
    REDCAP = "redcap"  # a programme: REDCap data CSV and the data dictionary that creates it


@dataclass(frozen=True, slots=True)
class ExportOptions:
    with_names: bool = False  # display names in file names and content (identifiable)
    omit_artifacts: bool = False  # leave out flagged beats (rr), untrusted samples (csv, tcx)
    with_hrmax: bool = False  # HRmax and its method in the summary (an age formula gives age)


class ExportError(Exception):
    """An export cannot be made; the message is one sentence for the user."""


def name_part(text: str) -> str:
    """``text`` made safe for a file name: letters, digits, '.', '-' only."""
    return _UNSAFE_IN_NAME.sub("-", text).strip("-.") or "unnamed"


def participant_stem(session_id: int, study_code: str, display_name: str | None) -> str:
    """``session-12_HIAIM-001`` (``_Anna`` appended only when names were asked for)."""
    parts = [f"session-{session_id}", name_part(study_code)]
    if display_name is not None:
        parts.append(name_part(display_name))
    return "_".join(parts)


def prepare_out_dir(out_dir: Path) -> Path:
    """Create ``out_dir`` if needed (every folder made is the user's only); refuse a path
    that is a file or a folder that cannot be written. A folder that already exists keeps
    its permissions: the user chose it."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"The export folder {out_dir} is a file; give a folder with --out.")
    missing = []
    folder = out_dir
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        for folder in reversed(missing):
            folder.mkdir(mode=EXPORT_DIR_MODE)
            os.chmod(folder, EXPORT_DIR_MODE)  # mkdir's mode is masked by the umask
    except OSError as error:
        raise ExportError(f"Cannot create the export folder {out_dir} "
                          f"({(error.strerror or str(error)).lower()}).") from None
    if not os.access(out_dir, os.W_OK):
        raise ExportError(f"The export folder {out_dir} is not writable; choose another with "
                          "--out.")
    return out_dir


class FileSet:
    """The files of one export, written beside their final names and put in place together
    by ``commit``: an export that fails half-way (a missing session, a full disk, Ctrl+C)
    leaves no file that looks complete, nor a set with some files missing. Each file is
    created 0600 (``EXPORT_FILE_MODE``): the umask can only take bits away, and a file an
    export replaces is replaced, not rewritten, so it never keeps looser permissions."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._parts: list[tuple[Path, Path]] = []  # (being written, final name)

    @contextlib.contextmanager
    def open(self, name: str, *, binary: bool = False) -> Iterator[IO[Any]]:
        """A handle on the file ``name`` in the export folder (text: UTF-8, line ends as
        written)."""
        path = self.out_dir / name
        part = path.with_name(path.name + PART_SUFFIX)
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, EXPORT_FILE_MODE)
            self._parts.append((part, path))  # ours from now on: discard removes it
            try:
                os.fchmod(fd, EXPORT_FILE_MODE)  # a stale .part may be looser
            except BaseException:
                os.close(fd)
                raise
            # newline="": the csv module writes its own line ends (CSV_OPTIONS).
            handle: IO[Any] = (os.fdopen(fd, "wb") if binary
                               else os.fdopen(fd, "w", encoding="utf-8", newline=""))
            with handle:
                yield handle
        except OSError as error:
            self.discard()
            raise ExportError(f"Cannot write {path} ({(error.strerror or str(error)).lower()})."
                              ) from None

    @property
    def paths(self) -> list[Path]:
        """The files of the set, by their final names, in the order they were opened."""
        return [path for _part, path in self._parts]

    def commit(self) -> list[Path]:
        """Put every file in place; returns their paths."""
        for _part, path in self._parts:
            if path.is_dir():  # the one thing that would stop a rename half-way
                self.discard()
                raise ExportError(f"Cannot write {path}: there is a folder of that name; "
                                  "move it or choose another folder with --out.")
        try:
            for part, path in self._parts:
                os.replace(part, path)
        except OSError as error:
            self.discard()
            raise ExportError(f"Cannot write into {self.out_dir} "
                              f"({(error.strerror or str(error)).lower()}).") from None
        return self.paths

    def discard(self) -> None:
        """Remove every file this set was still writing."""
        for part, _path in self._parts:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z: ``2026-03-02T09:30:01.250Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def num(value: float | None, decimals: int) -> str:
    """A number with ``decimals`` places; empty (missing) for None or NaN."""
    if value is None or value != value:
        return ""
    return f"{value:.{decimals}f}"


def flag_names(flags: int, kind: type[IntFlag]) -> str:
    """Set flag bits as lower-case names joined by '|', e.g. ``no_contact|malformed``; bits
    this version does not know are kept as hex so nothing is silently lost."""
    names, rest = [], int(flags)
    for member in kind:
        if member.value and rest & member.value:
            names.append((member.name or "").lower())
            rest &= ~member.value
    if rest:
        names.append(f"0x{rest:x}")
    return "|".join(names)


def class_name(level: int) -> str:
    """below / intermediate / high / above_ceiling / unknown."""
    try:
        return Level(level).name.lower()
    except ValueError:
        return Level.UNKNOWN.name.lower()


def is_artifact_sample(flags: int) -> bool:
    """A sample the engine did not trust (MALFORMED alone is not an artifact: the heart
    rate itself decoded fine)."""
    return bool(int(flags) & int(UNTRUSTED))
