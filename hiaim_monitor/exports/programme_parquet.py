"""A programme's own tables beside the four session tables (``parquet``): the planned
sessions with their attendance, and the records kept per planned session.

``<stem>_planned.parquet``: one row per planned session of everyone in the scope, with its
date (date32), the recorded session it became (session_id, null if none), attendance and
missed reason (categories, null: not recorded yet), the attendance note and when the
attendance was last recorded (timestamp[us, tz=UTC]), and the participant's enrolment and
withdrawal (dates, reason) repeated on each of their rows so one table answers "who came".
``<stem>_rpe.parquet`` (phase_index null: the session RPE, once at the end; borg int8),
``<stem>_dose_modifications.parquet``, ``<stem>_early_terminations.parquet`` and
``<stem>_adverse_events.parquet`` (grade int8, related yes/possible/no): one row per stored
record, with record_id (the id the registry commands edit it by), recorded_utc and
updated_utc. Every table has programme, study_code (display_name only with
``with_names``), week, number (within the week) and programme_session (within the
programme), as the session tables do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import pyarrow as pa

from hiaim_monitor.exports.common import ExportOptions, FileSet
from hiaim_monitor.exports.parquet import schema_of, write_table
from hiaim_monitor.exports.programme import ProgrammeScope
from hiaim_monitor.storage import programme_records as records
from hiaim_monitor.storage import programmes
from hiaim_monitor.storage.database import Database

_TIME: Final = pa.timestamp("us", tz="UTC")
_CATEGORY: Final = pa.dictionary(pa.int32(), pa.string())
_KEY: Final = (("programme", _CATEGORY), ("study_code", _CATEGORY),
               ("display_name", _CATEGORY), ("week", pa.int16()), ("number", pa.int16()),
               ("programme_session", pa.int16()))
_STAMPS: Final = (("record_id", pa.int64()), ("recorded_utc", _TIME), ("updated_utc", _TIME))
PLANNED_FIELDS: Final = (
    *_KEY, ("planned_on", pa.date32()), ("session_id", pa.int64()),
    ("attendance", _CATEGORY), ("missed_reason", _CATEGORY), ("attendance_note", pa.string()),
    ("attendance_utc", _TIME), ("enrolled_on", pa.date32()), ("withdrawn_on", pa.date32()),
    ("withdrawal_reason", pa.string()))
RPE_FIELDS: Final = (*_KEY, ("phase_index", pa.int16()), ("borg", pa.int8()), *_STAMPS)
DOSE_FIELDS: Final = (*_KEY, ("modification", _CATEGORY), ("note", pa.string()), *_STAMPS)
TERMINATION_FIELDS: Final = (*_KEY, ("reason", pa.string()), *_STAMPS)
ADVERSE_FIELDS: Final = (*_KEY, ("description", pa.string()), ("grade", pa.int8()),
                         ("related", _CATEGORY), ("action", pa.string()), *_STAMPS)


def export_programme_tables(db: Database, scope: ProgrammeScope, files: FileSet,
                            options: ExportOptions, stem: str) -> None:
    code = scope.study_code
    enrolments = {e.study_code: e for e in programmes.list_enrolments(db, scope.name)}

    def key(study_code: str, week: int, number: int) -> dict[str, Any]:
        return {"programme": scope.name, "study_code": study_code,
                "display_name": scope.display_names.get(study_code), "week": week,
                "number": number,
                "programme_session": (week - 1) * scope.sessions_per_week + number}

    def stamps(r: Any) -> dict[str, Any]:
        return {"record_id": r.id, "recorded_utc": r.recorded_utc,
                "updated_utc": r.updated_utc}

    planned = []
    for p in programmes.list_planned_sessions(db, scope.name, code):
        e = enrolments[p.study_code]
        planned.append({
            **key(p.study_code, p.week, p.number), "planned_on": p.planned_on,
            "session_id": p.session_id, "attendance": _value(p.attendance),
            "missed_reason": _value(p.missed_reason), "attendance_note": p.attendance_note,
            "attendance_utc": p.attendance_utc, "enrolled_on": e.enrolled_on,
            "withdrawn_on": e.withdrawn_on, "withdrawal_reason": e.withdrawal_reason})
    tables: list[tuple[str, Any, Iterable[dict[str, Any]]]] = [
        ("planned", PLANNED_FIELDS, planned),
        ("rpe", RPE_FIELDS, [
            {**key(r.study_code, r.week, r.number), "phase_index": r.phase_index,
             "borg": r.borg, **stamps(r)} for r in records.list_rpe(db, scope.name, code)]),
        ("dose_modifications", DOSE_FIELDS, [
            {**key(r.study_code, r.week, r.number), "modification": r.modification.value,
             "note": r.note, **stamps(r)}
            for r in records.list_dose_modifications(db, scope.name, code)]),
        ("early_terminations", TERMINATION_FIELDS, [
            {**key(r.study_code, r.week, r.number), "reason": r.reason, **stamps(r)}
            for r in records.list_early_terminations(db, scope.name, code)]),
        ("adverse_events", ADVERSE_FIELDS, [
            {**key(r.study_code, r.week, r.number), "description": r.description,
             "grade": r.grade, "related": r.related.value, "action": r.action, **stamps(r)}
            for r in records.list_adverse_events(db, scope.name, code)]),
    ]
    for name, fields, rows in tables:
        schema = schema_of(fields, options)
        table = pa.Table.from_pylist(list(rows), schema=schema)
        write_table(files, f"{stem}_{name}.parquet", schema, [table])


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)
