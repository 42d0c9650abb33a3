"""The programme report as PDF pages: the CONSORT-style numbers of the group, compliance and
RPE over the weeks, the attendance calendar (participants × planned sessions), a table of
every participant, then one page per participant (their calendar row, weekly compliance,
RPE per session, dose per session and their adverse events). With one participant asked
for, only that participant's page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text

from hiaim_monitor.display import NO_VALUE
from hiaim_monitor.i18n import tr
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import (
    MissedReason,
    ParticipantProgramme,
)
from hiaim_monitor.reports.common import number, pct, spread
from hiaim_monitor.reports.pages import (
    SMALL_PT,
    chunks,
    missed_reason_word,
    page,
    pdf_pages,
    table,
    text_block,
)
from hiaim_monitor.reports.programme_data import Cell, ProgrammeReport, group_weeks
from hiaim_monitor.reports.programme_style import (
    ATTEND_COLOUR,
    CELL_COLOUR,
    CELLS,
    REASON_NUMBER,
    RPE_COLOUR,
    WORK_COLOUR,
    cells_of,
    of,
    rpe_axis,
)

ROWS_PER_CALENDAR_PAGE: Final = 27
ROWS_PER_TABLE_PAGE: Final = 24


def render_programme_pdf(report: ProgrammeReport, path: Path) -> None:
    from hiaim_monitor.reports.participant_page import ParticipantPages  # it imports us

    title = tr("Programme report: {name}").format(name=report.info.name)
    with pdf_pages(path, title) as pdf:
        if report.only is None:
            pdf.savefig(_numbers_page(report))
            pdf.savefig(_weeks_page(report))
            people = list(report.people)
            pieces = chunks(people, ROWS_PER_CALENDAR_PAGE)
            for n, piece in enumerate(pieces, start=1):
                pdf.savefig(_calendar_page(report, list(piece), n, len(pieces)))
            pieces = chunks(people, ROWS_PER_TABLE_PAGE)
            for n, piece in enumerate(pieces, start=1):
                pdf.savefig(_table_page(report, list(piece), n, len(pieces)))
        if report.people:
            page_of = ParticipantPages(report)
            for p in report.people:
                pdf.savefig(page_of(p))


def _subtitle(report: ProgrammeReport) -> str:
    i = report.info
    parts = [i.site, tr("from {start}, {weeks} weeks of {n} sessions").format(
        start=i.start_date.isoformat(), weeks=i.weeks, n=i.sessions_per_week),
        tr("made {when} UTC from the store").format(
            when=f"{datetime.now(UTC):%Y-%m-%d %H:%M}")]
    if i.simulated:
        parts.insert(0, tr("SIMULATED programme"))
    return " · ".join(p for p in parts if p)


def _numbers_page(report: ProgrammeReport) -> Figure:
    people = list(report.people)
    g = metrics.group_summary(people)
    rows = [metrics.participant_summary(p) for p in people]
    fig = page(tr("Programme {name}: the group").format(name=report.info.name),
               _subtitle(report))
    weeks = g["discontinuation_weeks"]
    cancelled = sum(r["cancelled_sessions"] for r in rows)
    by_reason = {reason: sum(r["missed_by_reason"][reason.value] for r in rows)
                 for reason in MissedReason}
    after = sum(r["missed_after_withdrawal"] for r in rows)
    prescribed = sum(r["work_intervals_prescribed"] for r in rows)
    achieved = sum(r["work_intervals_achieved"] for r in rows)
    grades = g["adverse_events_by_grade"]
    lines = [
        f"# {tr('Participants')}",
        tr("Enrolled: {n}").format(n=g["enrolled"]),
        tr("Withdrawn (permanent discontinuation): {n}").format(n=g["withdrawn"])
        + (" — " + tr("in week {weeks}").format(weeks=", ".join(map(str, weeks)))
           if weeks else ""),
        tr("With an interruption (≥ 3 consecutive sessions missed): {n}").format(
            n=g["with_interruption"]),
        f"# {tr('Attendance')}",
        tr("Sessions attended: {attended} (planned, less those the site cancelled)").format(
            attended=of(g["sessions_attended"], g["sessions_planned"])),
        tr("Attendance per participant: {spread}").format(
            spread=spread(g["attendance"], 100, 0, " %")),
        tr("Cancelled by the site: {n} sessions (left out of planned)").format(n=cancelled),
        tr("Missed: {reasons}").format(reasons=", ".join(
            f"{missed_reason_word(reason)} {n}" for reason, n in by_reason.items() if n)
            or "0") + (tr("; after a withdrawal {n}").format(n=after) if after else ""),
        f"# {tr('Dose and intensity')}",
        tr("Sessions with a dose modification: {n} ({people} participants)").format(
            n=g["sessions_dose_modified"], people=g["with_dose_modification"]),
        tr("Early terminations: {n} sessions ({people} participants)").format(
            n=g["sessions_terminated_early"], people=g["with_early_termination"]),
        tr("Work intervals achieved: {achieved} ({share})").format(
            achieved=of(achieved, prescribed),
            share=pct(achieved / prescribed if prescribed else None)),
        tr("Relative dose intensity: {spread}").format(
            spread=spread(g["relative_dose_intensity"], 100, 0, " %")),
        tr("Session RPE (Borg 6–20), participants' means: {spread}").format(
            spread=spread(g["mean_rpe"], 1, 1)),
        f"# {tr('Adverse events')}",
        tr("By grade: {grades}").format(grades=", ".join(
            f"G{grade} {n}" for grade, n in grades.items())),
    ]
    text_block(fig.add_axes((0.04, 0.08, 0.5, 0.8)), lines, width_chars=78)
    ax = fig.add_axes((0.62, 0.58, 0.33, 0.26))
    ax.bar([f"G{gr}" for gr in grades], list(grades.values()), color="#CC79A7")
    ax.set_title(tr("Adverse events by grade"), loc="left")
    ax.set_ylabel(tr("events"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    notes = fig.add_axes((0.6, 0.08, 0.36, 0.4))
    lines = [f"# {tr('Missing data')}"]
    lines += [m.text() for m in report.missing] or [
        tr("Every attended session has its recorded data.")]
    lines += [f"# {tr('Definitions')}",
              tr("Attendance = attended / planned, with site-cancelled sessions left out of "
                 "both; interruption = ≥ 3 consecutive missed (Nilsen 2018). RDI = minutes "
                 "at or above target in work intervals / planned work minutes.")]
    text_block(notes, lines, font_pt=SMALL_PT, width_chars=70)
    return fig


def _weeks_page(report: ProgrammeReport) -> Figure:
    fig = page(tr("Programme {name}: compliance and RPE over the weeks").format(
        name=report.info.name), _subtitle(report))
    weeks = group_weeks(report)
    grid = fig.add_gridspec(2, 2, left=0.07, right=0.96, top=0.84, bottom=0.07,
                            height_ratios=[1.4, 1], hspace=0.35, wspace=0.2)
    weekly_bars(fig.add_subplot(grid[0, 0]), weeks, tr("Attendance and work intervals "
                                                       "achieved, by week (group)"))
    ax = fig.add_subplot(grid[0, 1])
    x = [w["week"] for w in weeks]
    mean = [np.nan if w["mean_rpe"] is None else w["mean_rpe"] for w in weeks]
    low = [np.nan if w["rpe_low"] is None else w["rpe_low"] for w in weeks]
    high = [np.nan if w["rpe_high"] is None else w["rpe_high"] for w in weeks]
    ax.fill_between(x, low, high, color=RPE_COLOUR, alpha=0.2, linewidth=0,
                    label=tr("range of participants' means"))
    ax.plot(x, mean, "o-", color=RPE_COLOUR, label=tr("mean session RPE"))
    rpe_axis(ax)
    ax.set_xticks(x)
    ax.set_xlabel(tr("week"))
    ax.set_title(tr("Session RPE by week (group)"), loc="left")
    ax.legend(loc="lower right", frameon=False)
    rows = [[str(w["week"]), of(w["attended_sessions"], w["planned_sessions"]),
             pct(w["attendance"]),
             of(w["work_intervals_achieved"], w["work_intervals_prescribed"]),
             pct(w["work_compliance"]), number(w["mean_rpe"], 1)] for w in weeks]
    table(fig.add_subplot(grid[1, :]), [tr("Week"), tr("Sessions attended"),
                                        tr("Attendance"), tr("Work intervals achieved"),
                                        tr("Compliance"), tr("Mean RPE")], rows,
          row_h=min(0.12, 1.0 / (len(rows) + 1.5)))
    return fig


def weekly_bars(ax: Axes, weeks: list[dict[str, Any]], title: str
                ) -> tuple[BarContainer, BarContainer]:
    """Attendance and work-interval compliance (%) per week: the two sets of bars."""
    x = np.array([w["week"] for w in weeks], dtype=float)
    attend = [100 * (w["attendance"] or 0.0) for w in weeks]
    work = [100 * (w["work_compliance"] or 0.0) for w in weeks]
    bars = (ax.bar(x - 0.2, attend, 0.4, color=ATTEND_COLOUR, label=tr("attendance")),
            ax.bar(x + 0.2, work, 0.4, color=WORK_COLOUR, label=tr("work intervals achieved")))
    ax.set_ylim(0, 105)
    ax.set_xticks(x, [str(int(v)) for v in x])
    ax.set_xlabel(tr("week"))
    ax.set_ylabel("%")
    ax.set_title(title, loc="left")
    ax.legend(loc="lower right", frameon=True, framealpha=0.9)
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    ax.set_axisbelow(True)
    return bars


def calendar(ax: Axes, report: ProgrammeReport, people: list[ParticipantProgramme], *,
             font_pt: float = SMALL_PT) -> tuple[QuadMesh, list[Text]]:
    """The attendance calendar of ``people`` on ``ax``: its cells and their marks."""
    grid, marks = [], []
    for p in people:
        row, mark = cells_of(report, p)
        grid.append(row)
        marks.append(mark)
    cmap = ListedColormap([CELL_COLOUR[c] for c in CELLS])
    norm = BoundaryNorm(np.arange(len(CELLS) + 1) - 0.5, len(CELLS))
    mesh = ax.pcolormesh(np.arange(report.slots + 1) + 0.5, np.arange(len(people) + 1) - 0.5,
                         np.array(grid), cmap=cmap, norm=norm, edgecolors="#cccccc",
                         linewidth=0.4)
    texts = calendar_marks(ax, grid, marks, font_pt)
    per_week = report.info.sessions_per_week
    for w in range(1, report.info.weeks):
        ax.axvline(w * per_week + 0.5, color="black", linewidth=0.8)
    ax.set_xlim(0.5, report.slots + 0.5)
    ax.set_ylim(len(people) - 0.5, -0.5)
    ax.set_xticks(range(1, report.slots + 1))
    ax.tick_params(axis="x", labelsize=font_pt, top=True, labeltop=True, bottom=False,
                   labelbottom=False)
    ax.set_yticks(range(len(people)), [p.study_code for p in people], fontsize=font_pt)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return mesh, texts


def calendar_marks(ax: Axes, grid: list[list[int]], marks: list[dict[int, str]],
                   font_pt: float = SMALL_PT) -> list[Text]:
    """The marks in the cells (a missed reason's number, "!" for missing data)."""
    texts = []
    for y, mark in enumerate(marks):
        for n, text in mark.items():
            dark = grid[y][n - 1] in (CELLS.index(Cell.MISSED),
                                      CELLS.index(Cell.AFTER_WITHDRAWAL))
            texts.append(ax.text(n, y, text, ha="center", va="center", fontsize=font_pt,
                                 color="white" if dark else "black", fontweight="bold"))
    return texts


def _calendar_legend(fig: Figure, y: float) -> None:
    words = {Cell.ATTENDED: tr("attended"), Cell.MISSED: tr("missed (number: reason)"),
             Cell.CANCELLED: tr("cancelled by the site"),
             Cell.NOT_RECORDED: tr("not recorded yet"),
             Cell.AFTER_WITHDRAWAL: tr("after withdrawal"),
             Cell.NOT_PLANNED: tr("before enrolment")}
    handles = [Patch(facecolor=CELL_COLOUR[c], edgecolor="#999999", label=words[c])
               for c in CELLS]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.04, y), ncols=6,
               frameon=False, fontsize=SMALL_PT)
    reasons = "   ".join(f"{n} {missed_reason_word(r)}" for r, n in REASON_NUMBER.items())
    fig.text(0.045, y - 0.012, tr("Missed reasons: {reasons}.   ! the session's data are "
                                  "missing").format(reasons=reasons), fontsize=SMALL_PT,
             va="top")


def _calendar_page(report: ProgrammeReport, people: list[ParticipantProgramme], n: int,
                   total: int) -> Figure:
    fig = page(tr("Programme {name}: attendance calendar").format(name=report.info.name),
               _subtitle(report) + "\n" + tr("session number in the programme (columns); "
                                             "weeks separated by a black line"),
               tr("page {n} of {of} of the calendar").format(n=n, of=total) if total > 1
               else "")
    if not people:
        fig.text(0.04, 0.8, tr("No participants are enrolled yet."))
        return fig
    height = min(0.72, 0.03 * (len(people) + 1))
    ax = fig.add_axes((0.12, 0.84 - height, 0.84, height))
    calendar(ax, report, people)
    _calendar_legend(fig, 0.84 - height - 0.08)
    return fig


def _table_page(report: ProgrammeReport, people: list[ParticipantProgramme], n: int,
                total: int) -> Figure:
    fig = page(tr("Programme {name}: every participant").format(name=report.info.name),
               _subtitle(report),
               tr("page {n} of {of} of the table").format(n=n, of=total) if total > 1 else "")
    header = [tr("Study code"), tr("Attended"), tr("Attend-\nance"), tr("Inter-\nruptions"),
              tr("Withdrawn\n(week)"), tr("Dose\nmodified"), tr("Ended\nearly"),
              tr("Work intervals\nachieved"), tr("RDI"), tr("Mean\nRPE"),
              tr("Adverse events\nby grade"), tr("Sessions with\nmissing data")]
    rows = []
    for p in people:
        s = metrics.participant_summary(p)
        grades = ", ".join(f"G{g}:{k}" for g, k in s["adverse_events_by_grade"].items() if k)
        rows.append([
            p.study_code, of(s["attended_sessions"], s["planned_sessions"]),
            pct(s["attendance"]), str(s["interruptions"]),
            str(s["discontinuation_week"]) if s["withdrawn"] else NO_VALUE,
            str(s["dose_modified_sessions"]), str(s["early_terminations"]),
            f"{s['work_intervals_achieved']} / {s['work_intervals_prescribed']}",
            pct(s["relative_dose_intensity"]), number(s["mean_rpe"], 1), grades or "0",
            str(len(report.missing_for(p.study_code)))])
    height = min(0.8, 0.032 * (len(rows) + 2))
    table(fig.add_axes((0.04, 0.86 - height, 0.92, height)), header, rows,
          widths=[0.1, 0.08, 0.07, 0.07, 0.08, 0.07, 0.06, 0.11, 0.06, 0.06, 0.13, 0.11],
          row_h=1.0 / (len(rows) + 2))
    return fig
