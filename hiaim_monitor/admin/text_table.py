"""Plain aligned text tables for the admin commands: readable in a terminal, in a log and
in a pipe to grep, with no cell ever shortened (a study code must never be cut off)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Final

MISSING: Final = "-"
GAP: Final = "  "


def cell(value: object) -> str:
    """One value as table text: missing as '-', floats without needless decimals, times in
    UTC to the second."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return " ".join(str(value).split())  # a newline in a note must not break the row


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns padded to their widest cell; numbers right-aligned, text left-aligned."""
    raw = [list(row) for row in rows]
    text = [[cell(v) for v in row] for row in raw]
    numeric = [_is_numeric([row[i] for row in raw]) for i in range(len(headers))]
    widths = [max([len(h)] + [len(row[i]) for row in text]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if num else c.ljust(w)
                  for c, w, num in zip(cells, widths, numeric, strict=True)]
        return GAP.join(padded).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in text]
    return "\n".join(out)


def _is_numeric(column: list[object]) -> bool:
    values = [v for v in column if v is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                for v in values)


def render_fields(pairs: Sequence[tuple[str, object]]) -> str:
    """``label: value`` lines with the values aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    return "\n".join(f"{(label + ':').ljust(width + 1)} {cell(value)}" for label, value in pairs)
