"""What the consumer thread hands the session writer: one plain tuple per row.

Built from what the zone engine made final (``engine.output``: each sample with its arrival
time, contact status and energy as sent; each beat), plus the participant's key in the
session store. Cheap to make on the hot path; the writer thread turns them into table rows.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, NamedTuple

from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.storage.schema import EventKind


class SampleRecord(NamedTuple):
    session_participant_id: int
    t_s: float  # session clock
    wall_utc: datetime  # arrival as the driver stamped it, aware UTC
    bpm: int
    pct_hrmax: float | None  # NaN or None: implausible heart rate, no percentage
    level: int  # engine.codes.Level
    flags: int  # engine.codes.SampleFlag bits
    contact: SensorContact = SensorContact.NOT_SUPPORTED  # as the strap sent it
    energy_kj: int | None = None  # energy expended as the strap sent it; None: not sent


class BeatRecord(NamedTuple):
    session_participant_id: int
    t_s: float  # beat time rebuilt from RR, session clock
    rr_ms: float
    flags: int  # engine.codes.BeatFlag bits


class EventRecord(NamedTuple):
    kind: EventKind
    t_s: float  # session clock
    wall_utc: datetime  # aware UTC
    session_participant_id: int | None = None  # None: about the whole session
    detail: dict[str, Any] | None = None  # JSON-able


class AdherenceRecord(NamedTuple):
    session_participant_id: int
    adherence: PhaseAdherence


class FlagCorrection(NamedTuple):
    """A sample stored earlier gets new flags and level (a jump it was part of was
    confirmed); the sample is found by participant and session time."""

    session_participant_id: int
    t_s: float
    flags: int  # engine.codes.SampleFlag bits
    level: int  # engine.codes.Level


def sample_row(r: SampleRecord) -> dict[str, Any]:
    """The samples-table row for ``r``."""
    pct = r.pct_hrmax
    return {
        "session_participant_id": r.session_participant_id, "t_s": float(r.t_s),
        "wall_utc": r.wall_utc, "bpm": int(r.bpm),
        # SQLite cannot hold NaN (it would become NULL anyway); say so explicitly.
        "pct_hrmax": None if pct is None or math.isnan(pct) else float(pct),
        "level": int(r.level), "flags": int(r.flags), "contact": r.contact,
        "energy_kj": None if r.energy_kj is None else int(r.energy_kj),
    }


def beat_row(r: BeatRecord) -> dict[str, Any]:
    """The rr_intervals-table row for ``r``."""
    return {"session_participant_id": r.session_participant_id, "t_s": float(r.t_s),
            "rr_ms": float(r.rr_ms), "flags": int(r.flags)}


def event_row(r: EventRecord, session_id: int) -> dict[str, Any]:
    """The events-table row for ``r`` in session ``session_id``."""
    return {"session_id": session_id, "session_participant_id": r.session_participant_id,
            "t_s": float(r.t_s), "wall_utc": r.wall_utc, "kind": r.kind,
            "detail": dict(r.detail or {})}


def adherence_row(r: AdherenceRecord) -> dict[str, Any]:
    """The phase_adherence-table row for ``r``."""
    a = r.adherence
    return {
        "session_participant_id": r.session_participant_id,
        # The column holds 100 characters (PostgreSQL refuses more): a long block name with
        # its repeats is cut, never the row lost.
        "phase_index": a.phase_index, "phase_name": a.phase_name[:100], "kind": a.kind,
        "start_s": a.start_s, "end_s": a.end_s, "target_level": int(a.target),
        "seconds_in_target": a.seconds_in_target,
        "seconds_above_target": a.seconds_above_target,
        "seconds_below_target": a.seconds_below_target,
        "seconds_no_data": a.seconds_no_data,
        "fraction_in_target_after_ramp": a.fraction_in_target_after_ramp,
        "time_to_target_s": a.time_to_target_s, "peak_pct": a.peak_pct,
        "achieved": a.achieved, "planned_s": a.planned_s, "ran_s": a.ran_s,
        "judged": a.judged, **_block_columns(a),
    }


def _block_columns(a: PhaseAdherence) -> dict[str, Any]:
    # getattr: a result kept in a spill file by a version before blocks lacks these.
    block_index = getattr(a, "block_index", None)
    if block_index is None:
        return {"block_index": None, "target_pct": None, "achieved_by": None,
                "bout_peaks_pct": None}
    return {"block_index": block_index, "target_pct": a.target_pct,
            "achieved_by": a.achieved_by, "bout_peaks_pct": list(a.bout_peaks_pct)}


def correction_row(r: FlagCorrection) -> dict[str, Any]:
    """Bind values of the UPDATE that applies ``r`` (names differ from the columns', as
    SQLAlchemy reserves those for the SET clause)."""
    return {"b_sp": r.session_participant_id, "b_t_s": float(r.t_s),
            "b_flags": int(r.flags), "b_level": int(r.level)}
