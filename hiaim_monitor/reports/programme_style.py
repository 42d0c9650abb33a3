"""What the programme report's pages share: one colour per calendar cell, the missed
reasons' numbers, a participant's row of the calendar, the RPE axis and "n of N"."""

from __future__ import annotations

from typing import Final

from matplotlib.axes import Axes

from hiaim_monitor.display import CLASS_COLOUR
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import RPE_MAX, RPE_MIN, MissedReason, ParticipantProgramme
from hiaim_monitor.reports.programme_data import Cell, ProgrammeReport, cell_of

# Okabe & Ito's colour-blind-safe palette (as display.CLASS_COLOUR), one colour per cell.
CELL_COLOUR: Final = {
    Cell.ATTENDED: "#009E73",  # bluish green
    Cell.MISSED: "#D55E00",  # vermilion
    Cell.CANCELLED: "#999999",
    Cell.NOT_RECORDED: "#FFFFFF",
    Cell.AFTER_WITHDRAWAL: "#404040",
    Cell.NOT_PLANNED: "#F0F0F0",
}
CELLS: Final = tuple(CELL_COLOUR)
REASON_NUMBER: Final = {reason: n for n, reason in enumerate(MissedReason, start=1)}
WORK_COLOUR: Final = CLASS_COLOUR[Level.HIGH]
ATTEND_COLOUR: Final = CELL_COLOUR[Cell.ATTENDED]
RPE_COLOUR: Final = "#0072B2"  # Okabe & Ito blue


def of(n: int, total: int) -> str:
    """"16 of 18"."""
    return tr("{n} of {of}").format(n=n, of=total)


def rpe_axis(ax: Axes) -> None:
    ax.set_ylim(RPE_MIN, RPE_MAX)
    ax.set_yticks(range(RPE_MIN, RPE_MAX + 1, 2))
    ax.set_ylabel(tr("Borg RPE"))
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)


def cells_of(report: ProgrammeReport, p: ParticipantProgramme
             ) -> tuple[list[int], dict[int, str]]:
    """The participant's row of calendar cells (indexes into CELLS) by session number, and
    the mark drawn in a cell (missed reason number, "!" for missing data)."""
    row = [CELLS.index(Cell.NOT_PLANNED)] * report.slots
    marks: dict[int, str] = {}
    for r in p.sessions:
        n = r.planned.number
        if not 1 <= n <= report.slots:
            continue
        cell = cell_of(p, r)
        row[n - 1] = CELLS.index(cell)
        if cell is Cell.MISSED:
            marks[n] = str(REASON_NUMBER[r.missed_reason or MissedReason.UNKNOWN])
    for m in report.missing_for(p.study_code):
        marks[m.session_number] = "!"
    return row, marks
