"""What every export shares: the formats, the one error a user sees, file names made from the
session id and study code, files that appear whole or not at all, and how values are written.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import IntFlag, StrEnum
from pathlib import Path
from typing import IO, Any, Final

from hiaim_monitor.engine.codes import UNTRUSTED, Level

# RFC 4180 CSV: comma separated, a header row, CRLF line ends (the csv module's default).
CSV_OPTIONS: Final[dict[str, Any]] = {"dialect": "excel"}
PART_SUFFIX: Final = ".part"  # a file being written; renamed when complete
_UNSAFE_IN_NAME: Final = re.compile(r"[^\w.-]+|_+")  # "_" separates the parts of a name


class ExportFormat(StrEnum):
    CSV = "csv"  # per participant: one row per heart-rate sample
    RR = "rr"  # per participant: RR intervals for HRV tools, plus a flags sidecar
    TCX = "tcx"  # per participant: Garmin Training Center XML, for training tools
    SUMMARY = "summary"  # per session: adherence per interval, and per participant


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
    """Create ``out_dir`` if needed; refuse a path that is a file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"The export folder {out_dir} is a file; give a folder with --out.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"Cannot create the export folder {out_dir} "
                          f"({(error.strerror or str(error)).lower()}).") from None
    if not os.access(out_dir, os.W_OK):
        raise ExportError(f"The export folder {out_dir} is not writable; choose another with "
                          "--out.")
    return out_dir


@contextlib.contextmanager
def atomic_file(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Write ``path`` through a temporary file, so an interrupted export never leaves a
    truncated file that looks complete."""
    part = path.with_name(path.name + PART_SUFFIX)
    try:
        if binary:
            handle: IO[Any] = part.open("wb")
        else:
            # newline="": the csv module writes its own line ends (RFC 4180: CRLF).
            handle = part.open("w", encoding="utf-8", newline="")
        with handle:
            yield handle
        os.replace(part, path)
    except OSError as error:
        part.unlink(missing_ok=True)
        raise ExportError(f"Cannot write {path} ({(error.strerror or str(error)).lower()})."
                          ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


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
