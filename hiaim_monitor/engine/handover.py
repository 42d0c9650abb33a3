"""The engine's side of the hand-over to storage: each row, interval result, alarm event and
operator action goes out exactly once, in the next ``TickOutput``."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from hiaim_monitor.engine.output import (
    Correction,
    OperatorEntry,
    ParticipantRows,
    PhaseChange,
    PlanChange,
    StrapReport,
    TickColumns,
    TickOutput,
)
from hiaim_monitor.engine.state import NOTHING_TAKEN

if TYPE_CHECKING:
    from hiaim_monitor.engine.engine import ZoneEngine


class Handover:
    def __init__(self, engine: ZoneEngine) -> None:
        self.engine = engine
        self.operator: list[OperatorEntry] = []  # logged since the last output
        self._actions_handed = 0  # of the schedule's actions
        self._phase_handed: int | None = None  # the phase index the last phase change named

    def output(self, reports: tuple[StrapReport, ...] = (), taken: TickColumns | None = None,
               *, over: bool = False) -> TickOutput:
        """Everything not handed out yet: the rows ``taken`` in this tick, ``reports``, and
        a change of the phase running (``over``: the session has ended, whatever the
        schedule says)."""
        engine = self.engine
        phase = None if over else self._phase_now()
        adherence = []
        for person in engine.people:
            if len(person.adherence) > person.handed_adherence:
                adherence.extend((person.p.study_code, result)
                                 for result in person.adherence[person.handed_adherence:])
                person.handed_adherence = len(person.adherence)
        change = None
        if phase != self._phase_handed:
            self._phase_handed = phase
            t = engine.session_time()
            change = PhaseChange(t, engine.wall_at(t), phase,
                                 None if phase is None else engine.protocol.phases[phase].name)
        return TickOutput(self._final_rows(taken), tuple(adherence),
                          tuple(engine.alarms.new_events()), reports, self._operator_entries(),
                          change)

    def _phase_now(self) -> int | None:
        """The index of the phase running now; None before the start or once over."""
        engine = self.engine
        i = engine.schedule.index_at(max(0.0, engine.session_time()))
        return i if 0 <= i < len(engine.protocol.phases) else None

    def _final_rows(self, taken: TickColumns | None) -> tuple[ParticipantRows, ...]:
        """Samples and beats of this tick, per participant. Nothing is held back, so a
        crash loses only what storage had not committed yet: a sample of a jump still
        awaiting confirmation goes out flagged UNCONFIRMED_JUMP, and when later samples
        confirm the jump, its new flags and level follow as ``corrections``."""
        engine = self.engine
        out = []
        # Ingest sorts by participant, so each one's entries follow the previous one's.
        sample_at = beat_at = 0
        for person in engine.people:
            n_samples = len(person.batch_idx) if taken is not None else 0
            n_beats = person.beats - person.handed_beats
            if not (n_samples or n_beats or person.corrections):
                continue
            # From here a confirmed jump corrects what storage has (every sample is in the
            # ring, so the ring holds person.samples ever written).
            person.handed_samples = person.samples
            person.handed_beats = person.beats
            corrections: tuple[Correction, ...] = ()
            if person.corrections:
                corrections, person.corrections = tuple(person.corrections), []
            out.append(ParticipantRows(
                person.p.study_code, taken or NOTHING_TAKEN,
                slice(sample_at, sample_at + n_samples), slice(beat_at, beat_at + n_beats),
                corrections))
            sample_at += n_samples
            beat_at += n_beats
        return tuple(out)

    def _operator_entries(self) -> tuple[OperatorEntry, ...]:
        """The schedule's actions since the last output and what the operator logged, in
        time order (an action before a note of the same moment)."""
        engine = self.engine
        actions = engine.schedule.actions
        entries: list[OperatorEntry] = [
            PlanChange(a.t_s, engine.wall_at(a.t_s), a.kind, MappingProxyType(dict(a.detail)))
            for a in actions[self._actions_handed:]]
        self._actions_handed = len(actions)
        if self.operator:
            entries.extend(self.operator)
            self.operator = []
            entries.sort(key=lambda entry: entry.t_s)
        return tuple(entries)
