"""One stored session, read once for its report: the phases as they ran, and per participant
the heart-rate trace (decimated for plotting), the work intervals as the engine judged
them, time in target in work and in recovery (apart), events, and what the programme
recorded for that session (RPE, dose modification, early termination, adverse events).

Sample data are read with one query per participant (``exports.data.samples``); nothing
here re-judges an interval: the stored judgement is the one shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np

from hiaim_monitor import config
from hiaim_monitor.engine.adherence import outcome_of
from hiaim_monitor.engine.blocks import prescribed_intervals
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.intervals import sample_durations_s
from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import ExportError
from hiaim_monitor.exports.events import describe, event_kind, event_rows
from hiaim_monitor.exports.phases import PhaseSpan, phase_spans
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import PhaseKind
from hiaim_monitor.reports.common import ReportError, break_gaps, decimate
from hiaim_monitor.storage import programme_records, programmes
from hiaim_monitor.storage.database import Database
from hiaim_monitor.storage.programme_records import AdverseEventInfo
from hiaim_monitor.storage.schema import EventKind

# Events listed per participant (the rest, e.g. every battery reading, would drown them).
PARTICIPANT_EVENT_KINDS: Final = (EventKind.ALARM_RAISED, EventKind.NOTE)
SESSION_EVENT_KINDS: Final = ("operator-action", EventKind.GAP, EventKind.STORAGE)


@dataclass(frozen=True)
class IntervalLine:
    """One prescribed interval, a work phase or a block of short bouts as a whole: the
    stored result, or none (never judged). For a block, seconds_in_target is the time at
    or above its target over the whole block, rests included."""

    phase_index: int
    name: str  # a block's with its repeats: "Sprints 15 × 20/20 s"
    kind: PhaseKind
    planned_s: float
    ran_s: float | None
    seconds_in_target: float | None
    peak_pct: float | None
    achieved: bool | None  # None: not judged (cut short) or no result stored
    block_index: int | None = None  # a block of short bouts judged as a whole
    target_pct: float | None = None  # the block's target_min_pct
    bout_peaks_pct: tuple[float | None, ...] = ()

    @property
    def outcome(self) -> str:
        return outcome_of(self.achieved is not None, self.achieved)


@dataclass(frozen=True)
class EventLine:
    t_s: float
    kind: str
    text: str
    study_code: str = ""


@dataclass(frozen=True)
class ParticipantReport:
    study_code: str
    hrmax_bpm: float
    hrmax_method: str
    beta_blocker: bool
    trace_t_s: np.ndarray  # decimated, NaN where no trusted value
    trace_pct: np.ndarray
    samples: int
    intervals: tuple[IntervalLine, ...]
    work_in_target_s: float
    work_planned_s: float
    recovery_in_band_s: float
    recovery_s: float  # recovery phases as they ran
    peak_pct: float | None
    mean_bpm: float | None
    events: tuple[EventLine, ...]
    programme: tuple[str, int, int] | None = None  # (name, week, number in week)
    rpe_session: int | None = None
    rpe_by_phase: tuple[tuple[int, int], ...] = ()  # (phase index, Borg)
    dose_modification: str | None = None
    early_termination: str | None = None
    adverse_events: tuple[AdverseEventInfo, ...] = ()

    @property
    def achieved(self) -> int:
        return sum(1 for i in self.intervals if i.achieved)


@dataclass(frozen=True)
class SessionReport:
    session: data.ExportSession
    spans: tuple[PhaseSpan, ...]
    people: tuple[ParticipantReport, ...]
    events: tuple[EventLine, ...] = field(default=())  # about the whole session


def load_session_report(db: Database, session_id: int) -> SessionReport:
    """Everything the session report shows; ReportError for a session that is not there."""
    try:
        session = data.load_session(db, session_id)
    except ExportError:
        raise ReportError(tr("There is no session {id} in {db}; `sessions list` shows the "
                             "sessions there are.").format(id=session_id, db=db.name)) from None
    spans = tuple(phase_spans(db, session))
    who = {p.session_participant_id: p.study_code for p in session.participants}
    by_person: dict[int, list[EventLine]] = {}
    whole: list[EventLine] = []
    for _wall, t_s, kind, sp_id, detail in event_rows(db, session):
        detail = detail if isinstance(detail, dict) else {}
        name = event_kind(kind, detail)
        line = EventLine(float(t_s), name, describe(kind, detail), who.get(sp_id, ""))
        if sp_id is not None and kind in PARTICIPANT_EVENT_KINDS:
            by_person.setdefault(sp_id, []).append(line)
        elif sp_id is None and name in SESSION_EVENT_KINDS:
            whole.append(line)
    people = tuple(_participant(db, session, spans, p, tuple(by_person.get(
        p.session_participant_id, ()))) for p in session.participants)
    return SessionReport(session, spans, people, tuple(whole))


def _participant(db: Database, session: data.ExportSession, spans: tuple[PhaseSpan, ...],
                 p: data.ExportParticipant, events: tuple[EventLine, ...]) -> ParticipantReport:
    rows = data.samples(db, p.session_participant_id)
    t = np.fromiter((r.t_s for r in rows), dtype=np.float64, count=len(rows))
    bpm = np.fromiter((r.bpm for r in rows), dtype=np.float64, count=len(rows))
    pct = np.fromiter((np.nan if r.pct_hrmax is None else r.pct_hrmax for r in rows),
                      dtype=np.float64, count=len(rows))
    level = np.fromiter((r.level for r in rows), dtype=np.int64, count=len(rows))
    inside = (t >= 0) & (t < (session.end_s if session.end_s > 0 else np.inf))
    t, bpm, pct, level = t[inside], bpm[inside], pct[inside], level[inside]
    trusted = (level >= Level.BELOW) & np.isfinite(pct)
    shown = np.where(trusted, pct, np.nan)
    dec_t, dec_pct = decimate(t, shown)
    dec_t, dec_pct = break_gaps(dec_t, dec_pct, 2 * config.MAX_CREDIT_GAP_S)

    judged = {a.phase_index: a for a in data.adherence(db, p.session_participant_id)}
    intervals = []
    for i in prescribed_intervals(session.protocol):
        a = judged.get(i.index)
        name = (session.protocol.phases[i.index].display_name if i.block is None
                else i.display_name)
        block = ({} if i.block is None else
                 {"block_index": i.block.index, "target_pct": i.block.target_min_pct})
        if a is None:
            intervals.append(IntervalLine(i.index, name, i.kind, i.planned_s, None, None,
                                          None, None, **block))
        else:
            if a.block_index is not None:
                block = {"block_index": a.block_index, "target_pct": a.target_pct,
                         "bout_peaks_pct": tuple(a.bout_peaks_pct or ())}
            intervals.append(IntervalLine(
                i.index, name, i.kind, a.planned_s or i.planned_s, a.ran_s,
                a.seconds_in_target, a.peak_pct, bool(a.achieved) if a.judged else None,
                **block))
    work_in = sum(i.seconds_in_target or 0.0 for i in intervals)
    work_planned = sum(i.planned_s for i in intervals)

    # Recovery: time with heart rate back within the phase's band (Compliance keeps this
    # apart from the work figure: it means something else).
    dur = sample_durations_s(t, session.end_s) if t.size else np.empty(0)
    ceiling = session.protocol.thresholds.ceiling_pct
    rec_in, rec_s = 0.0, 0.0
    for span in spans:
        phase = session.protocol.phases[span.index]
        # A block's pauses are part of the block, judged with it: not a recovery.
        if span.kind is not PhaseKind.RECOVERY or phase.block is not None:
            continue
        rec_s += span.running_s
        top = phase.target_max_pct if phase.target_max_pct is not None else ceiling
        # Each sample holds its value for its duration (as the engine counts time): the
        # part of that hold inside the span counts.
        band = trusted & (pct >= phase.target_min_pct) & (pct <= top)
        held = (np.minimum(t[band] + dur[band], span.end_s)
                - np.maximum(t[band], span.start_s))
        rec_in += float(np.clip(held, 0.0, None).sum())

    peak = float(np.nanmax(shown)) if np.isfinite(shown).any() else None
    ok_bpm = bpm[trusted]
    mean_bpm = (float(np.average(ok_bpm, weights=dur[trusted]))
                if ok_bpm.size and dur[trusted].sum() > 0 else
                (float(ok_bpm.mean()) if ok_bpm.size else None))
    base = ParticipantReport(
        p.study_code, p.hrmax_bpm, p.hrmax_method.value, p.beta_blocker, dec_t, dec_pct,
        len(rows), tuple(intervals), work_in, work_planned, rec_in, rec_s, peak, mean_bpm,
        events)
    return _with_programme(db, session.session_id, base)


def _with_programme(db: Database, session_id: int, p: ParticipantReport) -> ParticipantReport:
    """What the programme recorded for the planned session this one was linked to."""
    link = programmes.planned_session_of(db, session_id, p.study_code)
    if link is None:
        return p
    name, week, number = link

    def here(rows: list) -> list:
        return [r for r in rows if (r.week, r.number) == (week, number)]

    ratings = here(programme_records.list_rpe(db, name, p.study_code))
    doses = here(programme_records.list_dose_modifications(db, name, p.study_code))
    ends = here(programme_records.list_early_terminations(db, name, p.study_code))
    events = here(programme_records.list_adverse_events(db, name, p.study_code))
    return replace(
        p, programme=link,
        rpe_session=next((r.borg for r in ratings if r.phase_index is None), None),
        rpe_by_phase=tuple(sorted((r.phase_index, r.borg) for r in ratings
                                  if r.phase_index is not None)),
        dose_modification=doses[-1].modification.value if doses else None,
        early_termination=ends[0].reason if ends else None,
        adverse_events=tuple(events))
