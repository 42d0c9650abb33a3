"""The session writer against real databases: what goes in comes back, a failing database
costs nothing but memory, and an overflowing buffer drops the oldest rows and says so."""

from __future__ import annotations

import contextlib
import math
import random
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hiaim_monitor.engine.adherence import PhaseAdherence
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import PhaseKind, load_protocol
from hiaim_monitor.storage import (
    BeatRecord,
    EventKind,
    EventRecord,
    SampleRecord,
    StorageState,
    StoredSession,
    start_session,
)
from hiaim_monitor.storage.schema import EventRow, PhaseAdherenceRow, RRIntervalRow, SampleRow
from tests.conftest import poll_until
from tests.storage.helpers import START_UTC, Backend, fast_writer, roster

WAIT_S = 20.0


def make_rows(stored: StoredSession, seconds: int, *, seed: int = 1, start_s: int = 0
              ) -> tuple[list[list[SampleRecord]], list[list[BeatRecord]]]:
    """Per second of session: one sample per participant, with the beats it carried."""
    rng = random.Random(seed)
    contacts = list(SensorContact)
    ticks_samples, ticks_beats = [], []
    last_beat = dict.fromkeys(stored.session_participant_ids.values(), float(start_s))
    for second in range(start_s, start_s + seconds):
        samples, beats = [], []
        for sp in stored.session_participant_ids.values():
            t_s = second + rng.random() * 0.5
            bpm = rng.randint(60, 190)
            pct = math.nan if rng.random() < 0.02 else bpm / 1.8 + rng.random()
            samples.append(SampleRecord(
                sp, t_s, START_UTC + timedelta(seconds=t_s), bpm, pct, rng.randint(-1, 3),
                rng.choice((0, 0, 0, 1, 2, 4, 8, 6)), rng.choice(contacts)))
            for _ in range(rng.randint(0, 3)):
                rr_ms = rng.randint(300, 1100) * 1000 / 1024
                last_beat[sp] += rr_ms / 1000
                beats.append(BeatRecord(sp, last_beat[sp], rr_ms, rng.choice((0, 0, 1, 2))))
        ticks_samples.append(samples)
        ticks_beats.append(beats)
    return ticks_samples, ticks_beats


def flat(ticks: list[list[Any]]) -> list[Any]:
    return [row for tick in ticks for row in tick]


def expected_samples(samples: list[SampleRecord]) -> list[SampleRecord]:
    return sorted((s._replace(pct_hrmax=None) if math.isnan(s.pct_hrmax or 0.0) else s)
                  for s in samples)


def stored_samples(db) -> list[SampleRecord]:
    with db.session() as s:
        rows = s.execute(sa.select(
            SampleRow.session_participant_id, SampleRow.t_s, SampleRow.wall_utc, SampleRow.bpm,
            SampleRow.pct_hrmax, SampleRow.level, SampleRow.flags, SampleRow.contact))
        return sorted(SampleRecord(*row) for row in rows)


def stored_beats(db) -> list[BeatRecord]:
    with db.session() as s:
        rows = s.execute(sa.select(RRIntervalRow.session_participant_id, RRIntervalRow.t_s,
                                   RRIntervalRow.rr_ms, RRIntervalRow.flags))
        return sorted(BeatRecord(*row) for row in rows)


def stored_events(db) -> list[EventRow]:
    with db.session() as s:
        return list(s.scalars(sa.select(EventRow).order_by(EventRow.id)))


def collapse(states: list[StorageState]) -> list[StorageState]:
    """Consecutive repeats removed (a failure whose reason changes is reported again)."""
    return [s for i, s in enumerate(states) if i == 0 or states[i - 1] is not s]


def test_forty_participants_for_five_minutes_come_back_exactly(db):
    stored = start_session(db, load_protocol("hi-aim"), roster(40), started_utc=START_UTC)
    samples, beats = make_rows(stored, 5 * 60)
    sp = stored.session_participant_ids["HIAIM-007"]
    result = PhaseAdherence(
        phase_index=1, phase_name="High 1/4", kind=PhaseKind.HIGH, start_s=300.0, end_s=480.0,
        target=Level.HIGH, seconds_in_target=101.5, seconds_above_target=0.0,
        seconds_below_target=70.25, seconds_no_data=8.25,
        fraction_in_target_after_ramp=0.8458333333333333, time_to_target_s=None,
        peak_pct=93.125, achieved=True, planned_s=180.0, ran_s=180.0, judged=True)
    events = [
        EventRecord(EventKind.PHASE_CHANGE, 0.0, START_UTC, None, {"phase_index": 0}),
        EventRecord(EventKind.ALARM_RAISED, 12.5, START_UTC + timedelta(seconds=12.5), sp,
                    {"alarm": "above-ceiling", "detail": "101 % HRmax"}),
        EventRecord(EventKind.CONNECTION_CHANGE, 20.0, START_UTC + timedelta(seconds=20), sp,
                    {"state": "reconnecting"}),
    ]

    with fast_writer(db, stored, flush_interval_s=0.2) as writer:
        for tick_samples, tick_beats in zip(samples, beats, strict=True):
            writer.submit_samples(tick_samples)
            writer.submit_beats(tick_beats)
        for event in events:
            writer.submit_event(event)
        writer.submit_adherence(sp, result)
        assert writer.flush(WAIT_S)
        assert writer.status.state is StorageState.OK

    assert writer.dropped_rows == writer.rejected_rows == 0
    assert len(flat(samples)) == 40 * 300
    assert stored_samples(db) == expected_samples(flat(samples))
    assert stored_beats(db) == sorted(flat(beats))
    assert [(e.kind, e.t_s, e.wall_utc, e.session_participant_id, e.detail)
            for e in stored_events(db)] == [tuple(e) for e in events]
    with db.session() as s:
        row = s.scalars(sa.select(PhaseAdherenceRow)).one()
    assert row.session_participant_id == sp
    assert PhaseAdherence(
        row.phase_index, row.phase_name, row.kind, row.start_s, row.end_s,
        Level(row.target_level), row.seconds_in_target, row.seconds_above_target,
        row.seconds_below_target, row.seconds_no_data, row.fraction_in_target_after_ramp,
        row.time_to_target_s, row.peak_pct, row.achieved, row.planned_s, row.ran_s,
        row.judged) == result


def test_failing_database_keeps_rows_and_writes_them_when_back(db, backend: Backend, stored):
    samples, beats = make_rows(stored, 60)
    writer = fast_writer(db, stored)
    writer.submit_samples(flat(samples[:20]))
    writer.submit_beats(flat(beats[:20]))
    assert writer.flush(WAIT_S)

    with backend.unwritable():
        started = time.monotonic()
        for tick_samples, tick_beats in zip(samples[20:], beats[20:], strict=True):
            writer.submit_samples(tick_samples)
            writer.submit_beats(tick_beats)
        submitting_s = time.monotonic() - started
        failing = poll_until(lambda: (s := writer.status).state is StorageState.FAILING and s,
                             "the writer reports failing", timeout_s=WAIT_S)
        assert writer.backlog_rows == len(flat(samples[20:])) + len(flat(beats[20:]))
        assert 0 < writer.backlog_fraction < 1
        assert submitting_s < 1.0  # nothing waited for the database
        assert db.name in failing.reason and failing.reason.endswith(".")
        assert "\n" not in failing.reason

    assert writer.flush(WAIT_S)
    assert writer.close() == 0
    states = [change.state for change in writer.take_status_changes()]
    assert collapse(states) == [StorageState.FAILING, StorageState.RECOVERED, StorageState.OK]
    assert writer.dropped_rows == 0
    assert stored_samples(db) == expected_samples(flat(samples))
    assert stored_beats(db) == sorted(flat(beats))
    outage = [e for e in stored_events(db) if e.kind is EventKind.STORAGE]
    assert len(outage) == 1 and outage[0].detail["dropped_rows_total"] == 0


def test_overflowing_buffer_drops_the_oldest_rows_and_counts_them(db, backend: Backend,
                                                                  stored):
    sp = next(iter(stored.session_participant_ids.values()))
    rows = [SampleRecord(sp, float(t), START_UTC + timedelta(seconds=t), 100 + t % 50, 60.0,
                         int(Level.BELOW), 0, SensorContact.DETECTED) for t in range(150)]
    writer = fast_writer(db, stored, capacity_rows=100)
    with backend.unwritable():
        for start in range(0, 150, 10):
            writer.submit_samples(rows[start:start + 10])
        assert writer.backlog_fraction == 1.0
        poll_until(lambda: writer.status.state is StorageState.FAILING,
                   "the writer reports failing", timeout_s=WAIT_S)
        # Rows dropped while a write was under way count once that write has failed.
        poll_until(lambda: writer.dropped_rows == 50, "50 rows dropped", timeout_s=WAIT_S)
        assert writer.status.dropped_rows == 50

    assert writer.flush(WAIT_S)
    writer.close()
    assert writer.dropped_rows == 50
    assert stored_samples(db) == rows[50:]
    outage = [e for e in stored_events(db) if e.kind is EventKind.STORAGE]
    assert [e.detail["dropped_rows_total"] for e in outage] == [50]


def test_invalid_rows_are_refused_and_counted_the_rest_is_stored(db, stored):
    sp = next(iter(stored.session_participant_ids.values()))
    good = [SampleRecord(sp, float(t), START_UTC + timedelta(seconds=t), 90, 50.0, 0, 0)
            for t in range(10)]
    unknown_participant = good[0]._replace(session_participant_id=987654)
    naive_time = good[0]._replace(wall_utc=START_UTC.replace(tzinfo=None))
    with fast_writer(db, stored) as writer:
        writer.submit_samples([*good[:5], unknown_participant, naive_time, *good[5:]])
        writer.submit_beats(["not a beat"])  # type: ignore[list-item]
        assert writer.flush(WAIT_S)
        assert writer.status.state is StorageState.OK
    assert writer.rejected_rows == 3
    assert writer.dropped_rows == 0
    assert stored_samples(db) == good


def test_close_reports_rows_it_could_not_write(db, backend: Backend, stored):
    samples, _ = make_rows(stored, 5)
    writer = fast_writer(db, stored)
    with backend.unwritable():
        writer.submit_samples(flat(samples))
        assert writer.close(timeout_s=0.5) == len(flat(samples))
        assert writer.status.state is StorageState.FAILING
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit_samples(flat(samples))


def test_a_commit_whose_acknowledgement_is_lost_is_not_stored_twice(db, stored, monkeypatch):
    """The commit reaches the database but the reply does not (a dropped connection at that
    moment): the writer must treat it as failed and retry, and the retry must not store the
    same rows again."""
    samples, beats = make_rows(stored, 30)
    writer = fast_writer(db, stored)
    real_begin = writer._engine.begin
    lost = []

    @contextlib.contextmanager
    def begin_losing_one_ack():
        with real_begin() as conn:
            yield conn
        # The transaction has committed here; the first time, say it did not.
        if not lost:
            lost.append(True)
            raise sa.exc.OperationalError("COMMIT", {}, ConnectionError("connection reset"))

    monkeypatch.setattr(writer._engine, "begin", begin_losing_one_ack)
    writer.submit_samples(flat(samples[:10]))
    writer.submit_beats(flat(beats[:10]))
    poll_until(lambda: lost, "a commit whose acknowledgement is lost", timeout_s=WAIT_S)
    # More rows arrive before the retry: the retried batch is larger than the one that
    # was committed, so the overlap has to be skipped, not just the same batch.
    writer.submit_samples(flat(samples[10:]))
    writer.submit_beats(flat(beats[10:]))
    assert writer.flush(WAIT_S)
    assert writer.close() == 0
    states = collapse([c.state for c in writer.take_status_changes()])
    assert states[0] is StorageState.FAILING  # the lost acknowledgement looked like a failure
    assert stored_samples(db) == expected_samples(flat(samples))
    assert stored_beats(db) == sorted(flat(beats))
