"""Between the live session and the writer: what one tick made final (``TickOutput``) becomes
writer records, as it is. Times, contact status, energy, phases and alarms come from the
output; nothing is re-derived here, only matched to the session's keys in the store.

Runs on the consumer thread; it only builds records and hands them over (the writer does the
I/O on its own thread).
"""

from __future__ import annotations

from typing import Any

from hiaim_monitor.engine.alarms import AlarmEvent
from hiaim_monitor.engine.output import Acknowledgement, Note, OperatorEntry, TickOutput
from hiaim_monitor.samples import StrapStatus
from hiaim_monitor.storage.records import BeatRecord, EventRecord, FlagCorrection, SampleRecord
from hiaim_monitor.storage.schema import EventKind
from hiaim_monitor.storage.sessions import StoredSession
from hiaim_monitor.storage.writer import SessionWriter


class SessionRecorder:
    def __init__(self, writer: SessionWriter, stored: StoredSession) -> None:
        self.writer = writer
        self.stored = stored

    def record(self, out: TickOutput) -> None:
        """Hand the writer everything ``out`` holds."""
        ids = self.stored.session_participant_ids
        writer = self.writer
        for rows in out.rows:
            sp = ids[rows.study_code]
            # A record is the session participant's key followed by the output's own row,
            # field for field.
            writer.submit_samples(SampleRecord(sp, *sample) for sample in rows.sample_rows())
            if rows.corrections:
                writer.submit_corrections(FlagCorrection(sp, *c) for c in rows.corrections)
            writer.submit_beats(BeatRecord(sp, *beat) for beat in rows.beat_rows())
        for study_code, result in out.adherence:
            writer.submit_adherence(ids[study_code], result)
        for alarm in out.alarms:
            self._alarm(alarm)
        for report in out.strap_reports:
            ev = report.report
            detail = ({"state": str(ev.state), "detail": ev.detail}
                      if isinstance(ev, StrapStatus) else {"battery_pct": ev.level_pct})
            writer.submit_event(EventRecord(EventKind.CONNECTION_CHANGE, report.t_s,
                                            report.wall_utc, ids[report.study_code],
                                            detail))
        for entry in out.operator:
            writer.submit_event(self._operator(entry))
        change = out.phase_change
        if change is not None:
            writer.submit_event(EventRecord(
                EventKind.PHASE_CHANGE, change.t_s, change.wall_utc, None,
                {"phase_index": change.index, "phase_name": change.name}))

    def _alarm(self, alarm: AlarmEvent) -> None:
        ids = self.stored.session_participant_ids
        self.writer.submit_event(EventRecord(
            EventKind.ALARM_RAISED if alarm.raised else EventKind.ALARM_CLEARED,
            alarm.t_s, alarm.wall_utc, ids.get(alarm.study_code),
            {"alarm": str(alarm.kind), "detail": alarm.detail}))

    def _operator(self, entry: OperatorEntry) -> EventRecord:
        ids = self.stored.session_participant_ids
        if isinstance(entry, Acknowledgement | Note):
            sp = ids.get(entry.study_code) if entry.study_code is not None else None
            if isinstance(entry, Acknowledgement):
                return EventRecord(EventKind.ALARM_ACKNOWLEDGED, entry.t_s, entry.wall_utc, sp,
                                   {"alarm": entry.alarm})
            # The last note per participant is what counts.
            return EventRecord(EventKind.NOTE, entry.t_s, entry.wall_utc, sp,
                               {"text": entry.text})
        # An operator action is a phase change of its own: the phase it applied to and
        # what was done, so the stored session explains every window that moved.
        detail: dict[str, Any] = {"action": str(entry.action), **entry.detail}
        return EventRecord(EventKind.PHASE_CHANGE, entry.t_s, entry.wall_utc, None, detail)
