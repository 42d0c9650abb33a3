"""Per-participant sample CSV: one row per stored heart-rate sample, as the engine judged it.

Columns (header row; RFC 4180; UTF-8; empty cell = missing):
session_id, study_code, [display_name], wall_utc (ISO 8601, arrival), t_s (session clock),
bpm, pct_hrmax, class (below/intermediate/high/above_ceiling/unknown), zone (0–5 of
pct_hrmax, ZONE_EDGES_PCT), contact (detected/not_detected/not_supported), flags (names of
SampleFlag bits joined by '|', empty when clean).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Final

from hiaim_monitor.engine.classify import zone_of
from hiaim_monitor.engine.codes import SampleFlag
from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    CSV_OPTIONS,
    atomic_file,
    class_name,
    flag_names,
    is_artifact_sample,
    iso_utc,
    num,
    participant_stem,
)
from hiaim_monitor.storage.database import Database

COLUMNS: Final = ("session_id", "study_code", "display_name", "wall_utc", "t_s", "bpm",
                  "pct_hrmax", "class", "zone", "contact", "flags")


def export_samples_csv(db: Database, session: data.ExportSession, out_dir: Path, *,
                       with_names: bool, omit_artifacts: bool) -> list[Path]:
    """One ``session-<id>_<code>_samples.csv`` per participant."""
    columns = [c for c in COLUMNS if with_names or c != "display_name"]
    written = []
    for p in session.participants:
        stem = participant_stem(session.session_id, p.study_code,
                                p.display_name if with_names else None)
        path = out_dir / f"{stem}_samples.csv"
        with atomic_file(path) as f:
            out = csv.writer(f, **CSV_OPTIONS)
            out.writerow(columns)
            for t_s, wall_utc, bpm, pct, level, flags, contact in data.samples(
                    db, p.session_participant_id):
                if omit_artifacts and is_artifact_sample(flags):
                    continue
                row = [session.session_id, p.study_code]
                if with_names:
                    row.append(p.display_name)
                row += [iso_utc(wall_utc), num(t_s, 3), bpm, num(pct, 2), class_name(level),
                        "" if pct is None else zone_of(pct), contact.value,
                        flag_names(flags, SampleFlag)]
                out.writerow(row)
        written.append(path)
    return written
