"""Per-participant RR intervals for HRV tools (Kubios HRV, RHRV, ...).

``session-<id>_<code>_rr.txt``: one RR interval per line in milliseconds with three
decimals, oldest first, nothing else: no header, no comment. Kubios HRV imports a plain text
column of RR intervals (seconds or milliseconds; Kubios HRV User's Guide, "Supported data
formats"), RHRV's LoadBeatRR reads bare values (scale = 0.001 for ms); a comment line is not
something every tool skips, so the file stays bare and the flags go to a sidecar.

``session-<id>_<code>_rr_flags.txt``: CSV (header row, LF line ends) with every stored beat:
line (its line number in the _rr.txt file, empty when --omit-artifacts left it out), t_s
(beat time, session clock), rr_ms, flags (BeatFlag names joined by '|', empty when clean).
Gaps in the signal show in t_s; the bare RR list cannot say where they are.
"""

from __future__ import annotations

import csv
from typing import Final

from hiaim_monitor.engine.codes import BeatFlag
from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    CSV_OPTIONS,
    ExportOptions,
    FileSet,
    flag_names,
    num,
    participant_stem,
)
from hiaim_monitor.storage.database import Database

RR_DECIMALS: Final = 3  # strap RR values are in 1/1024 s: 0.001 ms keeps them exact enough
FLAG_COLUMNS: Final = ("line", "t_s", "rr_ms", "flags")


def export_rr(db: Database, session: data.ExportSession, files: FileSet,
              options: ExportOptions) -> None:
    """Per participant, the RR file and its flags sidecar."""
    for p in session.participants:
        stem = participant_stem(session.session_id, p.study_code,
                                p.display_name if options.with_names else None)
        beats = data.beats(db, p.session_participant_id)
        with files.open(f"{stem}_rr.txt") as rr_file, \
                files.open(f"{stem}_rr_flags.txt") as flags_file:
            sidecar = csv.writer(flags_file, **CSV_OPTIONS)
            sidecar.writerow(FLAG_COLUMNS)
            line = 0
            for t_s, rr_ms, flags in beats:
                kept = not (options.omit_artifacts and flags)
                if kept:
                    line += 1
                    rr_file.write(f"{num(rr_ms, RR_DECIMALS)}\n")
                sidecar.writerow([line if kept else "", num(t_s, 3), num(rr_ms, RR_DECIMALS),
                                  flag_names(flags, BeatFlag)])
