"""Parquet research exports: every session given, together, in four typed tables that
pandas, polars, DuckDB and R's arrow read with their types and UTC times as they are.

Files (one set per export, whatever the number of sessions): ``<stem>_samples.parquet``,
``<stem>_beats.parquet``, ``<stem>_events.parquet``, ``<stem>_phases.parquet``, where the
stem is ``session-12`` for one session and ``sessions-12-13-14`` for several (in the order
given); a programme's (``export_programme``) is ``programme-<name>[_<code>]``. One row per
stored record of every session, each with session_id and study_code (display_name only with
``with_names``) and the planned session the participant's rows were (programme, week,
number within the week, programme_session within the programme; null where no programme
links the session), so the sessions stack without a join.

Types: session_id int64; wall times timestamp[us, tz=UTC]; session-clock seconds float64;
bpm, indices, zones, flag bits integers; judged and achieved bool; names and categories
dictionary-encoded strings (a category in pandas). pandas turns a nullable int column into
float64 unless read with ``dtype_backend="pyarrow"``; polars, DuckDB and arrow keep it. A
value the store has not (pct_hrmax of an implausible heart rate, a phase outside the
session, energy a strap did not send) is null.
Columns mean what they mean in the CSV exports (samples_csv, rr, events, summary): samples
as the sample CSV plus flag_bits (the SampleFlag bits as an integer); beats t_s, rr_ms,
flags (names) and flag_bits; events as the events CSV; phases as the summary's interval
table (a block of short bouts one row, its ``bout_peaks_pct`` a list of float64, null
for a bout without trusted data). ``omit_artifacts`` leaves out untrusted samples and
flagged beats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hiaim_monitor.engine.blocks import prescribed_intervals
from hiaim_monitor.engine.codes import UNTRUSTED, ZONE_EDGES_PCT, BeatFlag, Level, SampleFlag
from hiaim_monitor.exports import columnar, data
from hiaim_monitor.exports.common import (
    ExportOptions,
    FileSet,
    class_name,
    flag_names,
)
from hiaim_monitor.exports.data import Links
from hiaim_monitor.exports.events import describe, event_kind, event_rows
from hiaim_monitor.exports.phases import PhaseSpan, phase_spans
from hiaim_monitor.exports.summary import bouts_reached
from hiaim_monitor.storage.database import Database

_TIME: Final = columnar.TIME
_CATEGORY: Final = pa.dictionary(pa.int32(), pa.string())
_STEM_IDS: Final = 8  # more session ids than this are named by the first, last and count
# The planned session a participant's rows were (null for a session no programme links):
# week 1.., number within the week 1.., programme_session 1.. in the whole programme.
PLANNED_FIELDS: Final = (
    ("programme", _CATEGORY), ("week", pa.int16()), ("number", pa.int16()),
    ("programme_session", pa.int16()))

SAMPLE_FIELDS: Final = (
    ("session_id", pa.int64()), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    *PLANNED_FIELDS, ("wall_utc", _TIME), ("t_s", pa.float64()), ("phase_index", pa.int16()),
    ("phase_name", _CATEGORY), ("bpm", pa.int16()), ("pct_hrmax", pa.float64()),
    ("class", _CATEGORY), ("zone", pa.int8()), ("contact", _CATEGORY), ("flags", _CATEGORY),
    ("energy_kj", pa.int32()), ("flag_bits", pa.int32()))
BEAT_FIELDS: Final = (
    ("session_id", pa.int64()), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    *PLANNED_FIELDS, ("t_s", pa.float64()), ("rr_ms", pa.float64()), ("flags", _CATEGORY),
    ("flag_bits", pa.int32()))
EVENT_FIELDS: Final = (
    ("session_id", pa.int64()), ("wall_utc", _TIME), ("t_s", pa.float64()),
    ("kind", _CATEGORY), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    *PLANNED_FIELDS, ("details", pa.string()), ("detail_json", pa.string()))
PHASE_FIELDS: Final = (
    ("session_id", pa.int64()), ("study_code", _CATEGORY), ("display_name", _CATEGORY),
    *PLANNED_FIELDS, ("phase_index", pa.int16()), ("phase_name", _CATEGORY),
    ("kind", _CATEGORY),
    ("target", _CATEGORY), ("start_s", pa.float64()), ("end_s", pa.float64()),
    ("planned_s", pa.float64()), ("ran_s", pa.float64()), ("judged", pa.bool_()),
    ("seconds_in_target", pa.float64()), ("seconds_above_target", pa.float64()),
    ("seconds_below_target", pa.float64()), ("seconds_no_data", pa.float64()),
    ("fraction_in_target_after_ramp", pa.float64()), ("time_to_target_s", pa.float64()),
    ("peak_pct_hrmax", pa.float64()), ("achieved", pa.bool_()), ("block_index", pa.int16()),
    ("target_pct", pa.float64()), ("achieved_by", _CATEGORY), ("bouts", pa.int16()),
    ("bouts_reached", pa.int16()), ("bout_peaks_pct", pa.list_(pa.float64())))


def export_parquet(db: Database, sessions: Sequence[data.ExportSession], files: FileSet,
                   options: ExportOptions, *, stem: str | None = None,
                   links: Links | None = None) -> None:
    """The four tables of ``sessions`` (at least one, unless ``stem`` is given: a programme
    with no recorded session yet still has its tables, empty). ``links`` labels each
    participant's rows with the planned session it was (programme, week, number); a
    session's participants are those it lists (a programme export lists only its own)."""
    stem = stem or file_stem([s.session_id for s in sessions])
    links = links if links is not None else {}
    stored = columnar.read_rows(db, sessions)  # first: see columnar on two SQLite copies
    tables = (("samples", SAMPLE_FIELDS, _samples), ("beats", BEAT_FIELDS, _beats),
              ("events", EVENT_FIELDS, _events), ("phases", PHASE_FIELDS, _phases))
    for name, fields, table_of in tables:
        schema = schema_of(fields, options)
        parts = [table_of(db, session, options, schema, links, stored)
                 for session in sessions]
        write_table(files, f"{stem}_{name}.parquet", schema, parts)


def schema_of(fields: Sequence[tuple[str, pa.DataType]], options: ExportOptions) -> pa.Schema:
    """The fields, display_name only with ``with_names``."""
    return pa.schema([pa.field(n, t) for n, t in fields
                      if options.with_names or n != "display_name"])


def write_table(files: FileSet, name: str, schema: pa.Schema,
                parts: Sequence[pa.Table]) -> None:
    """Stack ``parts`` (each of ``schema``; none: an empty table) and write it, zstd.
    Parquet's dictionary encoding only for the dictionary columns: tried on every column
    (pyarrow's default) it made the files twice the size and a third slower to write,
    measured on benchmarks/parquet.py's session (float columns have too many values)."""
    parts = [t for t in parts if t.num_rows] or [schema.empty_table()]
    table = pa.concat_tables(parts).unify_dictionaries()
    categories = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    with files.open(name, binary=True) as f:
        pq.write_table(table, f, compression="zstd", use_dictionary=categories)


def file_stem(session_ids: Sequence[int]) -> str:
    """``session-12``, ``sessions-12-13``, or ``sessions-12-40-of-20`` for many."""
    if len(session_ids) == 1:
        return f"session-{session_ids[0]}"
    if len(session_ids) <= _STEM_IDS:
        return "sessions-" + "-".join(str(i) for i in session_ids)
    return f"sessions-{session_ids[0]}-{session_ids[-1]}-of-{len(session_ids)}"


def _rows_table(schema: pa.Schema, columns: dict[str, list[Any]]) -> pa.Table:
    """A small table built row by row (events, phase results)."""
    return pa.table({n: pa.array(v, type=schema.field(n).type) for n, v in columns.items()},
                    schema=schema)


def _add(columns: dict[str, list[Any]], **values: Any) -> None:
    for name, values_list in columns.items():
        values_list.append(values[name])


def _label(links: Links, session_id: int, study_code: str) -> dict[str, Any]:
    link = links.get((session_id, study_code))
    if link is None:
        return {"programme": None, "week": None, "number": None, "programme_session": None}
    return {"programme": link.programme, "week": link.week, "number": link.number,
            "programme_session": link.programme_session}


# The two big tables are built column by column: the driver's values go into Arrow arrays
# in C, and what is derived from them (phase, zone, class and flag names) is computed with
# numpy over the whole column, or once per distinct value; no Python work per row.


def _constant(schema: pa.Schema, session: data.ExportSession, p: data.ExportParticipant,
              links: Links, n: int) -> dict[str, pa.Array]:
    """The columns that are the same on every row of one participant in one session."""
    label = _label(links, session.session_id, p.study_code)
    values = {"session_id": session.session_id, "study_code": p.study_code,
              "display_name": p.display_name, **label}
    out = {}
    for name, value in values.items():
        if name not in schema.names:
            continue
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            indices = (pa.nulls(n, pa.int32()) if value is None
                       else pa.array(np.zeros(n, np.int32)))
            out[name] = pa.DictionaryArray.from_arrays(
                indices, pa.array([] if value is None else [value], pa.string()))
        elif value is None:
            out[name] = pa.nulls(n, kind)
        else:
            out[name] = pa.array(np.full(n, value, kind.to_pandas_dtype()), kind)
    return out


def _coded(values: np.ndarray, name_of: Callable[[int], str]) -> pa.DictionaryArray:
    """Integer codes as a dictionary of their names, each name worked out once."""
    distinct, inverse = np.unique(values, return_inverse=True)
    names = [name_of(int(v)) for v in distinct]
    dictionary = list(dict.fromkeys(names))  # two codes may share a name (unknown)
    position = np.array([dictionary.index(n) for n in names], np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(position[inverse.ravel()]),
                                          pa.array(dictionary, pa.string()))


def _phase_columns(spans: Sequence[PhaseSpan], t_s: np.ndarray
                   ) -> tuple[pa.Array, pa.DictionaryArray]:
    """phase_index and phase_name of each time, null outside every span (span_at's rule:
    a span holds [start_s, end_s))."""
    n = len(t_s)
    if not spans:
        return (pa.nulls(n, pa.int16()),
                pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()),
                                               pa.array([], pa.string())))
    starts = np.array([s.start_s for s in spans])
    ends = np.array([s.end_s for s in spans])
    at = np.searchsorted(starts, t_s, side="right") - 1
    clipped = np.clip(at, 0, None)
    outside = (at < 0) | (t_s >= ends[clipped])
    indices = np.array([s.index for s in spans], np.int16)[clipped]
    names = list(dict.fromkeys(s.name for s in spans))
    name_at = np.array([names.index(s.name) for s in spans], np.int32)[clipped]
    return (pa.array(indices, pa.int16(), mask=outside),
            pa.DictionaryArray.from_arrays(pa.array(name_at, pa.int32(), mask=outside),
                                           pa.array(names, pa.string())))


def _samples(db: Database, session: data.ExportSession, options: ExportOptions,
             schema: pa.Schema, links: Links, stored: columnar.StoredRows) -> pa.Table:
    spans = phase_spans(db, session)
    parts = []
    for p in session.participants:
        read = stored.samples.get(p.session_participant_id)
        if read is None:
            continue
        times = read["t_s"].to_numpy()
        flag_bits = read["flag_bits"].to_numpy()
        pct_np = read["pct_hrmax"].to_numpy(zero_copy_only=False)  # NaN where null
        no_pct = np.isnan(pct_np)
        # zone_of's rule: the number of zone edges at or below pct.
        zone = np.searchsorted(np.asarray(ZONE_EDGES_PCT), np.where(no_pct, 0.0, pct_np),
                               side="right").astype(np.int8)
        phase_index, phase_name = _phase_columns(spans, times)
        columns = {
            **read, **_constant(schema, session, p, links, len(times)),
            "phase_index": phase_index, "phase_name": phase_name,
            "class": _coded(read["level"].to_numpy(), class_name),
            "zone": pa.array(zone, pa.int8(), mask=no_pct),
            "contact": read["contact"].dictionary_encode(),
            "flags": _coded(flag_bits, lambda f: flag_names(f, SampleFlag))}
        table = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
        if options.omit_artifacts:
            table = table.filter(pa.array((flag_bits & int(UNTRUSTED)) == 0))
        parts.append(table)
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _beats(db: Database, session: data.ExportSession, options: ExportOptions,
           schema: pa.Schema, links: Links, stored: columnar.StoredRows) -> pa.Table:
    parts = []
    for p in session.participants:
        read = stored.beats.get(p.session_participant_id)
        if read is None:
            continue
        flag_bits = read["flag_bits"].to_numpy()
        columns = {**read, **_constant(schema, session, p, links, len(flag_bits)),
                   "flags": _coded(flag_bits, lambda f: flag_names(f, BeatFlag))}
        table = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
        if options.omit_artifacts:
            table = table.filter(pa.array(flag_bits == 0))
        parts.append(table)
    return pa.concat_tables(parts) if parts else schema.empty_table()


def _events(db: Database, session: data.ExportSession, options: ExportOptions,
            schema: pa.Schema, links: Links, stored: columnar.StoredRows) -> pa.Table:
    """Every event about the whole session, and those about the participants it lists
    (a programme export leaves out those about anyone else in the class)."""
    columns: dict[str, list[Any]] = {n: [] for n in schema.names}
    who = {p.session_participant_id: p for p in session.participants}
    for wall_utc, t_s, kind, sp_id, detail in event_rows(db, session):
        detail = detail if isinstance(detail, dict) else {}
        person = who.get(sp_id) if sp_id is not None else None
        if sp_id is not None and person is None:
            continue
        label = (_label(links, session.session_id, person.study_code) if person is not None
                 else _label({}, 0, ""))
        _add(columns, session_id=session.session_id, wall_utc=wall_utc.astimezone(UTC),
             t_s=t_s, kind=event_kind(kind, detail),
             study_code=None if person is None else person.study_code,
             display_name=None if person is None else person.display_name, **label,
             details=describe(kind, detail),
             detail_json=json.dumps(detail, ensure_ascii=False, sort_keys=True))
    return _rows_table(schema, columns)


def _phases(db: Database, session: data.ExportSession, options: ExportOptions,
            schema: pa.Schema, links: Links, stored: columnar.StoredRows) -> pa.Table:
    """As the summary's interval table: every prescribed interval (a work phase, or a block
    as a whole), judged or not."""
    columns: dict[str, list[Any]] = {n: [] for n in schema.names}
    prescribed = {i.index: i for i in prescribed_intervals(session.protocol)}
    for p in session.participants:
        judged = {a.phase_index: a for a in data.adherence(db, p.session_participant_id)}
        who = {"session_id": session.session_id, "study_code": p.study_code,
               "display_name": p.display_name,
               **_label(links, session.session_id, p.study_code)}
        for index in [*prescribed, *sorted(set(judged) - set(prescribed))]:
            a, planned = judged.get(index), prescribed.get(index)
            block = planned.block if planned is not None else None
            blocks = {"block_index": None, "target_pct": None, "achieved_by": None,
                      "bouts": None, "bouts_reached": None, "bout_peaks_pct": None}
            if block is not None:
                blocks.update(block_index=block.index, target_pct=block.target_min_pct,
                              achieved_by=block.achieved_by.value, bouts=block.repeat)
            if a is None:
                assert planned is not None
                _add(columns, **who, phase_index=index, phase_name=planned.name,
                     kind=planned.kind.value, target=planned.target.name.lower(),
                     start_s=planned.start_s, end_s=planned.end_s,
                     planned_s=planned.planned_s, ran_s=None, judged=False,
                     seconds_in_target=None, seconds_above_target=None,
                     seconds_below_target=None, seconds_no_data=None,
                     fraction_in_target_after_ramp=None, time_to_target_s=None,
                     peak_pct_hrmax=None, achieved=None, **blocks)
                continue
            if a.block_index is not None:
                peaks = list(a.bout_peaks_pct or [])
                blocks.update(block_index=a.block_index, target_pct=a.target_pct,
                              achieved_by=a.achieved_by, bout_peaks_pct=peaks,
                              bouts=blocks["bouts"] or len(peaks),
                              bouts_reached=bouts_reached(peaks, a.target_pct or 0.0))
            _add(columns, **who, phase_index=index, phase_name=a.phase_name,
                 kind=a.kind.value, target=_level_name(a.target_level), start_s=a.start_s,
                 end_s=a.end_s, planned_s=a.planned_s, ran_s=a.ran_s, judged=bool(a.judged),
                 seconds_in_target=a.seconds_in_target,
                 seconds_above_target=a.seconds_above_target,
                 seconds_below_target=a.seconds_below_target,
                 seconds_no_data=a.seconds_no_data,
                 fraction_in_target_after_ramp=a.fraction_in_target_after_ramp,
                 time_to_target_s=a.time_to_target_s, peak_pct_hrmax=a.peak_pct,
                 achieved=bool(a.achieved) if a.judged else None, **blocks)
    return _rows_table(schema, columns)


def _level_name(level: int) -> str | None:
    try:
        return Level(level).name.lower()
    except ValueError:
        return None
