"""A small recorded session for the registry and export tests: three participants through
a four-minute protocol with two work phases, one sample a second with a few untrusted ones
(the third participant's strap cannot sense skin contact; every 10th sample carries the
energy expended), one beat a second with a few flagged ones, and interval results from the
real engine."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from hiaim_monitor.admin import add_admin_commands
from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.engine.blocks import protocol_adherence
from hiaim_monitor.engine.classify import level_of
from hiaim_monitor.engine.codes import BeatFlag, Level, SampleFlag
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import Phase, PhaseKind, TrainingProtocol, load_protocol
from hiaim_monitor.storage import (
    BeatRecord,
    Database,
    SampleRecord,
    StoredSession,
    finish_session,
    start_session,
)
from tests.storage.helpers import START_UTC, fast_writer, roster

DURATION_S = 240.0
SHORT = dataclasses.replace(
    load_protocol("hi-aim"), key="test-4min", name="Four minutes", ramp_allowance_s=10.0,
    phases=(Phase("Warm-up", PhaseKind.WARM_UP, 60, 40, None),
            Phase("Intermediate 1/1", PhaseKind.INTERMEDIATE, 60, 70, 85),
            Phase("Recovery", PhaseKind.RECOVERY, 30, 40, None),
            Phase("High 1/1", PhaseKind.HIGH, 60, 85, None),
            Phase("Cool-down", PhaseKind.COOL_DOWN, 30, 40, None)))
WORK_PHASES = (1, 3)
NOT_JUDGED = ("HIAIM-003", 3)  # its second work phase was never judged
IMPLAUSIBLE_AT = 70  # sample index with bpm 0 (and no beat)


@dataclass
class Recorded:
    stored: StoredSession
    protocol: TrainingProtocol
    people: list[Participant]
    samples: dict[str, list[SampleRecord]]  # study code → as submitted
    beats: dict[str, list[BeatRecord]]


def people() -> list[Participant]:
    """roster(3) with display names that cannot turn up by chance in exported numbers."""
    return [dataclasses.replace(p, display_name=f"Zoë Ærø {i}")
            for i, p in enumerate(roster(3), start=1)]


def _sample_flags(i: int) -> tuple[int, int | None, SensorContact]:
    """(flags, bpm override, contact) of sample ``i``: a few of each kind of trouble."""
    if i == IMPLAUSIBLE_AT:
        return SampleFlag.IMPLAUSIBLE, 0, SensorContact.DETECTED
    if i == 50:
        return SampleFlag.NO_CONTACT, None, SensorContact.NOT_DETECTED
    if i == 60:
        return SampleFlag.MALFORMED, None, SensorContact.DETECTED  # trusted all the same
    if i % 17 == 16:
        return SampleFlag.UNCONFIRMED_JUMP, None, SensorContact.DETECTED
    return SampleFlag.NONE, None, SensorContact.DETECTED


def _beat_flags(i: int) -> int:
    if i == 30:
        return BeatFlag.OUT_OF_RANGE | BeatFlag.SUCCESSIVE_DIFF
    return BeatFlag.SUCCESSIVE_DIFF if i % 11 == 10 else BeatFlag.NONE


def record_session(db: Database, *, finish: bool = True, host: str = "test-host") -> Recorded:
    """Start, fill and (unless ``finish`` is False) finish the session."""
    who = people()
    stored = start_session(db, SHORT, who, started_utc=START_UTC, operator="physio",
                           site="Herlev", host=host)
    samples: dict[str, list[SampleRecord]] = {}
    beats: dict[str, list[BeatRecord]] = {}
    with fast_writer(db, stored) as writer:
        for n, p in enumerate(who):
            sp = stored.session_participant_ids[p.study_code]
            samples[p.study_code], beats[p.study_code] = [], []
            beat_t_s = 0.0
            for i in range(int(DURATION_S)):
                t_s = i + 0.5
                phase = SHORT.phase_at(t_s)
                assert phase is not None
                share = {PhaseKind.INTERMEDIATE: 0.78, PhaseKind.HIGH: 0.9}.get(
                    phase.phase.kind, 0.6) + 0.01 * n - (0.1 if n == 2 else 0.0)
                flags, bpm_override, contact = _sample_flags(i)
                if n == 2 and contact is SensorContact.DETECTED:
                    contact = SensorContact.NOT_SUPPORTED  # a strap that cannot sense skin
                # Straps send the energy expended now and then (here every 10th sample).
                energy_kj = 3 * i if i % 10 == 0 else None
                bpm = round(p.hrmax.bpm * share) if bpm_override is None else bpm_override
                pct = None if bpm == 0 else 100.0 * bpm / p.hrmax.bpm
                level = (Level.UNKNOWN if flags & ~SampleFlag.MALFORMED or pct is None
                         else level_of(pct, SHORT.thresholds))
                samples[p.study_code].append(SampleRecord(
                    sp, t_s, START_UTC + timedelta(seconds=t_s), bpm, pct, int(level),
                    int(flags), contact, energy_kj))
                if bpm:
                    rr_ms = round(60_000 / bpm * 1.024) / 1.024  # whole 1/1024 s, as sent
                    beat_t_s += rr_ms / 1000
                    beats[p.study_code].append(BeatRecord(sp, beat_t_s, rr_ms,
                                                              int(_beat_flags(i))))
            writer.submit_samples(samples[p.study_code])
            writer.submit_beats(beats[p.study_code])
            rows = samples[p.study_code]
            pct_arr = np.array([np.nan if r.pct_hrmax is None else r.pct_hrmax for r in rows])
            for result in protocol_adherence([r.t_s for r in rows], pct_arr,
                                             [r.level for r in rows], SHORT):
                if (p.study_code, result.phase_index) != NOT_JUDGED:
                    writer.submit_adherence(sp, result)
        assert writer.flush(20.0)
    if finish:
        finish_session(db, stored.session_id,
                       ended_utc=START_UTC + timedelta(seconds=DURATION_S))
    return Recorded(stored, SHORT, who, samples, beats)


def store_phase_cut_short(db: Database, recorded: Recorded) -> None:
    """Store the result NOT_JUDGED lacks, as the engine makes it for a phase stopped 20 s
    into its 60: measured, but not judged."""
    code, index = NOT_JUDGED
    cut_short = PhaseAdherence(
        phase_index=index, phase_name="High 1/1", kind=PhaseKind.HIGH, start_s=150.0,
        end_s=170.0, target=Level.HIGH, seconds_in_target=12.0, seconds_above_target=0.0,
        seconds_below_target=8.0, seconds_no_data=0.0, fraction_in_target_after_ramp=1.0,
        time_to_target_s=8.0, peak_pct=91.0, achieved=False, planned_s=60.0, ran_s=20.0,
        judged=False)
    with fast_writer(db, recorded.stored) as writer:
        writer.submit_adherence(recorded.stored.session_participant_ids[code], cut_short)
        assert writer.flush(20.0)


def admin_parser() -> argparse.ArgumentParser:
    """A stand-in for cli.py's parser, with just the admin commands."""
    parser = argparse.ArgumentParser(prog="hiaim-monitor")
    add_admin_commands(parser.add_subparsers(dest="command", required=True))
    return parser
