"""The session tables a trial statistician wants, as two CSV files (header row, quoted as
RFC 4180, LF line ends, UTF-8, empty cell = missing, yes/no as 1/0 so every package reads
them as numbers).

``session-<id>_intervals.csv``: one row per participant and prescribed interval (a work
phase, or a block of short bouts as a whole), with its planned and ran seconds. Judged
intervals carry the stored adherence figures; one cut short before it ran the protocol's
min_judged_fraction has its figures but judged = 0 and an empty achieved; a prescribed
interval with no result (the session stopped first, or the data were
lost) still gets a row, with its planned times, judged = 0 and empty figures, so missing
data are explicit rather than absent. A block's row (``block_index`` set) is judged as a
whole: seconds_in_target is the time at or above ``target_pct`` over the block with its
rests, fraction_in_target_after_ramp that time over the block's running time, and
``bout_peaks_pct`` every bout's own peak as a JSON list (null: no trusted data in that
bout); ``bouts_reached`` counts the bouts whose peak reached target_pct.

``session-<id>_participants.csv``: one row per participant: time in each class and zone,
mean and peak bpm, samples and beats with artifact counts, and intervals achieved / judged /
prescribed. hrmax_bpm and hrmax_method are there only with ``with_hrmax``: an HRmax from an
age formula gives the participant's age back (Tanaka: age = (208 − HRmax) / 0.7), which a
pseudonymised data set should not carry unless it is asked for. Time is counted like the
live engine counts it (engine.adherence summarise_session): untrusted samples and lost
signal are "no data"; above_ceiling is high intensity too but has its own column.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Final

import numpy as np

from hiaim_monitor.engine.adherence import summarise_session
from hiaim_monitor.engine.blocks import Prescribed, prescribed_intervals, reached
from hiaim_monitor.engine.codes import UNTRUSTED, Level
from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import CSV_OPTIONS, ExportOptions, FileSet, iso_utc, num
from hiaim_monitor.storage.database import Database
from hiaim_monitor.storage.schema import PhaseAdherenceRow

SECONDS_DECIMALS: Final = 2
INTERVAL_COLUMNS: Final = (
    "session_id", "study_code", "display_name", "phase_index", "phase_name", "kind", "target",
    "start_s", "end_s", "planned_s", "ran_s", "judged", "seconds_in_target", "seconds_above_target",
    "seconds_below_target", "seconds_no_data", "fraction_in_target_after_ramp",
    "time_to_target_s", "peak_pct_hrmax", "achieved", "block_index", "target_pct",
    "achieved_by", "bouts", "bouts_reached", "bout_peaks_pct")
_LEVELS: Final = tuple(lv.name.lower() for lv in Level if lv is not Level.UNKNOWN)
_ZONES: Final = tuple(str(z) for z in range(6))
PARTICIPANT_COLUMNS: Final = (
    "session_id", "session_started_utc", "protocol", "site", "status", "simulated",
    "study_code",
    "display_name", "hrmax_bpm", "hrmax_method", "beta_blocker", "duration_s",
    *(f"seconds_{lv}" for lv in _LEVELS), "seconds_no_data",
    *(f"seconds_zone_{z}" for z in _ZONES), "mean_bpm", "peak_bpm", "samples",
    "samples_untrusted", "beats", "beats_flagged", "intervals_achieved", "intervals_judged",
    "intervals_prescribed")
_HRMAX_COLUMNS: Final = ("hrmax_bpm", "hrmax_method")


def export_summary(db: Database, session: data.ExportSession, files: FileSet,
                   options: ExportOptions) -> None:
    """The two session tables. ``omit_artifacts`` changes nothing here: the figures already
    leave untrusted samples out."""
    with_names = options.with_names
    prescribed = {p.index: p for p in prescribed_intervals(session.protocol)}
    with files.open(f"session-{session.session_id}_intervals.csv") as f_int, \
            files.open(f"session-{session.session_id}_participants.csv") as f_people:
        intervals = csv.writer(f_int, **CSV_OPTIONS)
        people = csv.writer(f_people, **CSV_OPTIONS)
        intervals.writerow(_columns(INTERVAL_COLUMNS, options))
        people.writerow(_columns(PARTICIPANT_COLUMNS, options))
        for p in session.participants:
            judged = {a.phase_index: a for a in data.adherence(db, p.session_participant_id)}
            who: list[Any] = [p.study_code, p.display_name] if with_names else [p.study_code]
            for index, planned in prescribed.items():
                intervals.writerow([session.session_id, *who, index,
                                    *_interval(judged.get(index), planned)])
            for extra in sorted(set(judged) - set(prescribed)):  # not in the stored protocol
                a = judged[extra]
                intervals.writerow([session.session_id, *who, extra, *_interval(a, None)])
            people.writerow([session.session_id, iso_utc(session.started_utc),
                             session.protocol.key, session.site, session.status.value,
                             int(session.simulated), *who,
                             *([num(p.hrmax_bpm, 1), p.hrmax_method.value]
                               if options.with_hrmax else []),
                             int(p.beta_blocker),
                             *_participant_figures(db, session, p, judged, len(prescribed))])


def _columns(columns: tuple[str, ...], options: ExportOptions) -> list[str]:
    return [c for c in columns if (options.with_names or c != "display_name")
            and (options.with_hrmax or c not in _HRMAX_COLUMNS)]


def _interval(a: PhaseAdherenceRow | None, planned: Prescribed | None) -> list[Any]:
    """The columns from phase_name on (``planned`` is None for a result the stored protocol
    does not prescribe)."""
    if a is None:
        assert planned is not None
        block = planned.block
        return [planned.name, planned.kind.value, planned.target.name.lower(),
                num(planned.start_s, 3), num(planned.end_s, 3), num(planned.planned_s, 3), "",
                0, *[""] * 8, *([block.index, num(block.target_min_pct, 2),
                                 block.achieved_by.value, block.repeat, "", ""]
                                if block is not None else [""] * 6)]
    s = SECONDS_DECIMALS
    return [a.phase_name, a.kind.value, _level_name(a.target_level), num(a.start_s, 3),
            num(a.end_s, 3), num(a.planned_s, 3), num(a.ran_s, 3), int(a.judged),
            num(a.seconds_in_target, s), num(a.seconds_above_target, s),
            num(a.seconds_below_target, s), num(a.seconds_no_data, s),
            num(a.fraction_in_target_after_ramp, 4), num(a.time_to_target_s, s),
            num(a.peak_pct, 2), int(a.achieved) if a.judged else "", *_block_cells(a, planned)]


def _block_cells(a: PhaseAdherenceRow, planned: Prescribed | None) -> list[Any]:
    if a.block_index is None:
        return [""] * 6
    peaks = list(a.bout_peaks_pct or [])
    target = a.target_pct if a.target_pct is not None else 0.0
    repeat = planned.block.repeat if planned is not None and planned.block else len(peaks)
    return [a.block_index, num(a.target_pct, 2), a.achieved_by or "", repeat,
            bouts_reached(peaks, target),
            json.dumps([None if p is None else round(p, 2) for p in peaks])]


def bouts_reached(peaks: list[float | None], target_pct: float) -> int:
    """How many bouts peaked at or above ``target_pct``."""
    return sum(1 for p in peaks if reached(p, target_pct))


def _level_name(level: int) -> str:
    try:
        return Level(level).name.lower()
    except ValueError:
        return ""


def _participant_figures(db: Database, session: data.ExportSession,
                         p: data.ExportParticipant, judged: dict[int, PhaseAdherenceRow],
                         prescribed: int) -> list[Any]:
    """The columns from duration_s on."""
    rows = data.samples(db, p.session_participant_id)
    t = np.array([r.t_s for r in rows], dtype=np.float64)
    bpm = np.array([r.bpm for r in rows], dtype=np.float64)
    pct = np.array([np.nan if r.pct_hrmax is None else r.pct_hrmax for r in rows],
                   dtype=np.float64)
    level = np.array([r.level for r in rows], dtype=np.int8)
    flags = np.array([r.flags for r in rows], dtype=np.int64)
    # As the live engine does: only the session's own time, [0, end).
    inside = (t >= 0) & (t < session.end_s)
    figures = summarise_session(t[inside], bpm[inside], pct[inside], level[inside],
                                end_s=session.end_s, adherence=[])
    beat_flags = [r.flags for r in data.beats(db, p.session_participant_id)]
    s = SECONDS_DECIMALS
    return [
        num(session.end_s, s),
        *(num(figures.seconds_in_level[lv], s) for lv in _LEVELS),
        num(figures.seconds_no_data, s),
        *(num(figures.seconds_in_zone[z], s) for z in _ZONES),
        num(figures.mean_bpm, 1), num(figures.peak_bpm, 0),
        len(rows), int(np.count_nonzero(flags & int(UNTRUSTED))),
        len(beat_flags), sum(1 for f in beat_flags if f),
        sum(1 for a in judged.values() if a.judged and a.achieved),
        sum(1 for a in judged.values() if a.judged), prescribed,
    ]
