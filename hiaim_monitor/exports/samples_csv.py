"""Per-participant sample CSV: one row per stored heart-rate sample, as the engine judged it.

Columns (header row; quoted as RFC 4180; LF line ends; UTF-8; empty cell = missing):
session_id, study_code, [display_name], wall_utc (ISO 8601, arrival), t_s (session clock),
phase_index and phase_name (the protocol phase the sample fell in, as the session ran it with
its pauses, skips and extensions; empty before the start and after the end; see
``phases``), bpm, pct_hrmax, class (below/intermediate/high/above_ceiling/unknown), zone
(0–5 of pct_hrmax, ZONE_EDGES_PCT), contact (as the strap sent it: detected/not_detected/
not_supported; sessions stored before schema 0008 said detected for a strap that cannot
sense contact), flags (names of SampleFlag bits joined by '|', empty when clean; "broadcast"
marks a heart rate heard in a Polar strap's advertisement, which carries no RR), energy_kj
(energy expended as the strap sent it, kJ since its last reset; empty when it sent none).
Columns are only ever added at the end, so a script reading them by position keeps working.
"""

from __future__ import annotations

import csv
from typing import Final

from hiaim_monitor.engine.classify import zone_of
from hiaim_monitor.engine.codes import SampleFlag
from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    CSV_OPTIONS,
    ExportOptions,
    FileSet,
    class_name,
    flag_names,
    is_artifact_sample,
    iso_utc,
    num,
    participant_stem,
)
from hiaim_monitor.exports.phases import phase_spans, span_at
from hiaim_monitor.storage.database import Database

COLUMNS: Final = ("session_id", "study_code", "display_name", "wall_utc", "t_s",
                  "phase_index", "phase_name", "bpm", "pct_hrmax", "class", "zone", "contact",
                  "flags", "energy_kj")


def export_samples_csv(db: Database, session: data.ExportSession, files: FileSet,
                       options: ExportOptions) -> None:
    """One ``session-<id>_<code>_samples.csv`` per participant."""
    with_names = options.with_names
    columns = [c for c in COLUMNS if with_names or c != "display_name"]
    spans = phase_spans(db, session)
    starts_s = [span.start_s for span in spans]
    for p in session.participants:
        stem = participant_stem(session.session_id, p.study_code,
                                p.display_name if with_names else None)
        with files.open(f"{stem}_samples.csv") as f:
            out = csv.writer(f, **CSV_OPTIONS)
            out.writerow(columns)
            for t_s, wall_utc, bpm, pct, level, flags, contact, energy_kj in data.samples(
                    db, p.session_participant_id):
                if options.omit_artifacts and is_artifact_sample(flags):
                    continue
                row = [session.session_id, p.study_code]
                if with_names:
                    row.append(p.display_name)
                span = span_at(spans, starts_s, t_s)
                row += [iso_utc(wall_utc), num(t_s, 3),
                        "" if span is None else span.index, "" if span is None else span.name,
                        bpm, num(pct, 2), class_name(level),
                        "" if pct is None else zone_of(pct), contact.value,
                        flag_names(flags, SampleFlag), "" if energy_kj is None else energy_kj]
                out.writerow(row)
