"""The programme report's figures and tables as CSV (header row, RFC 4180 quoting, LF line
ends, UTF-8, empty cell = missing, yes/no as 1/0, fractions as 0–1). ``--out STEM``
writes, beside each other:

- ``STEM_group.csv``: the CONSORT-style numbers, one ``measure,value`` row each (not
  written with ``--participant``).
- ``STEM_participants.csv``: one row per participant (``metrics.participant_summary``).
- ``STEM_calendar.csv``: one row per participant and planned session: its calendar cell
  (attended, missed, cancelled, not_recorded, after_withdrawal), reason, linked session,
  whether its data are there, RPE, dose and work intervals.
- ``STEM_weekly.csv``: per week, for the group (study_code empty; not with
  ``--participant``) and for each participant.
- ``STEM_adverse_events.csv``: every adverse event.
- ``STEM_missing.csv``: the sessions whose data are missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import MissedReason, Phase
from hiaim_monitor.reports.common import OutputFiles, cell
from hiaim_monitor.reports.programme_data import ProgrammeReport, cell_of, group_weeks

PARTICIPANT_COLUMNS = (
    "study_code", "planned_sessions", "attended_sessions", "cancelled_sessions",
    "missed_sessions", *(f"missed_{r.value}" for r in MissedReason), "missed_after_withdrawal",
    "attendance", "interruptions", "withdrawn", "discontinuation_week",
    "dose_modified_sessions", "early_terminations", "work_intervals_prescribed",
    "work_intervals_achieved", "work_compliance", "work_time_in_target_s",
    "recovery_time_in_target_s", "planned_dose_min", "completed_dose_min",
    "relative_dose_intensity", "mean_rpe", *(f"adverse_events_grade_{g}" for g in range(1, 6)),
    "sessions_missing_data")
WEEK_COLUMNS = ("study_code", "week", "planned_sessions", "attended_sessions", "attendance",
                "work_intervals_prescribed", "work_intervals_achieved", "work_compliance",
                "mean_rpe")


def _v(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return cell(value, 4)
    return value


def write_programme_tables(report: ProgrammeReport, stem: Path, files: OutputFiles) -> None:
    def at(name: str) -> Path:
        return stem.with_name(f"{stem.name}_{name}.csv")

    people = list(report.people)
    if report.only is None:
        g = metrics.group_summary(people)
        with files.csv_writer(at("group"), ("measure", "value")) as out:
            out.writerow(["programme", report.info.name])
            for key in ("enrolled", "withdrawn", "with_interruption", "with_dose_modification",
                        "with_early_termination", "sessions_planned", "sessions_attended",
                        "sessions_dose_modified", "sessions_terminated_early"):
                out.writerow([key, g[key]])
            out.writerow(["discontinuation_weeks", ";".join(map(str, g["discontinuation_weeks"]))])
            for key in ("attendance", "relative_dose_intensity", "mean_rpe"):
                for part in ("median", "min", "max"):
                    out.writerow([f"{key}_{part}", _v(g[key][part])])
            for grade, n in g["adverse_events_by_grade"].items():
                out.writerow([f"adverse_events_grade_{grade}", n])
            out.writerow(["sessions_missing_data", len(report.missing)])
    with files.csv_writer(at("participants"), PARTICIPANT_COLUMNS) as out:
        for p in people:
            s = metrics.participant_summary(p)
            row = {k: _v(v) for k, v in s.items() if not isinstance(v, dict)}
            row.update({f"missed_{k}": n for k, n in s["missed_by_reason"].items()})
            row.update({f"adverse_events_grade_{g}": n
                        for g, n in s["adverse_events_by_grade"].items()})
            row["sessions_missing_data"] = len(report.missing_for(p.study_code))
            out.writerow([row[c] for c in PARTICIPANT_COLUMNS])
    missing = {(m.study_code, m.session_number) for m in report.missing}
    with files.csv_writer(at("calendar"), (
            "study_code", "session", "week", "number_in_week", "date", "cell", "missed_reason",
            "note", "session_id", "data_missing", "rpe", "dose_modification",
            "early_termination", "work_intervals_prescribed", "work_intervals_achieved",
            "planned_work_min", "completed_work_min", "adverse_events")) as out:
        for p in people:
            for r in p.sessions:
                works = [i for i in r.intervals if i.phase is Phase.WORK]
                out.writerow([
                    p.study_code, r.planned.number, r.planned.week,
                    _v(r.planned.number_in_week), r.planned.date.isoformat(),
                    cell_of(p, r).value, r.missed_reason.value if r.missed_reason else "",
                    r.note, _v(r.session_id), int((p.study_code, r.planned.number) in missing),
                    _v(r.rpe), r.dose_modification.value if r.dose_modification else "",
                    r.early_termination or "", len(works) if r.attended else "",
                    sum(1 for i in works if i.achieved) if r.attended else "",
                    cell(r.planned.planned_work_s / 60, 2),
                    cell(sum(min(i.time_in_target_s, i.planned_s) for i in works) / 60, 2)
                    if r.attended else "", len(r.adverse_events)])
    with files.csv_writer(at("weekly"), WEEK_COLUMNS) as out:
        if report.only is None:
            for w in group_weeks(report):
                out.writerow(["", *(_v(w[k]) for k in WEEK_COLUMNS[1:])])
        for p in people:
            for w in metrics.weekly(p):
                out.writerow([p.study_code, *(_v(w[k]) for k in WEEK_COLUMNS[1:])])
    with files.csv_writer(at("adverse_events"), (
            "study_code", "session", "week", "number_in_week", "date", "grade", "related",
            "description", "action")) as out:
        for p in people:
            for r in p.sessions:
                for a in r.adverse_events:
                    out.writerow([p.study_code, r.planned.number, r.planned.week,
                                  _v(r.planned.number_in_week), r.planned.date.isoformat(),
                                  a.grade, a.related.value, a.what, a.action])
    with files.csv_writer(at("missing"), ("study_code", "session", "week", "number_in_week",
                                          "session_id", "problem")) as out:
        for m in report.missing:
            out.writerow([m.study_code, m.session_number, m.week, m.number_in_week,
                          _v(m.session_id),
                          "no_session_linked" if m.session_id is None else "no_heart_rate"])
