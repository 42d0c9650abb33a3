"""Parquet research exports: every session given, together, in four typed tables that
pandas, polars, DuckDB and R's arrow read with their types and UTC times as they are.

Files (one set per export, whatever the number of sessions): ``<stem>_samples.parquet``,
``<stem>_beats.parquet``, ``<stem>_events.parquet``, ``<stem>_phases.parquet``, where the
stem is ``session-12`` for one session and ``sessions-12-13-14`` for several (in the order
given). One row per stored record of every session, each with session_id and study_code
(display_name only with ``with_names``), so the sessions stack without a join.

Types: session_id int64; wall times timestamp[us, tz=UTC]; session-clock seconds float64;
bpm, indices, zones, flag bits integers; judged and achieved bool; names and categories
dictionary-encoded strings (a category in pandas). pandas turns a nullable int column into
float64 unless read with ``dtype_backend="pyarrow"``; polars, DuckDB and arrow keep it. A
value the store has not (pct_hrmax of an implausible heart rate, a phase outside the
session, energy a strap did not send) is null.
Columns mean what they mean in the CSV exports (samples_csv, rr, events, summary): samples
as the sample CSV plus flag_bits (the SampleFlag bits as an integer); beats t_s, rr_ms,
flags (names) and flag_bits; events as the events CSV; phases as the summary's interval
table. ``omit_artifacts`` leaves out untrusted samples and flagged beats.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from hiaim_monitor.engine.classify import zone_of
from hiaim_monitor.engine.codes import BeatFlag, Level, SampleFlag
from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    ExportOptions,
    FileSet,
    class_name,
    flag_names,
    is_artifact_sample,
)
from hiaim_monitor.exports.events import describe, event_kind, event_rows
from hiaim_monitor.exports.phases import phase_spans, span_at
from hiaim_monitor.exports.summary import work_phases
from hiaim_monitor.storage.database import Database

_TIME: Final = pa.timestamp("us", tz="UTC")
_CATEGORY: Final = pa.dictionary(pa.int32(), pa.string())
_STEM_IDS: Final = 8  # more session ids than this are named by the first, last and count

SAMPLE_FIELDS: Final = (
    ("session_id", pa.int64()), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    ("wall_utc", _TIME), ("t_s", pa.float64()), ("phase_index", pa.int16()),
    ("phase_name", _CATEGORY), ("bpm", pa.int16()), ("pct_hrmax", pa.float64()),
    ("class", _CATEGORY), ("zone", pa.int8()), ("contact", _CATEGORY), ("flags", _CATEGORY),
    ("energy_kj", pa.int32()), ("flag_bits", pa.int32()))
BEAT_FIELDS: Final = (
    ("session_id", pa.int64()), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    ("t_s", pa.float64()), ("rr_ms", pa.float64()), ("flags", _CATEGORY),
    ("flag_bits", pa.int32()))
EVENT_FIELDS: Final = (
    ("session_id", pa.int64()), ("wall_utc", _TIME), ("t_s", pa.float64()),
    ("kind", _CATEGORY), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    ("details", pa.string()), ("detail_json", pa.string()))
PHASE_FIELDS: Final = (
    ("session_id", pa.int64()), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    ("phase_index", pa.int16()), ("phase_name", _CATEGORY), ("kind", _CATEGORY),
    ("target", _CATEGORY), ("start_s", pa.float64()), ("end_s", pa.float64()),
    ("planned_s", pa.float64()), ("ran_s", pa.float64()), ("judged", pa.bool_()),
    ("seconds_in_target", pa.float64()), ("seconds_above_target", pa.float64()),
    ("seconds_below_target", pa.float64()), ("seconds_no_data", pa.float64()),
    ("fraction_in_target_after_ramp", pa.float64()), ("time_to_target_s", pa.float64()),
    ("peak_pct_hrmax", pa.float64()), ("achieved", pa.bool_()))


def export_parquet(db: Database, sessions: Sequence[data.ExportSession], files: FileSet,
                   options: ExportOptions) -> None:
    """The four tables of ``sessions`` (at least one)."""
    stem = file_stem([s.session_id for s in sessions])
    tables = (("samples", SAMPLE_FIELDS, _samples), ("beats", BEAT_FIELDS, _beats),
              ("events", EVENT_FIELDS, _events), ("phases", PHASE_FIELDS, _phases))
    for name, fields, rows_of in tables:
        schema = pa.schema([pa.field(n, t) for n, t in fields
                            if options.with_names or n != "display_name"])
        columns: dict[str, list[Any]] = {n: [] for n in schema.names}
        for session in sessions:
            rows_of(db, session, options, columns)
        table = pa.table({n: pa.array(v, type=schema.field(n).type)
                          for n, v in columns.items()}, schema=schema)
        with files.open(f"{stem}_{name}.parquet", binary=True) as f:
            pq.write_table(table, f, compression="zstd")


def file_stem(session_ids: Sequence[int]) -> str:
    """``session-12``, ``sessions-12-13``, or ``sessions-12-40-of-20`` for many."""
    if len(session_ids) == 1:
        return f"session-{session_ids[0]}"
    if len(session_ids) <= _STEM_IDS:
        return "sessions-" + "-".join(str(i) for i in session_ids)
    return f"sessions-{session_ids[0]}-{session_ids[-1]}-of-{len(session_ids)}"


def _add(columns: dict[str, list[Any]], **values: Any) -> None:
    for name, values_list in columns.items():
        values_list.append(values[name])


def _samples(db: Database, session: data.ExportSession, options: ExportOptions,
             columns: dict[str, list[Any]]) -> None:
    spans = phase_spans(db, session)
    starts_s = [span.start_s for span in spans]
    for p in session.participants:
        for t_s, wall_utc, bpm, pct, level, flags, contact, energy_kj in data.samples(
                db, p.session_participant_id):
            if options.omit_artifacts and is_artifact_sample(flags):
                continue
            span = span_at(spans, starts_s, t_s)
            _add(columns, session_id=session.session_id, study_code=p.study_code,
                 display_name=p.display_name, wall_utc=wall_utc.astimezone(UTC), t_s=t_s,
                 phase_index=None if span is None else span.index,
                 phase_name=None if span is None else span.name, bpm=bpm, pct_hrmax=pct,
                 **{"class": class_name(level)},
                 zone=None if pct is None else zone_of(pct), contact=contact.value,
                 flags=flag_names(flags, SampleFlag), energy_kj=energy_kj,
                 flag_bits=int(flags))


def _beats(db: Database, session: data.ExportSession, options: ExportOptions,
           columns: dict[str, list[Any]]) -> None:
    for p in session.participants:
        for t_s, rr_ms, flags in data.beats(db, p.session_participant_id):
            if options.omit_artifacts and flags:
                continue
            _add(columns, session_id=session.session_id, study_code=p.study_code,
                 display_name=p.display_name, t_s=t_s, rr_ms=rr_ms,
                 flags=flag_names(flags, BeatFlag), flag_bits=int(flags))


def _events(db: Database, session: data.ExportSession, options: ExportOptions,
            columns: dict[str, list[Any]]) -> None:
    who = {p.session_participant_id: p for p in session.participants}
    for wall_utc, t_s, kind, sp_id, detail in event_rows(db, session):
        detail = detail if isinstance(detail, dict) else {}
        person = who.get(sp_id) if sp_id is not None else None
        _add(columns, session_id=session.session_id, wall_utc=wall_utc.astimezone(UTC),
             t_s=t_s, kind=event_kind(kind, detail),
             study_code=None if person is None else person.study_code,
             display_name=None if person is None else person.display_name,
             details=describe(kind, detail),
             detail_json=json.dumps(detail, ensure_ascii=False, sort_keys=True))


def _phases(db: Database, session: data.ExportSession, options: ExportOptions,
            columns: dict[str, list[Any]]) -> None:
    """As the summary's interval table: every prescribed work phase, judged or not."""
    prescribed = work_phases(session)
    for p in session.participants:
        judged = {a.phase_index: a for a in data.adherence(db, p.session_participant_id)}
        who = {"session_id": session.session_id, "study_code": p.study_code,
               "display_name": p.display_name}
        for index in [*prescribed, *sorted(set(judged) - set(prescribed))]:
            a, planned = judged.get(index), prescribed.get(index)
            if a is None:
                assert planned is not None
                _add(columns, **who, phase_index=index, phase_name=planned.name,
                     kind=planned.kind, target=planned.target or None,
                     start_s=planned.start_s, end_s=planned.end_s,
                     planned_s=planned.end_s - planned.start_s, ran_s=None, judged=False,
                     seconds_in_target=None, seconds_above_target=None,
                     seconds_below_target=None, seconds_no_data=None,
                     fraction_in_target_after_ramp=None, time_to_target_s=None,
                     peak_pct_hrmax=None, achieved=None)
                continue
            _add(columns, **who, phase_index=index, phase_name=a.phase_name,
                 kind=a.kind.value, target=_level_name(a.target_level), start_s=a.start_s,
                 end_s=a.end_s, planned_s=a.planned_s, ran_s=a.ran_s, judged=bool(a.judged),
                 seconds_in_target=a.seconds_in_target,
                 seconds_above_target=a.seconds_above_target,
                 seconds_below_target=a.seconds_below_target,
                 seconds_no_data=a.seconds_no_data,
                 fraction_in_target_after_ramp=a.fraction_in_target_after_ramp,
                 time_to_target_s=a.time_to_target_s, peak_pct_hrmax=a.peak_pct,
                 achieved=bool(a.achieved) if a.judged else None)


def _level_name(level: int) -> str | None:
    try:
        return Level(level).name.lower()
    except ValueError:
        return None
