"""The session report's figures and tables as CSV (header row, RFC 4180 quoting, LF line
ends, UTF-8, empty cell = missing, yes/no as 1/0). ``--out STEM`` writes, beside each other:

- ``STEM_participants.csv``: the group page, one row per participant.
- ``STEM_intervals.csv``: one row per participant and prescribed interval (a work phase, or
  a block of short bouts as a whole: its target_pct, time at or above it over the block in
  seconds_in_target, and its bout peaks, a JSON list).
- ``STEM_phases.csv``: the phases as they ran and their target bands (% HRmax).
- ``STEM_trace.csv``: the plotted heart-rate trace per participant (decimated to at most
  2000 points, lowest and highest per bucket; ``export --format csv`` has every sample).
- ``STEM_events.csv``: alarms and notes per participant, operator actions and gaps.
- ``STEM_adverse_events.csv``: the adverse events recorded for this session.
"""

from __future__ import annotations

import json
from pathlib import Path

from hiaim_monitor.reports.common import OutputFiles, cell
from hiaim_monitor.reports.session_data import SessionReport


def write_session_tables(report: SessionReport, stem: Path, files: OutputFiles) -> None:
    sid = report.session.session_id
    protocol = report.session.protocol

    def at(name: str) -> Path:
        return stem.with_name(f"{stem.name}_{name}.csv")

    with files.csv_writer(at("participants"), (
            "session_id", "study_code", "hrmax_bpm", "intervals_achieved",
            "intervals_prescribed", "work_seconds_in_target", "work_seconds_planned",
            "recovery_seconds_in_band", "recovery_seconds", "peak_pct_hrmax", "mean_bpm",
            "samples", "alarms", "programme", "week", "number", "rpe_session",
            "rpe_after_phases", "dose_modification", "early_termination",
            "adverse_events")) as out:
        for p in report.people:
            prog = p.programme
            out.writerow([
                sid, p.study_code, cell(p.hrmax_bpm, 0), p.achieved, len(p.intervals),
                cell(p.work_in_target_s, 1), cell(p.work_planned_s, 1),
                cell(p.recovery_in_band_s, 1), cell(p.recovery_s, 1), cell(p.peak_pct, 1),
                cell(p.mean_bpm, 1), p.samples,
                sum(1 for e in p.events if e.kind == "alarm-raised"),
                prog[0] if prog else "", prog[1] if prog else "", prog[2] if prog else "",
                "" if p.rpe_session is None else p.rpe_session,
                ";".join(f"{i}:{b}" for i, b in p.rpe_by_phase),
                p.dose_modification or "", p.early_termination or "",
                len(p.adverse_events) if prog else ""])
    with files.csv_writer(at("intervals"), (
            "session_id", "study_code", "phase_index", "phase_name", "kind", "planned_s",
            "ran_s", "seconds_in_target", "peak_pct_hrmax", "achieved", "block_index",
            "target_pct", "bout_peaks_pct")) as out:
        for p in report.people:
            for i in p.intervals:
                block = i.block_index is not None
                out.writerow([sid, p.study_code, i.phase_index, i.name, i.kind.value,
                              cell(i.planned_s, 1), cell(i.ran_s, 1),
                              cell(i.seconds_in_target, 1), cell(i.peak_pct, 1),
                              "" if i.achieved is None else int(i.achieved),
                              i.block_index if block else "", cell(i.target_pct, 1),
                              json.dumps([None if b is None else round(b, 2)
                                          for b in i.bout_peaks_pct]) if block else ""])
    with files.csv_writer(at("phases"), (
            "session_id", "phase_index", "phase_name", "kind", "start_s", "end_s",
            "target_min_pct", "target_max_pct")) as out:
        for span in report.spans:
            phase = protocol.phases[span.index]
            out.writerow([sid, span.index, phase.display_name, span.kind.value,
                          cell(span.start_s, 3), cell(span.end_s, 3),
                          cell(phase.target_min_pct, 1), cell(phase.target_max_pct, 1)])
    with files.csv_writer(at("trace"), ("session_id", "study_code", "t_s", "pct_hrmax",
                                        "bpm")) as out:
        for p in report.people:
            for t_s, value in zip(p.trace_t_s.tolist(), p.trace_pct.tolist(), strict=True):
                out.writerow([sid, p.study_code, cell(t_s, 3), cell(value, 2),
                              cell(value * p.hrmax_bpm / 100, 1)])
    with files.csv_writer(at("events"), ("session_id", "t_s", "study_code", "kind",
                                         "details")) as out:
        lines = [e for p in report.people for e in p.events] + list(report.events)
        for e in sorted(lines, key=lambda e: e.t_s):
            out.writerow([sid, cell(e.t_s, 3), e.study_code, e.kind, e.text])
    with files.csv_writer(at("adverse_events"), (
            "session_id", "study_code", "programme", "week", "number", "grade", "related",
            "description", "action")) as out:
        for p in report.people:
            for e in p.adverse_events:
                assert p.programme is not None
                out.writerow([sid, p.study_code, p.programme[0], e.week, e.number, e.grade,
                              e.related.value, e.description, e.action])
