"""A live session the operator skipped, paused, extended and stopped, recorded and exported:
every exported sample carries the phase the live schedule had it in, the TCX laps are the
phases as they ran, and the event log holds the operator's actions as they were stored."""

from __future__ import annotations

import asyncio
import csv
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.exports import export_sessions
from simulators.hub import SimulatedStrapHub
from simulators.roster import make_virtual_class
from tests.conftest import people_wearing
from tests.protocols import protocol_file
from tests.storage.helpers import live_recording

TCX = "{http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2}"


def test_exports_follow_the_phases_of_a_session_the_operator_changed(db, tmp_path):
    protocol = protocol_file("bouts-7x30s")
    clock = SimulatedClock()
    started_utc = clock.now_utc()
    virtual = make_virtual_class(2, seed=5)
    source = SimulatedStrapHub(virtual, clock, protocol=protocol, session_start_s=0.0, seed=5)
    people = people_wearing(virtual, source.nearby)
    recorded, _, stored, events = live_recording(db, protocol, people, clock,
                                                 started_utc=started_utc)
    session = recorded.session
    plan = [(150.0, session.skip), (200.0, session.pause), (230.0, session.resume),
            (310.0, lambda: session.extend(by_s=20)), (500.0, session.stop)]

    async def run():
        await source.set_discovery(False)  # every strap watched, as the headless path does
        for strap_id, name in source.nearby.items():
            await source.watch(strap_id, name)
        await source.start(events.put)
        for at_s, act in plan:
            while clock.monotonic() < at_s:
                await asyncio.sleep(0)
                recorded.tick()
            act()
        recorded.tick()
        await source.stop()

    asyncio.run(run())
    assert recorded.finish(wait_s=20.0).stored
    end_s = clock.monotonic()
    schedule = session.schedule  # the live schedule: the truth the exports must match

    paths = export_sessions(db, [stored.session_id], "csv", tmp_path / "csv")
    for path in paths:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) > 400
        for row in rows:
            t_s = float(row["t_s"])
            live = schedule.index_at(t_s)
            if 0 <= live < len(protocol.phases) and t_s < end_s:
                assert int(row["phase_index"]) == live, (path.name, t_s)
                assert row["phase_name"] == protocol.phases[live].name
            else:
                assert row["phase_index"] == row["phase_name"] == ""
        # The skip made the first sprint start at 150 s, not 300 s.
        by_phase = {int(r["phase_index"]): float(r["t_s"]) for r in reversed(rows)
                    if r["phase_index"]}
        assert by_phase[1] == pytest.approx(150.0, abs=1.1)

    windows = [(w.index, w.start_s, min(w.end_s, end_s)) for w in schedule.phase_windows()
               if w.start_s < end_s]
    # Warm-up cut at 150 s; the first recovery paused 200-230 s; sprint 3 stopped at 500 s.
    assert [(i, round(a), round(b)) for i, a, b in windows][:3] == [
        (0, 0, 150), (1, 150, 180), (2, 180, 300)]
    assert windows[-1][2] == pytest.approx(500.0, abs=0.2)
    export_sessions(db, [stored.session_id], "tcx", tmp_path / "tcx")
    for person in people:
        root = ET.parse(tmp_path / "tcx" / f"session-{stored.session_id}_"
                                           f"{person.study_code}.tcx").getroot()
        laps = root.findall(f"{TCX}Activities/{TCX}Activity/{TCX}Lap")
        # TotalTimeSeconds is timer time: the live schedule's running time of the phase.
        assert [(lap.findtext(f"{TCX}Notes"),
                 datetime.fromisoformat(lap.get("StartTime")),
                 float(lap.findtext(f"{TCX}TotalTimeSeconds"))) for lap in laps] == [
            (f"{w.phase.name} (phase_index {w.index})",
             started_utc + timedelta(seconds=round(w.start_s, 3)),
             pytest.approx(w.running_s, abs=2e-3))
            for w in schedule.ended_phases(end_s) if w.end_s > w.start_s]
        assert float(laps[2].findtext(f"{TCX}TotalTimeSeconds")) == pytest.approx(90.0,
                                                                                   abs=2e-3)

    (log,) = export_sessions(db, [stored.session_id], "events", tmp_path / "events")
    with log.open(newline="", encoding="utf-8") as f:
        actions = [r for r in csv.DictReader(f) if r["kind"] == "operator-action"]
    assert [(float(r["t_s"]), r["details"].split()[0]) for r in actions] == [
        (pytest.approx(at_s, abs=0.2), name)
        for (at_s, _), name in zip(plan, ["skip", "pause", "resume", "extend", "stop"],
                                   strict=True)]
