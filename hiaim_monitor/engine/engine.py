"""The zone engine: per participant, in real time, the intensity class, the signal state,
the intervals done and the alarms, over fixed-size numpy ring buffers.

Owned by one thread (the consumer's); no locks. ``ingest`` takes everything drained from
the sensor queue since the last tick and returns what became final as one immutable value
(``output.TickOutput``); ``snapshot`` hands out an immutable view. The alarm rules live in
``alarms``; the per-sample path here calls them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from hiaim_monitor import config
from hiaim_monitor.clock import Clock
from hiaim_monitor.engine.adherence import in_target, target_of
from hiaim_monitor.engine.alarms import AlarmBoard, AlarmKind, AlarmRules
from hiaim_monitor.engine.blocks import JudgedSpan, SpanCollector, judge_span, shown_peak_pct
from hiaim_monitor.engine.codes import PLAUSIBLE_BPM, Level
from hiaim_monitor.engine.handover import Handover
from hiaim_monitor.engine.output import (
    Correction,
    OperatorEntry,
    StrapReport,
    TickOutput,
)
from hiaim_monitor.engine.report import participant_report
from hiaim_monitor.engine.ringbuffer import RingTable
from hiaim_monitor.engine.snapshot import ParticipantView, SessionSnapshot, SignalState
from hiaim_monitor.engine.state import (
    BEAT_COLUMNS,
    BROADCAST,
    JUMP,
    MALFORMED,
    NO_CONTACT,
    SAMPLE_COLUMNS,
    UNKNOWN,
    UNTRUSTED_BITS,
    Columns,
    EngineConfig,
    Person,
)
from hiaim_monitor.engine.views import recent_trace, shown_numbers, signal_of
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    PacketDropped,
    RadioNotice,
    SourceEvent,
    StrapStatus,
)
from hiaim_monitor.schedule import PhaseWindow, SessionSchedule


class ZoneEngine:
    """Phase timing comes from a ``SessionSchedule`` (one following the protocol unless one
    is passed in), so operator actions move phases, judging and the session's end.

    ``duration_s``, when given, caps the session (a short demo run); otherwise the session
    lasts as long as the schedule says.
    """

    def __init__(self, protocol: TrainingProtocol, participants: Sequence[Participant],
                 clock: Clock, *, start_mono_s: float, duration_s: float | None = None,
                 cfg: EngineConfig | None = None,
                 schedule: SessionSchedule | None = None) -> None:
        self.protocol = protocol
        if schedule is not None and schedule.protocol != protocol:
            raise ValueError("the schedule passed to the engine follows another protocol; "
                             "build it from the engine's protocol.")
        self.schedule = schedule or SessionSchedule(protocol)
        self.duration_cap_s = duration_s
        self.clock = clock
        self.start_mono_s = start_mono_s
        self.cfg = cfg or EngineConfig()
        self.people = [Person(i, p, protocol, self.cfg) for i, p in enumerate(participants)]
        self.alarms = AlarmBoard()
        self.rules = AlarmRules(self.alarms, self.cfg)
        for person in self.people:
            person.active_alarms = self.alarms.active.setdefault(person.p.study_code, set())
        self._by_strap = {strap_id: person for person in self.people
                          for strap_id in person.p.strap_ids}
        if len(self._by_strap) != sum(len(person.p.strap_ids) for person in self.people):
            raise ValueError("two participants share one strap")
        n = max(1, len(self.people))
        self.samples = RingTable(n, self.cfg.capacity_samples, SAMPLE_COLUMNS)
        self.beats = RingTable(n, self.cfg.capacity_samples, BEAT_COLUMNS)
        self.unknown_events = 0
        self._next_judged = 0  # index of the next phase whose end has not been judged
        self._spans = SpanCollector(protocol)  # gathers a block's phases until it ends
        self.handover = Handover(self)
        # (lo_s, hi_s, index, target, schedule version) of the last _phase_of answer
        self._phase_cache: tuple[float, float, int, Level | None, int] = (
            0.0, 0.0, -1, None, -1)
        self._planned_cache: tuple[int, tuple[float, ...]] = (-1, ())

    # -- time ---------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        """The session's length as planned now: the schedule's end, or the cap if sooner
        (math.inf while paused without a cap)."""
        end_s = self.schedule.end_s
        return end_s if self.duration_cap_s is None else min(end_s, self.duration_cap_s)

    def session_time(self, mono_s: float | None = None) -> float:
        return (self.clock.monotonic() if mono_s is None else mono_s) - self.start_mono_s

    def finished_at(self, t_s: float) -> bool:
        return t_s >= self.duration_s

    def wall_at(self, t_s: float) -> datetime:
        """Wall time of session time ``t_s``, for what has no arrival stamp of its own."""
        return self.clock.now_utc() - timedelta(seconds=self.session_time() - t_s)

    # -- ingest -------------------------------------------------------------------------
    def ingest(self, batch: Iterable[SourceEvent]) -> TickOutput:
        """Take every event drained since the last tick, in any order; return what became
        final (nothing is held back, see ``handover``)."""
        samples: list[tuple[int, float, HeartRateSample]] = []
        reports: list[StrapReport] = []
        by_strap = self._by_strap
        for ev in batch:
            person = by_strap.get(ev.strap_id)
            if person is None:
                if type(ev) is not RadioNotice:  # a radio's, nobody's
                    self.unknown_events += 1
            elif type(ev) is HeartRateSample:
                if ev.strap_id != person.via and not self._switch_radio(person, ev):
                    person.duplicates += 1  # the same beats, heard by the other radio
                    continue
                person.via_t = max(person.via_t, ev.t_mono_s)
                samples.append((person.row, ev.t_mono_s, ev))
            elif isinstance(ev, PacketDropped):
                person.dropped += 1
            elif isinstance(ev, BatteryReading | StrapStatus):
                t = ev.t_mono_s - self.start_mono_s
                wall = self.wall_at(t)
                if isinstance(ev, BatteryReading):
                    person.battery = ev.level_pct
                    self.rules.battery(person, ev.level_pct, t, wall)
                else:
                    person.statuses[ev.strap_id] = (ev.state, ev.note)
                    if person.via in (None, ev.strap_id):
                        person.strap_state, person.strap_note = ev.state, ev.note
                reports.append(StrapReport(person.p.study_code, t, wall, ev))
        # Per participant in time order, so the order within a tick does not matter.
        samples.sort(key=lambda item: (item[0], item[1]))
        out = Columns()
        people = self.people
        for person in people:
            person.batch_idx.clear()
        for row, _, s in samples:
            self._sample(people[row], s, out)
        taken = out.arrays()
        self.samples.append(taken.sample_rows, taken.samples)
        self.beats.append(taken.beat_rows, taken.beats)
        self._update_time_alarms()
        self._judge_finished_phases()
        return self.handover.output(tuple(reports), taken)

    def _switch_radio(self, person: Person, ev: HeartRateSample) -> bool:
        """Whether ``ev``, from another of the participant's strap ids than the one in use,
        is taken: only when none is in use yet or that one has gone silent. Then the id in
        use becomes ``ev``'s, and so does the status shown."""
        if person.via is not None and ev.t_mono_s - person.via_t < self.cfg.radio_switch_after_s:
            return False
        person.via, person.via_t = ev.strap_id, ev.t_mono_s
        if ev.strap_id in person.statuses:
            person.strap_state, person.strap_note = person.statuses[ev.strap_id]
        return True

    def _sample(self, person: Person, s: HeartRateSample, out: Columns) -> None:
        """The per-sample path: plain floats and ints, no numpy, no enum arithmetic."""
        cfg = self.cfg
        t = s.t_mono_s - self.start_mono_s
        if person.last_t is not None and t - person.last_t > cfg.lost_after_s:
            # After a signal loss, old history says nothing about now.
            person.jump.reset()
            person.rr.reset()
            person.smoother.reset()
            person.classifier.reset()
            person.last_beat_t = None
        person.samples += 1
        person.last_t = t
        if person.usable_t is None:
            person.usable_t = t
        bpm = float(s.bpm)
        flags = MALFORMED if s.malformed_tail else 0
        person.no_rr = s.broadcast
        if s.broadcast:
            flags |= BROADCAST
        # The alarm rules are called only where an alarm can change: most samples change none.
        rules, wall, active = self.rules, s.wall_utc, person.active_alarms
        person.contact_ok = s.contact.counts
        if not person.contact_ok:
            flags |= NO_CONTACT
            rules.off_skin(person, t, wall)
        else:
            if person.no_contact_since is not None or AlarmKind.NO_CONTACT in active:
                rules.on_skin(person, t, wall)
            verdict = person.jump.check(bpm, t)
            if verdict.flag:
                flags |= int(verdict.flag)
            if verdict.cleared_previous:
                self._clear_jump_flags(person, verdict.cleared_previous, out)
        level = UNKNOWN
        if flags & UNTRUSTED_BITS:
            ok = PLAUSIBLE_BPM[0] <= bpm <= PLAUSIBLE_BPM[1]
            pct = person.p.intensity_pct(bpm, reserve=cfg.heart_rate_reserve) if ok else math.nan
        else:
            if t - person.usable_t > cfg.lost_after_s:
                # Back after a loss of usable signal: the old class says nothing about now.
                person.smoother.reset()
                person.classifier.reset()
            person.usable_t = t
            smooth = person.smoother.update(bpm, t)
            pct = person.p.intensity_pct(smooth, reserve=cfg.heart_rate_reserve)
            level = int(person.classifier.update(pct, t))
            # Views show the smoothed value the class came from, not the raw sample.
            person.shown_bpm, person.shown_pct, person.shown_t = smooth, pct, t
            person.shown_level = level
            self._block_peak(person, t, pct)
            if pct >= person.ceiling_pct or person.ceiling_since is not None or (
                    AlarmKind.ABOVE_CEILING in active):
                rules.ceiling(person, pct, t, wall)
        if AlarmKind.SIGNAL_LOST in active:
            rules.signal_back(person, not flags & UNTRUSTED_BITS, t, wall)
        self._credit_phase(person, t, level)
        person.batch_idx.append(len(out.rows))
        out.rows.append(person.row)
        out.t_s.append(t)
        out.bpm.append(bpm)
        out.pct.append(pct)
        out.level.append(level)
        out.flags.append(flags)
        out.arrivals.append(s)
        if s.rr_ms:
            self._beats(person, s.rr_ms, t, out)

    def _clear_jump_flags(self, person: Person, count: int, out: Columns) -> None:
        """A jump the later samples confirmed: its samples become trusted after all."""
        level = int(person.classifier.level)
        in_batch = person.batch_idx
        for back in range(count):
            if back < len(in_batch):
                i = in_batch[-1 - back]
                out.flags[i] &= ~JUMP
                out.level[i] = level
                # Trusted now: its % counts for the block's peak, as it will when judged.
                self._block_peak(person, out.t_s[i], out.pct[i])
                continue
            ring_back = back - len(in_batch)
            if ring_back >= min(self.samples.written[person.row], self.samples.capacity):
                return
            recent = self.samples.latest(person.row, ring_back + 1)
            flags = int(recent["flags"][0]) & ~JUMP
            self.samples.set_recent(person.row, "flags", ring_back, flags)
            self.samples.set_recent(person.row, "level", ring_back, level)
            self._block_peak(person, float(recent["t_s"][0]), float(recent["pct"][0]))
            if int(self.samples.written[person.row]) - 1 - ring_back < person.handed_samples:
                # Storage has it already, still flagged: it gets the correction.
                person.corrections.append(Correction(float(recent["t_s"][0]), flags, level))

    def _phase_of(self, t_s: float) -> tuple[int, Level | None]:
        """Phase index and target at session time ``t_s`` (no target while paused: paused
        time is not training time); the last answer is cached, as nearly every sample falls
        in the same stretch as the one before."""
        lo, hi, idx, target, version = self._phase_cache
        if lo <= t_s < hi and version == self.schedule.version:
            return idx, target
        lo, hi, idx, running = self.schedule.segment_at(t_s)
        phases = self.protocol.phases
        target = target_of(phases[idx]) if running and 0 <= idx < len(phases) else None
        self._phase_cache = (lo, hi, idx, target, self.schedule.version)
        return idx, target

    def _block_peak(self, person: Person, t: float, pct: float) -> None:
        """The highest % so far in the block of short bouts running at ``t``: within a 20 s
        bout heart rate never settles, so the wall shows how high the block has got. Every
        trusted sample counts (a jump confirmed later, when it is), as when the block is
        judged, so the tile's peak is the peak the block is judged on."""
        idx = self._phase_of(t)[0]
        phases = self.protocol.phases
        block = phases[idx].block if 0 <= idx < len(phases) else None
        # A late-confirmed sample of an earlier block changes nothing (blocks come in order).
        if block is None or not math.isfinite(pct) or block < person.block_peak[0]:
            return
        if person.block_peak[0] != block or pct > person.block_peak[1]:
            person.block_peak = (block, pct)

    def _credit_phase(self, person: Person, t: float, level: int) -> None:
        """Running time in target for the current phase: each sample holds until the next."""
        if person.prev_t is not None:
            idx, target = self._phase_of(person.prev_t)
            if idx != person.acc_phase:
                person.acc_phase = idx
                person.acc_in_target_s = 0.0
            if in_target(person.prev_level, target):
                person.acc_in_target_s += min(t - person.prev_t, self.cfg.max_gap_s)
        person.prev_t = t
        person.prev_level = level

    def _beats(self, person: Person, rr_ms: tuple[float, ...], t: float,
               out: Columns) -> None:
        """Beat times are rebuilt from RR, not arrival; anchored to arrival when they drift."""
        total_s = sum(rr_ms) / 1000.0
        start = person.last_beat_t
        if start is None or abs(start + total_s - t) > config.BEAT_REANCHOR_S:
            start = t - total_s  # the newest beat happened at (or just before) arrival
        flags = person.rr.check_list(rr_ms)
        beat_t = start
        row = person.row
        for rr in rr_ms:
            beat_t += rr / 1000.0
            out.beat_rows.append(row)
            out.beat_t_s.append(beat_t)
        out.rr_ms.extend(rr_ms)
        out.beat_flags.extend(flags)
        person.last_beat_t = beat_t
        person.beats += len(rr_ms)

    def _update_time_alarms(self) -> None:
        """Signal lost, as the views show it."""
        now = self.session_time()
        cfg = self.cfg
        for person in self.people:
            if person.last_t is not None and signal_of(person, now, cfg)[0] is SignalState.LOST:
                self.rules.signal_lost(person, now, self.clock.now_utc())

    def _judge_finished_phases(self, grace_s: float = config.PHASE_JUDGE_GRACE_S) -> None:
        """Judge each long work phase once the schedule says it has ended, on the window it
        really ran: a skipped or stopped phase on the time it ran (not judged if that was
        under the protocol's min_judged_fraction), an extended one on its longer window.
        Pauses are cut out first, so the ramp allowance and the fraction in target count
        only time the countdown ran. The bouts of a block are not judged one by one: the
        block is judged as a whole once its last phase has ended (``engine.blocks``)."""
        ended = self.schedule.ended_phases(self.session_time() - grace_s)
        for window in ended[self._next_judged:]:
            self._judge(window)

    def _judge(self, window: PhaseWindow) -> None:
        self._next_judged = window.index + 1
        for span in self._spans.add(window):
            self._judge_span(span)

    def _judge_span(self, span: JudgedSpan) -> None:
        for person in self.people:
            t, pct, level = self._series(person)
            person.adherence.append(judge_span(span, t, pct, level, self.protocol,
                                               max_gap_s=self.cfg.max_gap_s))

    def _series(self, person: Person) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = self.samples.latest(person.row)
        return (data["t_s"].astype(np.float64), data["pct"].astype(np.float64),
                data["level"])

    # -- views --------------------------------------------------------------------------
    def snapshot(self) -> SessionSnapshot:
        now_mono = self.clock.monotonic()
        now = now_mono - self.start_mono_s
        position = self.schedule.position_at(now)
        phase_idx = self.schedule.index_at(now)
        target = target_of(position.phase) if position else None
        phases = self.protocol.phases
        block = phases[phase_idx].block if 0 <= phase_idx < len(phases) else None
        views = tuple(self._view(person, now, phase_idx, target, block)
                      for person in self.people)
        return SessionSnapshot(now_mono, now, self.protocol, position, self.finished_at(now),
                               views, paused=self.schedule.paused,
                               planned_run_s=self._planned_run_s())

    def _planned_run_s(self) -> tuple[float, ...]:
        """The schedule's planned running times, recomputed only when an action changed
        them (the views want them on every tick)."""
        version, run_s = self._planned_cache
        if version != self.schedule.version:
            run_s = tuple(self.schedule.planned_run_s())
            self._planned_cache = (self.schedule.version, run_s)
        return run_s

    def _view(self, person: Person, now: float, phase_idx: int,
              target: Level | None, block: int | None) -> ParticipantView:
        cfg = self.cfg
        signal, age = signal_of(person, now, cfg)
        shows = signal in (SignalState.LIVE, SignalState.STALE) and person.shown_bpm is not None
        bpm, pct, level = shown_numbers(person, cfg) if shows else (None, None, None)
        in_target_s = person.acc_in_target_s if person.acc_phase == phase_idx else 0.0
        if (person.prev_t is not None and self._phase_of(person.prev_t) == (phase_idx, target)
                and in_target(person.prev_level, target)):
            in_target_s += min(max(0.0, now - person.prev_t), cfg.max_gap_s)
        trace_t, trace_pct = recent_trace(self.samples, person, cfg.trace_window_s)
        block_peak = (shown_peak_pct(person.block_peak[1])
                      if block is not None and person.block_peak[0] == block else None)
        return ParticipantView(
            study_code=person.p.study_code,
            display_name=person.p.display_name,
            strap_id=person.p.strap_id,
            signal=signal,
            bpm=bpm,
            pct_hrmax=pct,
            level=level,
            age_s=max(0.0, age) if age is not None else None,
            battery_pct=person.battery,
            strap_state=person.strap_state,
            beta_blocker=person.p.beta_blocker,
            target=target,
            in_target_s=in_target_s,
            intervals_achieved=sum(a.achieved for a in person.adherence),
            intervals_judged=sum(a.judged for a in person.adherence),
            alarms=self.alarms.of(person.p.study_code),
            trace_t_s=trace_t,
            trace_pct=trace_pct,
            strap_note=person.strap_note,
            via_strap_id=person.via,
            block_peak_pct=block_peak,
            no_rr=person.no_rr,
        )

    # -- results ------------------------------------------------------------------------
    def log_operator(self, entry: OperatorEntry) -> None:
        """An acknowledgement or note of the operator, handed out with the next output (the
        schedule's own actions are gathered from the schedule)."""
        self.handover.operator.append(entry)

    def conclude(self) -> TickOutput:
        """End of session: what is left, as one output. Jumps still waiting for confirmation
        stay unconfirmed; phases that have ended are judged without waiting for in-flight
        samples; the phase change says the session is over."""
        for person in self.people:
            person.jump.reset()
        self.judge_ended_now()
        return self.handover.output(over=True)

    def judge_ended_now(self) -> None:
        """End of session: judge phases that have ended without waiting for in-flight
        samples (a phase cut short by stop would otherwise never be judged). A session
        capped by ``duration_s`` ends the phase running at the cap as a stop would. A block
        the session ended inside (stop, skip of its last bout, the cap) is judged on what
        it ran."""
        self._judge_finished_phases(grace_s=0.0)
        cap_s = self.duration_cap_s
        if cap_s is not None and self.finished_at(self.session_time()):
            window = self.schedule.cut_at(cap_s)
            if window is not None and window.index == self._next_judged:
                self._judge(window)
        for span in self._spans.flush():
            self._judge_span(span)

    def summary(self) -> list[dict[str, Any]]:
        """Per participant: counts, time in classes and zones, adherence, detected bouts."""
        end_s = min(self.session_time(), self.duration_s)
        if self.finished_at(self.session_time()):
            self.judge_ended_now()
        return [participant_report(person, self.samples.latest(person.row),
                                   self.beats.latest(person.row), self.alarms.history, end_s)
                for person in self.people]
