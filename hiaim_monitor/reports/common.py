"""What the session and programme reports share: the one error a user sees, where the
output goes (checked before anything is read, written beside its final name and put in
place whole, so a failure leaves nothing), how numbers read, and trace decimation.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
import numpy.typing as npt

from hiaim_monitor.display import NO_VALUE
from hiaim_monitor.i18n import tr

MAX_TRACE_POINTS: Final = 2000  # per plotted trace: a 60-min session has 3600 samples
REPORT_FILE_MODE: Final = 0o600  # health data: the user's only, whatever the umask
# Comma separated, a header row, RFC 4180 quoting, LF line ends (as the exports write).
CSV_OPTIONS: Final[dict[str, Any]] = {"dialect": "excel", "lineterminator": "\n"}
FORMATS: Final = ("pdf", "csv")


class ReportError(Exception):
    """A report cannot be made; the message is one sentence for the user."""


def checked_out(out: Path, fmt: str) -> Path:
    """``out`` if a report of format ``fmt`` can be written there, else ReportError.

    pdf: ``out`` is the file and must end in .pdf. csv: ``out`` is a file stem (a
    ``.csv`` suffix is dropped) and each table becomes ``<stem>_<table>.csv`` beside it.
    Either way the folder must exist and be writable: a report never creates folders.
    """
    if fmt not in FORMATS:
        raise ReportError(tr("Report format {fmt} is not one of pdf, csv.").format(
            fmt=repr(fmt)))
    out = Path(out)
    if fmt == "pdf" and out.suffix.lower() != ".pdf":
        raise ReportError(tr("The report file {path} does not end in .pdf; give a .pdf file, "
                             "or --format csv.").format(path=out))
    if fmt == "csv":
        if out.suffix.lower() == ".csv":
            out = out.with_suffix("")
        elif out.suffix:
            raise ReportError(tr("The CSV report {path} has the suffix {suffix}; give a file "
                                 "stem (or a .csv name) with --format csv.").format(
                path=out, suffix=out.suffix))
    folder = out.parent
    if not folder.is_dir():
        raise ReportError(tr("The folder {folder} does not exist; create it or give another "
                             "path with --out.").format(folder=folder))
    if not os.access(folder, os.W_OK):
        raise ReportError(tr("The folder {folder} is not writable; give another path with "
                             "--out.").format(folder=folder))
    if out.is_dir():
        raise ReportError(tr("{path} is a folder; give a file name with --out.").format(
            path=out))
    return out


class OutputFiles:
    """Files written beside their final names (hidden, 0600) and renamed into place together
    by ``commit``; ``discard`` (or an exception inside ``written``) removes them all."""

    def __init__(self) -> None:
        self._parts: list[tuple[Path, Path]] = []

    def part(self, path: Path) -> Path:
        """A temporary file in ``path``'s folder that becomes ``path`` on commit."""
        try:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                        suffix=".part")
        except OSError as error:
            raise ReportError(tr("Cannot write {path} ({error}).").format(
                path=path, error=(error.strerror or str(error)).lower())) from None
        os.fchmod(fd, REPORT_FILE_MODE)
        os.close(fd)
        self._parts.append((Path(name), path))
        return Path(name)

    @contextlib.contextmanager
    def csv_writer(self, path: Path, header: Sequence[str]) -> Iterator[Any]:
        with self.part(path).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, **CSV_OPTIONS)
            writer.writerow(header)
            yield writer

    @property
    def paths(self) -> list[Path]:
        return [path for _part, path in self._parts]

    def commit(self) -> list[Path]:
        try:
            for part, path in self._parts:
                os.replace(part, path)
        except OSError as error:
            self.discard()
            raise ReportError(tr("Cannot write {path} ({error}).").format(
                path=self._parts[0][1], error=(error.strerror or str(error)).lower())) from None
        return self.paths

    def discard(self) -> None:
        for part, _path in self._parts:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)


@contextlib.contextmanager
def written(files: OutputFiles) -> Iterator[OutputFiles]:
    """Commit ``files`` when the block ends normally; discard them when it raises."""
    try:
        yield files
    except BaseException:
        files.discard()
        raise
    files.commit()


def write_rows(handle: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    out = csv.writer(handle, **CSV_OPTIONS)
    out.writerow(header)
    out.writerows(rows)


# --- how numbers read -----------------------------------------------------------------


def pct(fraction: float | None, decimals: int = 0) -> str:
    """0.889 → "89 %"; None → "—"."""
    return NO_VALUE if fraction is None else f"{100 * fraction:.{decimals}f} %"


def minutes(seconds: float | None) -> str:
    """Seconds as "m:ss"; None → "—"."""
    if seconds is None:
        return NO_VALUE
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def number(value: float | None, decimals: int = 1) -> str:
    return NO_VALUE if value is None else f"{value:.{decimals}f}"


def cell(value: float | None, decimals: int) -> str:
    """A CSV cell: the number with ``decimals`` places, empty for None or NaN."""
    if value is None or value != value:
        return ""
    return f"{value:.{decimals}f}"


def spread(values: dict[str, float | None], scale: float = 1.0, decimals: int = 0,
           unit: str = "") -> str:
    """{"median", "min", "max"} as "median 94 % (range 50–100 %)"."""
    if values["median"] is None:
        return NO_VALUE

    def f(v: float | None) -> str:
        return f"{(v or 0.0) * scale:.{decimals}f}{unit}"

    return tr("median {median} (range {low}–{high})").format(
        median=f(values["median"]), low=f(values["min"]), high=f(values["max"]))


# --- decimation -----------------------------------------------------------------------


def decimate(t: npt.ArrayLike, y: npt.ArrayLike,
             max_points: int = MAX_TRACE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` of (t, y) that draw as the whole trace does: in each of
    ``max_points / 2`` buckets its lowest and highest point, in time order, so peaks and
    dips survive (what pyqtgraph's "peak" downsampling does on screen). NaN (no trusted
    value) is kept where a whole bucket has none, so gaps stay gaps."""
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = t.size
    if n <= max_points:
        return t, y
    buckets = max(1, max_points // 2)
    size = -(-n // buckets)  # ceil
    pad = buckets * size - n
    ty = np.concatenate([t, np.full(pad, np.nan)]).reshape(buckets, size)
    yy = np.concatenate([y, np.full(pad, np.nan)]).reshape(buckets, size)
    empty = np.all(np.isnan(yy), axis=1)
    lo = np.argmin(np.where(np.isnan(yy), np.inf, yy), axis=1)
    hi = np.argmax(np.where(np.isnan(yy), -np.inf, yy), axis=1)
    lo[empty] = 0
    hi[empty] = 0
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    rows = np.arange(buckets)
    t_out = np.column_stack([ty[rows, first], ty[rows, second]]).ravel()
    y_out = np.column_stack([yy[rows, first], yy[rows, second]]).ravel()
    # One point where the lowest and highest are the same (a flat or empty bucket).
    keep = np.column_stack([np.ones(buckets, dtype=bool), second != first]).ravel()
    keep &= ~np.isnan(t_out)
    return t_out[keep], y_out[keep]


def break_gaps(t: np.ndarray, y: np.ndarray, max_gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """A NaN between points more than ``max_gap_s`` apart, so the line shows the gap."""
    if t.size < 2:
        return t, y
    gaps = np.flatnonzero(np.diff(t) > max_gap_s) + 1
    if gaps.size == 0:
        return t, y
    return (np.insert(t, gaps, (t[gaps - 1] + t[gaps]) / 2),
            np.insert(y, gaps, np.nan))
