"""Between the live session and the writer: turns what the engine finalised on a tick, the
strap status events, phase changes, alarms and interval results into writer records.

Runs on the consumer thread; it only builds records and hands them over (the writer does the
I/O on its own thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hiaim_monitor.engine.alarms import AlarmEvent
from hiaim_monitor.engine.codes import SampleFlag
from hiaim_monitor.engine.engine import ZoneEngine
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.samples import BatteryReading, SourceEvent, StrapStatus
from hiaim_monitor.storage.records import BeatRecord, EventRecord, FlagCorrection, SampleRecord
from hiaim_monitor.storage.schema import EventKind
from hiaim_monitor.storage.sessions import StoredSession
from hiaim_monitor.storage.writer import SessionWriter, WriterStatus

_NO_CONTACT = int(SampleFlag.NO_CONTACT)


class SessionRecorder:
    def __init__(self, writer: SessionWriter, stored: StoredSession, *,
                 start_mono_s: float) -> None:
        self.writer = writer
        self.stored = stored
        self.start_mono_s = start_mono_s
        self._by_strap: dict[str, int] = {}
        self._phase_index: int | None = None
        self._actions_stored = 0  # of engine.schedule.actions

    def bind(self, engine: ZoneEngine) -> None:
        """Learn which strap belongs to which stored session participant."""
        ids = self.stored.session_participant_ids
        self._by_strap = {p.p.strap_id: ids[p.p.participant_id] for p in engine.people}

    def _wall(self, t_s: float) -> datetime:
        return self.stored.started_utc + timedelta(seconds=t_s)

    def record(self, engine: ZoneEngine, batch: Sequence[SourceEvent],
               phase_index: int | None, phase_name: str | None) -> None:
        """Hand the writer everything this tick produced."""
        if not self._by_strap:
            self.bind(engine)
        ids = self.stored.session_participant_ids
        for final in engine.take_final():
            sp = ids[final.participant.participant_id]
            s = final.samples
            if len(s["t_s"]):
                self.writer.submit_samples(
                    SampleRecord(sp, t, self._wall(t), int(b), pct, int(lv), int(fl),
                                 SensorContact.NOT_DETECTED if fl & _NO_CONTACT
                                 else SensorContact.DETECTED)
                    for t, b, pct, lv, fl in zip(s["t_s"].tolist(), s["bpm"].tolist(),
                                                 s["pct"].tolist(), s["level"].tolist(),
                                                 s["flags"].tolist(), strict=True))
            if final.corrections:
                self.writer.submit_corrections(
                    FlagCorrection(sp, t, flags, level) for t, flags, level in final.corrections)
            b = final.beats
            if len(b["t_s"]):
                self.writer.submit_beats(
                    BeatRecord(sp, t, rr, int(fl))
                    for t, rr, fl in zip(b["t_s"].tolist(), b["rr_ms"].tolist(),
                                         b["flags"].tolist(), strict=True))
        for participant, result in engine.take_adherence():
            self.writer.submit_adherence(ids[participant.participant_id], result)
        for alarm in engine.alarms.new_events():
            self._alarm(alarm)
        for ev in batch:
            if isinstance(ev, StrapStatus | BatteryReading) and ev.strap_id in self._by_strap:
                t = ev.t_mono_s - self.start_mono_s
                detail = ({"state": str(ev.state), "detail": ev.detail}
                          if isinstance(ev, StrapStatus) else {"battery_pct": ev.level_pct})
                self.writer.submit_event(EventRecord(
                    EventKind.CONNECTION_CHANGE, t, self._wall(t), self._by_strap[ev.strap_id],
                    detail))
        actions = engine.schedule.actions
        for action in actions[self._actions_stored:]:
            # An operator action is a phase change of its own: the phase it applied to and
            # what was done, so the stored session explains every window that moved.
            self.writer.submit_event(EventRecord(
                EventKind.PHASE_CHANGE, action.t_s, self._wall(action.t_s), None,
                {"action": str(action.kind), **action.detail}))
        self._actions_stored = len(actions)
        if phase_index != self._phase_index:
            self._phase_index = phase_index
            t = engine.session_time()
            self.writer.submit_event(EventRecord(
                EventKind.PHASE_CHANGE, t, self._wall(t), None,
                {"phase_index": phase_index, "phase_name": phase_name}))

    def _alarm(self, alarm: AlarmEvent) -> None:
        ids = self.stored.session_participant_ids
        self.writer.submit_event(EventRecord(
            EventKind.ALARM_RAISED if alarm.raised else EventKind.ALARM_CLEARED,
            alarm.t_s, alarm.wall_utc, ids.get(alarm.participant_id),
            {"alarm": str(alarm.kind), "detail": alarm.detail}))

    def acknowledged(self, t_s: float, alarms: Sequence[tuple[str | None, str]]) -> None:
        """The operator acknowledged these (participant id or None, alarm kind) alarms."""
        ids = self.stored.session_participant_ids
        for participant_id, kind in alarms:
            sp = ids.get(participant_id) if participant_id is not None else None
            self.writer.submit_event(EventRecord(
                EventKind.ALARM_ACKNOWLEDGED, t_s, self._wall(t_s), sp, {"alarm": kind}))

    def noted(self, t_s: float, text: str, participant_id: str | None) -> None:
        """A note as the operator left it; the last one per participant is what counts."""
        ids = self.stored.session_participant_ids
        sp = ids.get(participant_id) if participant_id is not None else None
        self.writer.submit_event(EventRecord(EventKind.NOTE, t_s, self._wall(t_s), sp,
                                             {"text": text}))

    def status_changes(self) -> list[WriterStatus]:
        return self.writer.take_status_changes()
