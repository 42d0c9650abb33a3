"""A participant's page of the programme report: their row of the attendance calendar,
attendance and work-interval compliance by week, session RPE, dose per session, and the
numbers, dose modifications, early terminations, adverse events and missing data.

Every participant's page has the same axes, ticks and labels, so the page is built once and
each participant's values are put into it before it is saved: building the axes and their
ticks is most of what a matplotlib page costs, and a whole programme has dozens of pages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import Attendance, MissedReason, ParticipantProgramme, Phase
from hiaim_monitor.reports.common import number, pct
from hiaim_monitor.reports.pages import (
    SMALL_PT,
    TextBlock,
    attendance_word,
    dose_word,
    missed_reason_word,
    page,
    related_word,
)
from hiaim_monitor.reports.programme_data import ProgrammeReport
from hiaim_monitor.reports.programme_pdf import calendar, calendar_marks, weekly_bars
from hiaim_monitor.reports.programme_style import RPE_COLOUR, WORK_COLOUR, cells_of, of, rpe_axis


class ParticipantPages:
    """``pages(p)``: the page of participant ``p`` (the same Figure each time, refilled)."""

    def __init__(self, report: ProgrammeReport) -> None:
        self.report = report
        first = report.people[0]
        fig = self.fig = page(" ", " ")
        self.title, self.subtitle = fig.texts[0], fig.texts[1]
        grid = fig.add_gridspec(3, 3, left=0.08, right=0.98, top=0.8, bottom=0.06,
                                height_ratios=[0.22, 1, 1], width_ratios=[1, 1, 0.95],
                                hspace=0.5, wspace=0.25)
        self.cal = fig.add_subplot(grid[0, :])
        self.mesh, self.marks = calendar(self.cal, report, [first])  # refilled below
        self.cal.set_yticks([])
        self.cal.set_title(tr("Attendance by session"), loc="left", pad=18)
        weeks = [{"week": w, "attendance": 0.0, "work_compliance": 0.0}
                 for w in range(1, report.info.weeks + 1)]
        self.weekly = weekly_bars(fig.add_subplot(grid[1, 0]), weeks,
                                  tr("Attendance and compliance by week"))
        slots = np.arange(1, report.slots + 1)
        ticks = range(1, report.slots + 1, max(1, report.slots // 9))
        rpe = self.rpe_ax = fig.add_subplot(grid[1, 1])
        (self.rpe_line,) = rpe.plot([], [], "o-", color=RPE_COLOUR)
        rpe_axis(rpe)
        rpe.set_xlim(0.5, report.slots + 0.5)
        rpe.set_xticks(ticks)
        rpe.set_xlabel(tr("session"))
        self.no_rpe = rpe.text(0.5, 0.5, tr("no RPE recorded"), transform=rpe.transAxes,
                               ha="center")
        dose = self.dose_ax = fig.add_subplot(grid[2, 0:2])
        self.planned = dose.bar(slots, np.zeros(slots.size), 0.8, color="white",
                                edgecolor="#666666", linewidth=0.6, label=tr("planned work"))
        self.done = dose.bar(slots, np.zeros(slots.size), 0.8, color=WORK_COLOUR,
                             label=tr("at or above target"))
        dose.set_xlim(0.5, report.slots + 0.5)
        dose.set_xticks(ticks)
        dose.set_xlabel(tr("session"))
        dose.set_ylabel(tr("minutes"))
        dose.legend(loc="upper right", frameon=True, framealpha=0.9, ncols=2)
        self.text = TextBlock(fig.add_subplot(grid[1:, 2]), font_pt=SMALL_PT, width_chars=50)

    def __call__(self, p: ParticipantProgramme) -> Figure:
        report, s = self.report, metrics.participant_summary(p)
        self.title.set_text(tr("{code}: programme report").format(code=p.study_code))
        self.subtitle.set_text(_subtitle(report, p, s))

        row, marks = cells_of(report, p)
        self.mesh.set_array(np.array([row]))
        for text in self.marks:
            text.remove()
        self.marks = calendar_marks(self.cal, [row], [marks])

        by_week = {w["week"]: w for w in metrics.weekly(p)}
        for n, (a, w) in enumerate(zip(*self.weekly, strict=True), start=1):
            week = by_week.get(n, {})
            a.set_height(100 * (week.get("attendance") or 0.0))
            w.set_height(100 * (week.get("work_compliance") or 0.0))

        rpe = metrics.rpe_by_session(p)
        self.rpe_line.set_data(list(rpe), list(rpe.values()))
        self.no_rpe.set_visible(not rpe)
        self.rpe_ax.set_title(tr("Session RPE: mean {mean}").format(
            mean=number(s["mean_rpe"], 1)), loc="left")

        planned, done = np.zeros(report.slots), np.zeros(report.slots)
        for r in p.sessions:
            n = r.planned.number
            if r.status in (Attendance.CANCELLED, None) or not 1 <= n <= report.slots:
                continue
            planned[n - 1] = r.planned.planned_work_s / 60
            if r.attended:
                done[n - 1] = sum(min(i.time_in_target_s, i.planned_s) for i in r.intervals
                                  if i.phase is Phase.WORK) / 60
        for bar, value in zip(self.planned, planned, strict=True):
            bar.set_height(value)
        for bar, value in zip(self.done, done, strict=True):
            bar.set_height(value)
        self.dose_ax.set_ylim(0, max(1.0, float(planned.max()), float(done.max())) * 1.3)
        self.dose_ax.set_title(tr("Dose per session: RDI {rdi}").format(
            rdi=pct(s["relative_dose_intensity"])), loc="left")

        self.text.show(_lines(report, p, s))
        return self.fig


def _subtitle(report: ProgrammeReport, p: ParticipantProgramme, s: dict[str, Any]) -> str:
    e = report.enrolments.get(p.study_code)
    sub = [tr("programme {name}").format(name=report.info.name)]
    if p.enrolled_on is not None:
        sub.append(tr("enrolled {day}").format(day=p.enrolled_on.isoformat()))
    if p.withdrawal is not None:
        sub.append(tr("withdrawn {day} (week {week}): {reason}").format(
            day=p.withdrawal.date.isoformat(), week=s["discontinuation_week"],
            reason=p.withdrawal.reason or (e.withdrawal_reason if e else "")))
    return " · ".join(sub)


def _lines(report: ProgrammeReport, p: ParticipantProgramme, s: dict[str, Any]) -> list[str]:
    reasons = ", ".join(f"{missed_reason_word(MissedReason(k))} {n}"
                        for k, n in s["missed_by_reason"].items() if n)
    lines = [f"# {tr('Summary')}",
             tr("Attended {attended} planned sessions ({share}); cancelled by the site "
                "{cancelled}").format(attended=of(s["attended_sessions"],
                                                  s["planned_sessions"]),
                                      share=pct(s["attendance"]),
                                      cancelled=s["cancelled_sessions"]),
             tr("Missed: {n}").format(n=s["missed_sessions"])
             + (f" ({reasons})" if reasons else "")
             + (tr("; after the withdrawal {n}").format(n=s["missed_after_withdrawal"])
                if s["missed_after_withdrawal"] else ""),
             tr("Interruptions: {runs}").format(runs=", ".join(
                 tr("sessions {first}–{last}").format(first=r.first_number, last=r.last_number)
                 for r in metrics.interruptions(p)) or "0"),
             tr("Work intervals achieved: {achieved} ({share})").format(
                 achieved=of(s["work_intervals_achieved"], s["work_intervals_prescribed"]),
                 share=pct(s["work_compliance"])),
             tr("Dose: {done} of {planned} planned minutes at or above target").format(
                 done=number(s["completed_dose_min"], 0),
                 planned=number(s["planned_dose_min"], 0))]
    for r in p.sessions:
        if r.attended and r.dose_modification is not None:
            lines.append(tr("Session {n}: {what}").format(
                n=r.planned.number, what=dose_word(r.dose_modification))
                + (f" ({r.dose_note})" if r.dose_note else ""))
        if r.attended and r.early_termination is not None:
            lines.append(tr("Session {n}: stopped early: {reason}").format(
                n=r.planned.number, reason=r.early_termination))
    lines.append(f"# {tr('Adverse events')}")
    lines += [tr("Session {n}: grade {grade}, {related}: {what}").format(
        n=r.planned.number, grade=a.grade, related=related_word(a.related), what=a.what)
        + (f" ({tr('action')}: {a.action})" if a.action else "")
        for r in p.sessions for a in r.adverse_events] or [tr("None recorded.")]
    missing = report.missing_for(p.study_code)
    if missing:
        lines.append(f"# {tr('Missing data')}")
        lines += [m.text() for m in missing]
    not_yet = sum(1 for r in p.sessions if r.status is None)
    if not_yet:
        lines.append(tr("{n} planned sessions have no attendance recorded yet ({word}).")
                     .format(n=not_yet, word=attendance_word(None)))
    return lines
