"""The session report as PDF pages: a group page (who took part, intervals achieved, time in
target in work and in recovery, RPE, alarms and adverse events), then one page per
participant with the heart-rate trace over the phases and their target bands."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from hiaim_monitor.display import (
    CLASS_COLOUR,
    NO_VALUE,
    block_result_text,
    bout_peaks_text,
    mmss,
)
from hiaim_monitor.engine.adherence import target_of
from hiaim_monitor.engine.blocks import shown_peak_pct
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import PhaseKind
from hiaim_monitor.reports.common import minutes, number, pct
from hiaim_monitor.reports.pages import (
    SMALL_PT,
    TextBlock,
    chunks,
    dose_word,
    hrmax_method_word,
    page,
    pdf_pages,
    related_word,
    status_word,
    table,
    text_block,
)
from hiaim_monitor.reports.session_data import IntervalLine, ParticipantReport, SessionReport

ROWS_PER_GROUP_PAGE: Final = 14
BAND_COLOUR: Final = {PhaseKind.INTERMEDIATE: CLASS_COLOUR[Level.INTERMEDIATE],
                      PhaseKind.HIGH: CLASS_COLOUR[Level.HIGH]}
EASY_COLOUR: Final = CLASS_COLOUR[Level.BELOW]  # warm-up, recovery and cool-down bands
HR_COLOUR: Final = "#000000"
ALARM_COLOUR: Final = "#CC0000"
NOTE_COLOUR: Final = "#0072B2"  # Okabe & Ito blue


def render_session_pdf(report: SessionReport, path: Path) -> None:
    s = report.session
    title = tr("Session report: session {id}").format(id=s.session_id)
    with pdf_pages(path, title) as pdf:
        people = list(report.people)
        pieces = chunks(people, ROWS_PER_GROUP_PAGE)
        for n, piece in enumerate(pieces):
            fig = _group_page(report, list(piece), first=n == 0, page_no=n + 1,
                              pages=len(pieces))
            pdf.savefig(fig)
        if people:
            page_of = ParticipantPages(report)
            for p in people:
                pdf.savefig(page_of(p))


def heading(report: SessionReport) -> str:
    s = report.session
    parts = [s.protocol.display_name,
             tr("started {when} UTC").format(when=f"{s.started_utc:%Y-%m-%d %H:%M}"),
             tr("{duration} min").format(duration=mmss(s.end_s)), s.site,
             tr("status: {status}").format(status=status_word(s.status.value))]
    if s.simulated:
        parts.append(tr("simulated participants"))
    return " · ".join(p for p in parts if p)


def _rpe_text(p: ParticipantReport) -> str:
    text = str(p.rpe_session) if p.rpe_session is not None else NO_VALUE
    if p.rpe_by_phase:
        text += " (" + ", ".join(str(b) for _i, b in p.rpe_by_phase) + ")"
    return text


def _group_page(report: SessionReport, people: list[ParticipantReport], *, first: bool,
                page_no: int, pages: int) -> Figure:
    s = report.session
    fig = page(tr("Session {id}: the group").format(id=s.session_id), heading(report),
               tr("page {n} of {of} of the group").format(n=page_no, of=pages)
               if pages > 1 else "")
    header = [tr("Study code"), tr("HRmax\n(bpm)"), tr("Intervals\nachieved"),
              tr("Work: time in target\nof prescribed"),
              tr("Recovery: time in\nband of ran"), tr("Peak\n% HRmax"),
              tr("Mean\nbpm"), tr("RPE\n(after blocks)"), tr("Alarms"),
              tr("Adverse\nevents")]
    rows = []
    for p in people:
        alarms = sum(1 for e in p.events if e.kind == "alarm-raised")
        grades = ", ".join(f"G{e.grade}" for e in p.adverse_events) or (
            "0" if p.programme else NO_VALUE)
        rows.append([
            p.study_code, f"{p.hrmax_bpm:.0f}", f"{p.achieved} / {len(p.intervals)}",
            f"{minutes(p.work_in_target_s)} / {minutes(p.work_planned_s)}"
            f" ({pct(p.work_in_target_s / p.work_planned_s if p.work_planned_s else None)})",
            f"{minutes(p.recovery_in_band_s)} / {minutes(p.recovery_s)}",
            number(p.peak_pct, 0), number(p.mean_bpm, 0), _rpe_text(p), str(alarms), grades])
    top = 0.88
    height = 0.04 * (len(rows) + 2)
    ax = fig.add_axes((0.04, top - height, 0.92, height))
    table(ax, header, rows, widths=[0.1, 0.07, 0.09, 0.17, 0.14, 0.08, 0.07, 0.12, 0.06, 0.1],
          row_h=1.0 / (len(rows) + 2))
    if not first:
        return fig
    bottom_top = top - height - 0.06
    chart = fig.add_axes((0.07, 0.1, 0.5, max(0.15, bottom_top - 0.12)))
    _time_in_target_chart(chart, list(report.people))
    notes = fig.add_axes((0.62, 0.1, 0.34, max(0.15, bottom_top - 0.1)))
    lines = [f"# {tr('Session events')}"]
    lines += [f"{mmss(e.t_s)}  {e.kind}: {e.text}" for e in report.events] or [
        tr("No operator actions, gaps or storage trouble.")]
    lines.append(f"# {tr('How to read this')}")
    lines.append(tr("Work: time at or above the work target in prescribed work phases. "
                    "Recovery: time with heart rate within the recovery band. An interval is "
                    "achieved as the engine judged it during the session."))
    if s.protocol.blocks:
        lines.append(tr("A block of short bouts is one interval, judged as a whole: its peak "
                        "% HRmax and its time at or above target, pauses included (heart rate "
                        "lags a 20 s effort and never settles within it)."))
    text_block(notes, lines, font_pt=SMALL_PT, width_chars=62)
    return fig


def _time_in_target_chart(ax, people: list[ParticipantReport]) -> None:
    codes = [p.study_code for p in people]
    work = [100 * p.work_in_target_s / p.work_planned_s if p.work_planned_s else 0.0
            for p in people]
    rec = [100 * p.recovery_in_band_s / p.recovery_s if p.recovery_s else 0.0 for p in people]
    y = np.arange(len(people))
    h = 0.38
    ax.barh(y - h / 2, work, h, color=CLASS_COLOUR[Level.HIGH], label=tr("work: in target"))
    ax.barh(y + h / 2, rec, h, color=EASY_COLOUR, label=tr("recovery: in band"))
    ax.set_yticks(y, codes, fontsize=SMALL_PT if len(people) < 25 else 5)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(tr("% of the prescribed time"))
    ax.set_title(tr("Time in target"), loc="left")
    ax.legend(loc="lower right", frameon=False)
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)


class ParticipantPages:
    """``pages(p)``: participant ``p``'s page. Every participant of a session has the same
    phases, bands and table rows, so the page is built once and refilled for each: building
    axes, ticks and table cells is most of what a matplotlib page costs."""

    def __init__(self, report: SessionReport) -> None:
        self.report = report
        s = report.session
        fig = self.fig = page(" ", " ")
        self.title, self.subtitle = fig.texts[0], fig.texts[1]
        grid = fig.add_gridspec(2, 2, left=0.06, right=0.93, top=0.83, bottom=0.04,
                                height_ratios=[1.25, 1], hspace=0.42, wspace=0.08,
                                width_ratios=[1.1, 1])
        ax = self.ax = fig.add_subplot(grid[0, :])
        ceiling = s.protocol.thresholds.ceiling_pct
        for span in report.spans:
            phase = s.protocol.phases[span.index]
            x0, x1 = span.start_s / 60, span.end_s / 60
            work = target_of(phase) is not None
            colour = BAND_COLOUR.get(phase.kind, EASY_COLOUR)
            low, high = phase.target_min_pct, phase.target_max_pct
            block = s.protocol.block_of(span.index)
            if block is not None:
                # A block is judged as a whole, pauses included: its target band runs on
                # through them (lighter there), and only its start gets a line.
                colour, low, high = BAND_COLOUR[block.kind], block.target_min_pct, \
                    block.target_max_pct
            # The phase itself: a light column; its target band: the same colour, stronger.
            ax.axvspan(x0, x1, color=colour, alpha=0.10 if work else 0.05, linewidth=0)
            band_top = high if high is not None else ceiling
            ax.fill_between([x0, x1], low, band_top, color=colour,
                            alpha=0.45 if work else 0.25, linewidth=0)
            if block is None or span.index == block.first_phase:
                ax.axvline(x0, color="#999999", linewidth=0.3)
        (self.line,) = ax.plot([], [], color=HR_COLOUR, linewidth=0.8)
        ax.axhline(100, color=ALARM_COLOUR, linestyle="--", linewidth=0.8)
        self.hrmax_label = ax.text(0.002, 100.5, "", transform=ax.get_yaxis_transform(),
                                   fontsize=SMALL_PT, color=ALARM_COLOUR, va="bottom")
        if ceiling != 100:
            ax.axhline(ceiling, color=ALARM_COLOUR, linestyle=":", linewidth=0.8)
        (self.alarms,) = ax.plot([], [], "v", color=ALARM_COLOUR, markersize=5,
                                 label=tr("alarm"))
        (self.notes,) = ax.plot([], [], "d", color=NOTE_COLOUR, markersize=4, label=tr("note"))
        ax.set_xlim(0, max(s.end_s, 60.0) / 60)
        ax.set_xlabel(tr("minutes into the session"))
        ax.set_ylabel(tr("% HRmax"))
        ax.set_title(tr("Heart rate over the session, with the phases and their target "
                        "bands"), loc="left")
        handles = [Patch(color=BAND_COLOUR[PhaseKind.INTERMEDIATE], alpha=0.6,
                         label=tr("intermediate target")),
                   Patch(color=BAND_COLOUR[PhaseKind.HIGH], alpha=0.6,
                         label=tr("high target")),
                   Patch(color=EASY_COLOUR, alpha=0.4,
                         label=tr("warm-up, recovery, cool-down band")),
                   self.alarms, self.notes]
        ax.legend(handles=handles, loc="upper right", ncols=len(handles), frameon=False,
                  bbox_to_anchor=(1.0, -0.11))
        self.right: Any = None
        rows = [[str(n), i.name, minutes(i.planned_s), "", "", "", ""]
                for n, i in enumerate(report.people[0].intervals, start=1)]
        self.table = table(fig.add_subplot(grid[1, 0]), [
            tr("#"), tr("Work interval"), tr("Planned"), tr("Ran"), tr("In target"),
            tr("Peak %"), tr("Achieved")], rows,
            widths=[0.05, 0.33, 0.11, 0.11, 0.12, 0.1, 0.12],
            row_h=min(0.09, 1.0 / (len(rows) + 1.5)))
        self.text = TextBlock(fig.add_subplot(grid[1, 1]), font_pt=SMALL_PT, width_chars=70)

    def __call__(self, p: ParticipantReport) -> Figure:
        s = self.report.session
        sub = [tr("HRmax {bpm} bpm ({method})").format(
            bpm=f"{p.hrmax_bpm:.0f}", method=hrmax_method_word(p.hrmax_method))]
        if p.beta_blocker:
            sub.append(tr("takes beta blockers: heart-rate targets may not apply"))
        if p.programme is not None:
            sub.append(tr("programme {name}, week {week} session {number}").format(
                name=p.programme[0], week=p.programme[1], number=p.programme[2]))
        self.title.set_text(tr("{code}: session {id}").format(code=p.study_code,
                                                             id=s.session_id))
        self.subtitle.set_text(heading(self.report) + "\n" + " · ".join(sub))

        finite = p.trace_pct[np.isfinite(p.trace_pct)]
        top = max(110.0, float(finite.max()) + 5 if finite.size else 110.0)
        bottom = min(40.0, float(finite.min()) - 5 if finite.size else 40.0)
        self.ax.set_ylim(bottom, top)
        self.line.set_data(p.trace_t_s / 60, p.trace_pct)
        self.hrmax_label.set_text(tr("HRmax ({bpm} bpm)").format(bpm=f"{p.hrmax_bpm:.0f}"))
        alarms = [e.t_s / 60 for e in p.events if e.kind == "alarm-raised"]
        notes = [e.t_s / 60 for e in p.events if e.kind != "alarm-raised"]
        self.alarms.set_data(alarms, [top - 2] * len(alarms))
        self.notes.set_data(notes, [top - 2] * len(notes))
        if self.right is not None:  # the bpm axis follows this participant's HRmax
            self.right.remove()
        hrmax = p.hrmax_bpm
        self.right = self.ax.secondary_yaxis("right", functions=(
            lambda v: v * hrmax / 100, lambda b: b * 100 / hrmax))
        self.right.set_ylabel(tr("bpm"))

        cells = self.table.get_celld()
        for n, i in enumerate(p.intervals, start=1):
            mark = NO_VALUE if i.achieved is None else ("✓" if i.achieved else "✗")
            for col, text in enumerate([str(n), i.name, minutes(i.planned_s),
                                        minutes(i.ran_s), minutes(i.seconds_in_target),
                                        _peak_cell(i), mark]):
                if (n, col) in cells:
                    cells[n, col].get_text().set_text(text)
        self.text.show(_participant_lines(p))
        return self.fig


def _peak_cell(i: IntervalLine) -> str:
    # A block is judged on its peak: rounded down, as its line says it, so 84.6 % is no 85.
    if i.block_index is None or i.peak_pct is None:
        return number(i.peak_pct, 0)
    return str(shown_peak_pct(i.peak_pct))


def _participant_lines(p: ParticipantReport) -> list[str]:
    lines = [f"# {tr('Summary')}",
             tr("Intervals achieved: {n} of {of}").format(n=p.achieved, of=len(p.intervals))]
    for i in p.intervals:  # a block of short bouts, judged as a whole, on one line
        if i.block_index is not None:
            lines.append(block_result_text(i.name, i.peak_pct, i.seconds_in_target,
                                           i.target_pct, i.outcome))
            if i.bout_peaks_pct:
                lines.append(tr("bout peaks: {peaks}").format(
                    peaks=bout_peaks_text(i.bout_peaks_pct)))
    lines += [tr("Work: {in_target} of {planned} in target ({share})").format(
                 in_target=minutes(p.work_in_target_s), planned=minutes(p.work_planned_s),
                 share=pct(p.work_in_target_s / p.work_planned_s if p.work_planned_s
                           else None)),
              tr("Recovery: {in_band} of {ran} within the band").format(
                 in_band=minutes(p.recovery_in_band_s), ran=minutes(p.recovery_s)),
              tr("Peak {peak} % HRmax; mean {mean} bpm").format(
                 peak=number(p.peak_pct, 0), mean=number(p.mean_bpm, 0))]
    if p.samples == 0:
        lines.append(tr("No heart rate was recorded for this participant."))
    if p.programme is not None:
        lines.append(tr("RPE (Borg 6–20) at the end: {rpe}").format(
            rpe=p.rpe_session if p.rpe_session is not None else NO_VALUE))
        if p.rpe_by_phase:
            lines.append(tr("RPE after blocks: {ratings}").format(ratings=", ".join(
                tr("phase {index}: {borg}").format(index=i, borg=b) for i, b in p.rpe_by_phase)))
        if p.dose_modification:
            lines.append(tr("Dose modification: {what}").format(
                what=dose_word(p.dose_modification)))
        if p.early_termination:
            lines.append(tr("Stopped early: {reason}").format(reason=p.early_termination))
        lines.append(f"# {tr('Adverse events')}")
        lines += [tr("Grade {grade}, {related}: {what}").format(
            grade=e.grade, related=related_word(e.related), what=e.description)
            + (f" ({tr('action')}: {e.action})" if e.action else "")
            for e in p.adverse_events] or [tr("None recorded.")]
    else:
        lines.append(tr("Not linked to a programme session: no RPE or adverse events."))
    lines.append(f"# {tr('Events')}")
    lines += [f"{mmss(e.t_s)}  {e.text or e.kind}" for e in p.events] or [tr("No alarms or "
                                                                             "notes.")]
    return lines
