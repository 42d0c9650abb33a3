"""The live session stores what the engine saw, on SQLite and PostgreSQL; a killed app loses
about a second and its session is found interrupted at the next start."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.codes import SampleFlag
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.storage import open_database
from simulators.faults import FaultConfig
from simulators.hub import SimulatedStrapHub
from simulators.roster import make_virtual_class
from tests.conftest import people, people_wearing, poll_until
from tests.protocols import protocol_file
from tests.storage.helpers import live_recording


def count(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_live_session_stores_every_sample_beat_alarm_and_interval(db):
    protocol = protocol_file("bouts-7x30s")
    clock = SimulatedClock()
    virtual = make_virtual_class(4, seed=2)
    source = SimulatedStrapHub(virtual, clock, protocol=protocol, session_start_s=0.0,
                               faults=FaultConfig.demo(), seed=2)
    recorded, _, stored, events = live_recording(
        db, protocol, people_wearing(virtual, source.nearby), clock)
    session = recorded.session

    async def run():
        await source.set_discovery(False)  # every strap watched, as the headless path does
        for strap_id, name in source.nearby.items():
            await source.watch(strap_id, name)
        await source.start(events.put)
        while clock.monotonic() < protocol.total_s + 5:
            await asyncio.sleep(0)
            recorded.tick()
        await source.stop()

    asyncio.run(run())
    recorded.tick()
    assert recorded.finish(wait_s=20.0).stored

    engine = session.engine
    for person in engine.people:
        sp = stored.session_participant_ids[person.p.study_code]
        held = engine.samples.latest(person.row)
        assert count(db, "select count(*) from samples where session_participant_id = :sp",
                     sp=sp) == len(held["t_s"])
        assert count(db, "select count(*) from rr_intervals where session_participant_id = :sp",
                     sp=sp) == person.beats
        stored_flags = count(db, "select coalesce(sum(flags), 0) from samples "
                                 "where session_participant_id = :sp", sp=sp)
        assert stored_flags == int(held["flags"].astype(np.int64).sum())
        assert count(db, "select count(*) from phase_adherence "
                         "where session_participant_id = :sp", sp=sp) == 7
    phase_changes = count(db, "select count(*) from events where kind = 'phase-change'")
    assert phase_changes >= len(protocol.phases)
    alarms = len(engine.alarms.history)
    assert count(db, "select count(*) from events where kind like 'alarm-%'") == alarms


def test_a_confirmed_jump_is_stored_trusted_not_flagged(db):
    protocol = load_protocol("norwegian-4x4")
    clock = SimulatedClock()
    recorded, _, _, events = live_recording(db, protocol, people(180), clock)
    for bpm in [120] * 10 + [160, 161, 162, 161, 160]:
        events.put(sample_from_notification("A", encode_heart_rate_measurement(bpm), clock))
        recorded.tick()  # one tick per sample: the jump spans ticks
        clock.advance(1)
    assert recorded.finish(wait_s=20.0).stored
    jump = int(SampleFlag.UNCONFIRMED_JUMP)
    assert count(db, "select count(*) from samples") == 15
    assert count(db, f"select count(*) from samples where (flags & {jump}) != 0") == 0


def test_operator_actions_are_stored_as_phase_changes_with_their_detail(db):
    protocol = load_protocol("norwegian-4x4")
    clock = SimulatedClock()
    recorded, _, _, _ = live_recording(db, protocol, people(180), clock)
    session = recorded.session
    recorded.tick()
    clock.advance(700)
    session.pause()
    clock.advance(20)
    session.resume()
    recorded.tick()
    session.extend(by_s=30)
    session.skip()
    recorded.tick()
    session.stop()
    assert recorded.finish(wait_s=20.0).stored
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select t_s, detail from events where kind = 'phase-change' order by id")).all()
    actions = [(round(t, 1), json.loads(d) if isinstance(d, str) else d) for t, d in rows]
    actions = [(t, d) for t, d in actions if "action" in d]
    assert [(t, d["action"], d["phase_index"]) for t, d in actions] == [
        (700.0, "pause", 1), (720.0, "resume", 1), (720.0, "extend", 1), (720.0, "skip", 1),
        (720.0, "stop", 2)]
    assert actions[1][1]["paused_s"] == 20 and actions[2][1]["by_s"] == 30
    assert actions[3][1]["phase_name"] == "Interval 1/4"
    # The skipped interval is judged on the time it ran, though no tick came after the stop.
    assert count(db, "select count(*) from phase_adherence where phase_index = 1 "
                     "and start_s = 600 and end_s = 720") == 1


def test_a_high_phase_stopped_68_s_in_is_stored_as_not_judged_with_planned_and_ran(db):
    protocol = load_protocol("intermediate-high")  # High 1/4 runs 840–1020 s
    clock = SimulatedClock()
    recorded, _, _, _ = live_recording(db, protocol, people(180), clock)
    session = recorded.session
    recorded.tick()
    clock.advance(840 + 68)
    recorded.tick()
    session.stop()
    assert recorded.finish(wait_s=20.0).stored
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select phase_index, start_s, end_s, planned_s, ran_s, judged, achieved "
            "from phase_adherence order by phase_index")).all()
    assert [(i, a, b, p, r, bool(j), bool(ok)) for i, a, b, p, r, j, ok in rows] == [
        (1, 600.0, 840.0, 240.0, 240.0, True, False),  # ran whole: judged (no data: missed)
        (2, 840.0, 908.0, 180.0, 68.0, False, False)]  # cut short: neither way


def test_killed_app_loses_about_a_second_and_is_found_interrupted(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    app = subprocess.Popen(  # a simulation records only where --db says, never HIAIM_DB_URL
        [sys.executable, "-m", "hiaim_monitor", "--simulate", "4", "--headless",
         "--faults", "none", "--db", url], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        db = open_database(url)

        def stored_samples() -> int:
            try:
                return count(db, "select count(*) from samples")
            except sa.exc.OperationalError:  # the app has not made its tables yet
                return 0

        # Killed while data flows, some 4 s after the first rows: four straps at 1 Hz.
        poll_until(lambda: stored_samples() > 20, "the app stores samples", timeout_s=60,
                   interval_s=0.1)
        poll_until(lambda: stored_samples() > 20 + 4 * 4, "the app goes on storing", timeout_s=30,
                   interval_s=0.1)
        app.send_signal(signal.SIGKILL)
        killed_utc = datetime.now(UTC)
        app.wait(10)
    finally:
        if app.poll() is None:
            app.kill()
    with db.engine.connect() as conn:
        last = conn.execute(sa.text(
            "select max(wall_utc) from samples group by session_participant_id")).scalars().all()
        status = conn.execute(sa.text("select status from sessions")).scalar_one()
    assert status == "running"  # nobody closed it: it crashed
    assert len(last) == 4
    for wall in last:
        wall = datetime.fromisoformat(str(wall)).replace(tzinfo=UTC)
        lost_s = (killed_utc - wall).total_seconds()
        # A strap notifies once a second, the writer commits about once a second.
        assert lost_s < 2.5, f"{lost_s:.1f} s of data lost"

    after = subprocess.run(
        [sys.executable, "-m", "hiaim_monitor", "--simulate", "1", "--headless",
         "--speed", "200", "--duration", "20", "--db", url], env=env, capture_output=True,
        text=True, timeout=120)
    assert after.returncode == 0, after.stderr
    assert "Session 1 (started" in after.stderr and "was interrupted" in after.stderr
    with db.engine.connect() as conn:
        statuses = conn.execute(sa.text("select id, status from sessions order by id")).all()
    assert [tuple(r) for r in statuses] == [(1, "interrupted"), (2, "finished")]
    db.close()
