"""A programme as REDCap imports it: one record per participant (record_id = the study
code), a non-repeating ``enrolment`` instrument, and a repeating ``hiaim_session``
instrument with one instance per planned session, plus the data dictionary that creates
both instruments.

Files: ``<stem>_redcap.csv`` (the data) and ``<stem>_redcap_dictionary.csv`` (the
dictionary). How REDCap reads them, from its documentation:
- The data dictionary is a CSV of exactly 18 columns, headed ``DICTIONARY_COLUMNS``; the
  first field is the record identifier, of type text; a form's fields are contiguous rows;
  choices are written ``1, Attended | 2, Missed``; yesno is stored 1/0; a text field's
  validation (``date_ymd``, ``integer``, ``number``) goes in "Text Validation Type OR Show
  Slider Number", with optional min and max (https://linkml.io/linkml-redcap/reference/
  data_dictionary/ and its Field, DataDictionary and FieldType pages; the column list as in
  https://rdrr.io/github/Sage-Bionetworks/redcapdd/man/get_dd_cols.html). Uploading it
  (Project Setup or Online Designer → Data Dictionary) replaces all instruments
  (https://bdeveer.github.io/REDCap_KB_RAG/RC-IMP-03_CSV-Upload-Reference/).
- The data import: the record identifier is the first column; a project with repeating
  instruments has the system columns ``redcap_repeat_instrument`` (the instrument's name)
  and ``redcap_repeat_instance`` (1, 2, …); each form has a ``<form>_complete`` status
  field (0 Incomplete, 1 Unverified, 2 Complete) that is not in the dictionary
  (https://ccts-bsc.netlify.app/redcap/data-import-tool/). A row for the non-repeating
  instrument leaves both repeat columns empty, as REDCap's own export of such a project
  does; blank cells are ignored on import, never erase a value
  (https://bdeveer.github.io/REDCap_KB_RAG/RC-IMP-04_Record-Data-CSV-Import/). Dates are
  written YYYY-MM-DD (date_ymd). The instrument must be marked repeating in the project
  (Project Setup → Repeating instruments) before the import
  (https://help.redcap.ualberta.ca/help-and-faq/repeating-instruments-events).

The instance number is the session's number in the programme (week 1 session 1 is 1, week 2
session 1 is sessions-a-week + 1), so a re-import updates the same instances. Attendance
and records are as stored: a session whose attendance is not recorded yet has it empty
(status 0, Incomplete); every other instance is marked 1 (Unverified: machine-made, for a
person to check). Labels are English, like the CSV exports' columns.

Session values (all from the store; empty when not known):
- RPE: ses_rpe is the session RPE (Borg 6–20, once at the end); ses_rpe_phase_mean and
  ses_rpe_phase_n the mean and count of the ratings after work phases or blocks.
- Intervals: work intervals prescribed and achieved (programme.metrics.compliance); time in
  target in work phases, s; in recovery phases, s (empty: this version judges work phases
  only); peak % HRmax (the highest of the work intervals' peaks); mean % HRmax over the
  trusted samples inside the judged work intervals.
- Dose (the RDI unit of programme.metrics): ses_dose_min = minutes at or above target in
  the prescribed work intervals, each capped at its planned length; ses_dose_planned_min =
  the planned work minutes of the week's protocol (empty while no protocol is known for the
  session: none planned for its week and none recorded). Σ ses_dose_min / Σ ses_dose_planned_min
  over the offered sessions is the relative dose intensity.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from hiaim_monitor.engine.codes import UNTRUSTED
from hiaim_monitor.exports.common import CSV_OPTIONS, ExportOptions, FileSet, num
from hiaim_monitor.exports.programme import ProgrammeScope
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import (
    AE_GRADE_MAX,
    AE_GRADE_MIN,
    RPE_MAX,
    RPE_MIN,
    Attendance,
    DoseModification,
    MissedReason,
    Phase,
    SessionRecord,
)
from hiaim_monitor.storage import programme_records as records
from hiaim_monitor.storage import programmes
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.schema import (
    ParticipantRow,
    PhaseAdherenceRow,
    SampleRow,
    SessionParticipantRow,
)

DICTIONARY_COLUMNS: Final = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min",
    "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)",
    "Matrix Group Name", "Matrix Ranking?", "Field Annotation")
ENROLMENT_FORM: Final = "enrolment"
SESSION_FORM: Final = "hiaim_session"
SYSTEM_COLUMNS: Final = ("redcap_repeat_instrument", "redcap_repeat_instance",
                         f"{ENROLMENT_FORM}_complete", f"{SESSION_FORM}_complete")
UNVERIFIED, INCOMPLETE = "1", "0"
PCT_MAX: Final = 250  # % HRmax: a bound for validation only, above any real value

# Coded choices, in a fixed order: the code of a value never changes between versions.
ATTENDANCE_CODES: Final = {Attendance.ATTENDED: (1, "Attended"),
                           Attendance.MISSED: (2, "Missed"),
                           Attendance.CANCELLED: (3, "Cancelled by the site")}
MISSED_CODES: Final = {MissedReason.ILLNESS: (1, "Illness"),
                       MissedReason.TREATMENT_SIDE_EFFECTS: (2, "Treatment side effects"),
                       MissedReason.HOSPITAL_ADMISSION: (3, "Hospital admission"),
                       MissedReason.TRANSPORT: (4, "Transport"),
                       MissedReason.PERSONAL: (5, "Personal"),
                       MissedReason.UNKNOWN: (6, "Unknown")}
DOSE_CODES: Final = {
    DoseModification.INTENSITY_REDUCED_HEALTH: (1, "Intensity reduced, health-related"),
    DoseModification.INTENSITY_REDUCED_OTHER: (2, "Intensity reduced, other cause"),
    DoseModification.DURATION_REDUCED_HEALTH: (3, "Duration reduced, health-related"),
    DoseModification.DURATION_REDUCED_OTHER: (4, "Duration reduced, other cause")}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    form: str
    kind: str  # text, notes, radio, dropdown, yesno
    label: str
    choices: str = ""
    note: str = ""
    validation: str = ""  # date_ymd, integer, number
    low: int | float | None = None
    high: int | float | None = None
    identifier: bool = False
    branching: str = ""
    required: bool = False

    def row(self) -> list[str]:
        return [self.name, self.form, "", self.kind, self.label, self.choices, self.note,
                self.validation, "" if self.low is None else str(self.low),
                "" if self.high is None else str(self.high), "y" if self.identifier else "",
                self.branching, "y" if self.required else "", "", "", "", "", ""]


def _choices(codes: dict[Any, tuple[int, str]]) -> str:
    return " | ".join(f"{code}, {label}" for code, label in codes.values())


def dictionary(scope: ProgrammeScope, with_names: bool) -> list[Field]:
    """The fields, record_id first, each form's fields together."""
    e, s = ENROLMENT_FORM, SESSION_FORM
    total = scope.weeks * scope.sessions_per_week
    fields = [Field("record_id", e, "text", "Study code", required=True,
                    note="Pseudonymous, as in HI AIM Monitor")]
    if with_names:
        fields.append(Field("enr_name", e, "text", "Display name", identifier=True))
    fields += [
        Field("enr_programme", e, "text", "Programme"),
        Field("enr_enrolled_on", e, "text", "Enrolled on", validation="date_ymd"),
        Field("enr_withdrawn", e, "yesno", "Withdrawn (permanent discontinuation)"),
        Field("enr_withdrawn_on", e, "text", "Withdrawn on", validation="date_ymd",
              branching="[enr_withdrawn] = '1'"),
        Field("enr_withdrawal_reason", e, "notes", "Reason for the withdrawal",
              branching="[enr_withdrawn] = '1'"),
        Field("ses_date", s, "text", "Planned date", validation="date_ymd"),
        Field("ses_week", s, "text", "Week of the programme", validation="integer", low=1,
              high=scope.weeks),
        Field("ses_number", s, "text", "Session number within the week",
              validation="integer", low=1, high=scope.sessions_per_week),
        Field("ses_in_programme", s, "text", "Session number within the programme",
              validation="integer", low=1, high=total),
        Field("ses_attendance", s, "radio", "Attendance", _choices(ATTENDANCE_CODES),
              note="Empty: not recorded yet"),
        Field("ses_missed_reason", s, "dropdown", "Reason for missing",
              _choices(MISSED_CODES), branching="[ses_attendance] = '2'"),
        Field("ses_note", s, "notes", "Attendance note"),
        Field("ses_recorded_id", s, "text", "Recorded session id in HI AIM Monitor",
              validation="integer", low=1),
        Field("ses_rpe", s, "text", "Session RPE (Borg 6-20)", validation="integer",
              low=RPE_MIN, high=RPE_MAX),
        Field("ses_rpe_phase_mean", s, "text", "Mean RPE after work phases or blocks",
              validation="number", low=RPE_MIN, high=RPE_MAX),
        Field("ses_rpe_phase_n", s, "text", "RPE ratings after work phases or blocks",
              validation="integer", low=0),
        Field("ses_dose_mod", s, "yesno", "Dose modified"),
        Field("ses_dose_mod_type", s, "dropdown", "How the dose was modified",
              _choices(DOSE_CODES), branching="[ses_dose_mod] = '1'",
              note="The last one recorded"),
        Field("ses_dose_mod_note", s, "notes", "Dose modification note",
              branching="[ses_dose_mod] = '1'"),
        Field("ses_early_term", s, "yesno", "Terminated early"),
        Field("ses_early_term_reason", s, "notes", "Reason for the early termination",
              branching="[ses_early_term] = '1'"),
        Field("ses_ae_n", s, "text", "Adverse events", validation="integer", low=0),
        Field("ses_ae_max_grade", s, "text", "Highest adverse-event grade (1-5)",
              validation="integer", low=AE_GRADE_MIN, high=AE_GRADE_MAX,
              branching="[ses_ae_n] > 0"),
        Field("ses_int_planned", s, "text", "Work intervals prescribed",
              validation="integer", low=0),
        Field("ses_int_achieved", s, "text", "Work intervals achieved", validation="integer",
              low=0),
        Field("ses_work_tit_s", s, "text", "Time in target in work phases (s)",
              validation="number", low=0),
        Field("ses_rec_tit_s", s, "text", "Time in target in recovery phases (s)",
              validation="number", low=0, note="Empty: not judged"),
        Field("ses_peak_pct", s, "text", "Peak % HRmax in the work intervals",
              validation="number", low=0, high=PCT_MAX),
        Field("ses_mean_pct", s, "text", "Mean % HRmax in the work intervals",
              validation="number", low=0, high=PCT_MAX),
        Field("ses_dose_min", s, "text", "Minutes at or above target (dose completed)",
              validation="number", low=0,
              note="Each work interval capped at its planned length"),
        Field("ses_dose_planned_min", s, "text", "Planned work minutes (dose planned)",
              validation="number", low=0),
    ]
    return fields


def export_redcap(db: Database, scope: ProgrammeScope, files: FileSet,
                  options: ExportOptions, stem: str) -> None:
    fields = dictionary(scope, options.with_names)
    with files.open(f"{stem}_redcap_dictionary.csv") as f:
        out = csv.writer(f, **CSV_OPTIONS)
        out.writerow(DICTIONARY_COLUMNS)
        out.writerows(field.row() for field in fields)
    enrolment_names = [f.name for f in fields if f.form == ENROLMENT_FORM]
    session_names = [f.name for f in fields if f.form == SESSION_FORM]
    header = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance",
              *enrolment_names[1:], f"{ENROLMENT_FORM}_complete", *session_names,
              f"{SESSION_FORM}_complete"]
    mean_pct = _mean_work_pct(db, scope)
    enrolments = {e.study_code: e for e in programmes.list_enrolments(db, scope.name)}
    with files.open(f"{stem}_redcap.csv") as f:
        out = csv.DictWriter(f, header, restval="", **CSV_OPTIONS)
        out.writeheader()
        for code in scope.codes:
            e = enrolments[code]
            row: dict[str, Any] = {
                "record_id": code, "enr_programme": scope.name,
                "enr_enrolled_on": e.enrolled_on.isoformat(),
                "enr_withdrawn": int(e.withdrawn_on is not None),
                f"{ENROLMENT_FORM}_complete": UNVERIFIED}
            if options.with_names:
                row["enr_name"] = scope.display_names[code]
            if e.withdrawn_on is not None:
                row["enr_withdrawn_on"] = e.withdrawn_on.isoformat()
                row["enr_withdrawal_reason"] = e.withdrawal_reason
            out.writerow(row)
            stored = {(p.week, p.number): p
                      for p in programmes.list_planned_sessions(db, scope.name, code)}
            programme = records.participant_programme(db, scope.name, code)
            for record in programme.sessions:
                week, number = record.planned.week, record.planned.number_in_week or 0
                planned = stored.get((week, number))
                if planned is None:  # not planned (after a withdrawal): nothing to import
                    continue
                out.writerow({"record_id": code,
                              "redcap_repeat_instrument": SESSION_FORM,
                              "redcap_repeat_instance": record.planned.number,
                              **_session(record, planned,
                                         mean_pct.get((planned.session_id, code)))})


def _session(r: SessionRecord, planned: programmes.PlannedSessionInfo,
             mean_pct: float | None) -> dict[str, Any]:
    """One instance of the session instrument. Attendance as stored (None: not yet)."""
    status = planned.attendance
    row: dict[str, Any] = {
        "ses_date": planned.planned_on.isoformat(), "ses_week": r.planned.week,
        "ses_number": r.planned.number_in_week, "ses_in_programme": r.planned.number,
        "ses_attendance": "" if status is None else ATTENDANCE_CODES[status][0],
        "ses_note": planned.attendance_note,
        "ses_recorded_id": "" if planned.session_id is None else planned.session_id,
        # 0: no protocol is known for it yet (none planned for the week, none recorded).
        "ses_dose_planned_min": (num(r.planned.planned_work_s / 60.0, 2)
                                 if r.planned.planned_work_s > 0 else ""),
        f"{SESSION_FORM}_complete": INCOMPLETE if status is None else UNVERIFIED}
    if status is Attendance.MISSED and planned.missed_reason is not None:
        row["ses_missed_reason"] = MISSED_CODES[planned.missed_reason][0]
    if status is not Attendance.ATTENDED:
        return row
    after_phases = [x.borg for x in r.rpe_ratings if x.phase_index is not None]
    work = [i for i in r.intervals if i.phase is Phase.WORK]
    c = metrics.compliance([r])
    peaks = [i.peak_pct_hrmax for i in work if i.peak_pct_hrmax is not None]
    row.update({
        "ses_rpe": "" if r.rpe is None else r.rpe,
        "ses_rpe_phase_mean": (num(statistics.fmean(after_phases), 1) if after_phases
                               else ""),
        "ses_rpe_phase_n": len(after_phases),
        "ses_dose_mod": int(r.dose_modification is not None),
        "ses_early_term": int(r.early_termination is not None),
        "ses_ae_n": len(r.adverse_events),
        "ses_int_planned": c.work_prescribed, "ses_int_achieved": c.work_achieved,
        "ses_work_tit_s": num(c.work_time_in_target_s, 1),
        "ses_rec_tit_s": (num(c.recovery_time_in_target_s, 1) if c.recovery_planned_s
                          else ""),
        "ses_peak_pct": num(max(peaks), 1) if peaks else "",
        "ses_mean_pct": num(mean_pct, 1),
        "ses_dose_min": num(sum(min(i.time_in_target_s, i.planned_s) for i in work) / 60.0,
                            2)})
    if r.dose_modification is not None:
        row["ses_dose_mod_type"] = DOSE_CODES[r.dose_modification][0]
        row["ses_dose_mod_note"] = r.dose_note
    if r.early_termination is not None:
        row["ses_early_term_reason"] = r.early_termination
    if r.adverse_events:
        row["ses_ae_max_grade"] = max(ae.grade for ae in r.adverse_events)
    return row


def _mean_work_pct(db: Database, scope: ProgrammeScope) -> dict[tuple[int, str], float]:
    """(session id, study code) → mean % HRmax of the trusted samples inside the judged
    work intervals, one aggregate query over every linked session."""
    if not scope.session_ids:
        return {}
    a, s = PhaseAdherenceRow, SampleRow
    query = (sa.select(SessionParticipantRow.session_id, ParticipantRow.study_code,
                       sa.func.avg(s.pct_hrmax))
             .join(ParticipantRow, ParticipantRow.id == SessionParticipantRow.participant_id)
             .join(a, a.session_participant_id == SessionParticipantRow.id)
             .join(s, sa.and_(s.session_participant_id == a.session_participant_id,
                              s.t_s >= a.start_s, s.t_s < a.end_s))
             .where(SessionParticipantRow.session_id.in_(list(scope.session_ids)),
                    s.pct_hrmax.is_not(None), s.flags.op("&")(int(UNTRUSTED)) == 0)
             .group_by(SessionParticipantRow.session_id, ParticipantRow.study_code))
    with storage_errors(db), db.engine.connect() as conn:
        rows: Sequence[Any] = conn.execute(query).all()
    return {(sid, code): float(mean) for sid, code, mean in rows if mean is not None}
