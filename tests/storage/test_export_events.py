"""What happened in a session, exported: the event log (alarms, acknowledgements, notes,
operator actions, phase and strap changes), the phase each sample fell in, and one TCX lap
per phase, all following the operator's skip, pause and extension as the session ran them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hiaim_monitor.engine.alarms import AlarmKind
from hiaim_monitor.engine.codes import UNTRUSTED
from hiaim_monitor.exports import export_session
from hiaim_monitor.schedule import SessionSchedule
from hiaim_monitor.storage import EventRecord
from hiaim_monitor.storage.schema import EventKind, EventRow, SampleRow
from tests.storage.helpers import START_UTC, fast_writer, read_csv
from tests.storage.recorded import DURATION_S, SHORT, Recorded

TCX = "{http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2}"
NOTE_TEXT = 'Bike 3: saddle "loose", fixed\nsecond line, with a comma'
# The phases as the operator's actions below make them run (worked out by hand):
# skip the warm-up at 30 s; pause the recovery 100–110 s; extend the high phase by 20 s.
RAN = [(0, "Warm-up", 0.0, 30.0), (1, "Intermediate 1/1", 30.0, 90.0),
       (2, "Recovery", 90.0, 130.0), (3, "High 1/1", 130.0, 210.0),
       (4, "Cool-down", 210.0, DURATION_S)]


def _at(t_s: float) -> datetime:
    return START_UTC + timedelta(seconds=t_s)


def store_events(db, recorded: Recorded) -> list[tuple[float, str, str | None,
                                                       dict[str, Any]]]:
    """The events a session with those actions stores, in the shapes SessionRecorder gives
    them: (t_s, kind, study code, detail), in time order."""
    schedule = SessionSchedule(SHORT)
    actions = [schedule.skip(30.0), schedule.pause(100.0), schedule.resume(110.0),
               schedule.extend(150.0, 20.0)]
    ids = recorded.stored.session_participant_ids
    events: list[tuple[float, str, str | None, dict[str, Any]]] = [
        (start_s + 0.07, EventKind.PHASE_CHANGE, None,  # stamped on the next tick
         {"phase_index": index, "phase_name": name}) for index, name, start_s, _ in RAN]
    events.append((DURATION_S, EventKind.PHASE_CHANGE, None,
                   {"phase_index": None, "phase_name": None}))
    events += [(a.t_s, EventKind.PHASE_CHANGE, None, {"action": str(a.kind), **a.detail})
               for a in actions]
    events += [
        (12.0, EventKind.CONNECTION_CHANGE, "HIAIM-003", {"battery_pct": 12}),
        (60.0, EventKind.CONNECTION_CHANGE, "HIAIM-003",
         {"state": "StrapState.LOST", "detail": "no data for 5 s"}),  # as recorded
        (95.0, EventKind.ALARM_RAISED, "HIAIM-002",
         {"alarm": str(AlarmKind.ABOVE_CEILING), "detail": "97 % HRmax"}),
        (97.0, EventKind.ALARM_ACKNOWLEDGED, "HIAIM-002", {"alarm": "above-ceiling"}),
        (99.0, EventKind.ALARM_CLEARED, "HIAIM-002",
         {"alarm": str(AlarmKind.ABOVE_CEILING), "detail": ""}),
        (120.0, EventKind.NOTE, None, {"text": NOTE_TEXT}),
        (125.0, EventKind.NOTE, "HIAIM-001", {"text": "felt dizzy"}),
    ]
    events.sort(key=lambda e: e[0])
    with fast_writer(db, recorded.stored) as writer:
        for t_s, kind, code, detail in events:
            writer.submit_event(EventRecord(kind, t_s, _at(t_s),
                                            ids[code] if code else None, detail))
        assert writer.flush(20.0)
    return events


def test_events_export_has_every_stored_event_in_time_order(db, recorded, tmp_path):
    events = store_events(db, recorded)
    sid = recorded.stored.session_id

    (path,) = export_session(db, sid, "events", tmp_path)

    assert path.name == f"session-{sid}_events.csv"
    rows = read_csv(path)
    with db.session() as s:
        stored = s.scalar(sa.select(sa.func.count()).select_from(EventRow)
                          .where(EventRow.session_id == sid))
    assert len(rows) == len(events) == stored
    assert list(rows[0]) == ["session_id", "wall_utc", "t_s", "kind", "study_code", "details",
                             "detail_json"]
    for row, (t_s, kind, code, detail) in zip(rows, events, strict=True):
        assert float(row["t_s"]) == pytest.approx(t_s, abs=1e-3)
        assert datetime.fromisoformat(row["wall_utc"]) == _at(t_s)
        assert row["study_code"] == (code or "")
        assert json.loads(row["detail_json"]) == detail
        expected_kind = "operator-action" if "action" in detail else str(kind)
        assert row["kind"] == expected_kind

    by_kind: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
    assert [r["details"] for r in by_kind["operator-action"]] == [
        "skip Warm-up (phase_index 0)", "pause Recovery (phase_index 2)",
        "resume Recovery (phase_index 2) after 10.0 s paused",
        "extend High 1/1 (phase_index 3) by 20 s"]
    assert [r["details"] for r in by_kind["phase-change"]] == [
        *(f"{name} (phase_index {index})" for index, name, _, _ in RAN), "session over"]
    assert [(r["study_code"], r["details"]) for r in by_kind["alarm-raised"]] == [
        ("HIAIM-002", "above-ceiling: 97 % HRmax")]
    assert [r["details"] for r in by_kind["alarm-acknowledged"]] == ["above-ceiling"]
    assert [r["details"] for r in by_kind["alarm-cleared"]] == ["above-ceiling"]
    # The note, commas, quotes and newline included, comes back whole from a CSV reader.
    assert [(r["study_code"], r["details"]) for r in by_kind["note"]] == [
        ("", NOTE_TEXT), ("HIAIM-001", "felt dizzy")]
    assert [r["details"] for r in by_kind["connection-change"]] == [
        "battery 12 %", "lost: no data for 5 s"]


def test_events_export_names_participants_only_when_asked(db, recorded, tmp_path):
    store_events(db, recorded)
    sid = recorded.stored.session_id
    (plain,) = export_session(db, sid, "events", tmp_path / "plain")
    assert "Zoë" not in plain.read_text(encoding="utf-8")

    (named,) = export_session(db, sid, "events", tmp_path / "named", with_names=True)
    rows = read_csv(named)
    assert {(r["study_code"], r["display_name"]) for r in rows if r["study_code"]} == {
        ("HIAIM-001", "Zoë Ærø 1"), ("HIAIM-002", "Zoë Ærø 2"), ("HIAIM-003", "Zoë Ærø 3")}
    assert {r["display_name"] for r in rows if not r["study_code"]} == {""}


def _ran_at(t_s: float) -> tuple[int, str] | None:
    for index, name, start_s, end_s in RAN:
        if start_s <= t_s < end_s:
            return index, name
    return None


def test_sample_csv_says_the_phase_each_sample_fell_in_as_the_session_ran(db, recorded,
                                                                          tmp_path):
    store_events(db, recorded)
    sid = recorded.stored.session_id
    export_session(db, sid, "csv", tmp_path)

    rows = read_csv(tmp_path / f"session-{sid}_HIAIM-001_samples.csv")
    assert list(rows[0])[3:6] == ["t_s", "phase_index", "phase_name"]
    assert len(rows) == len(recorded.samples["HIAIM-001"])
    for row in rows:
        expected = _ran_at(float(row["t_s"]))
        assert expected is not None
        assert (int(row["phase_index"]), row["phase_name"]) == expected, row["t_s"]
    by_t = {r["t_s"]: int(r["phase_index"]) for r in rows}
    # The skip cut the warm-up at 30 s; the pause kept the recovery going to 130 s; the
    # extension kept the high phase to 210 s (the plan: 60, 120, 150, 210 s).
    assert (by_t["29.500"], by_t["30.500"]) == (0, 1)
    assert (by_t["105.500"], by_t["129.500"], by_t["130.500"]) == (2, 2, 3)
    assert (by_t["209.500"], by_t["210.500"]) == (3, 4)


def test_sample_csv_phase_follows_the_plan_when_nothing_changed_it(db, recorded, tmp_path):
    sid = recorded.stored.session_id
    export_session(db, sid, "csv", tmp_path)

    rows = read_csv(tmp_path / f"session-{sid}_HIAIM-002_samples.csv")
    for row in rows:
        planned = SHORT.phase_at(float(row["t_s"]))
        assert planned is not None
        assert (int(row["phase_index"]), row["phase_name"]) == (planned.index,
                                                                planned.phase.name)
    assert sorted({int(r["phase_index"]) for r in rows}) == [0, 1, 2, 3, 4]


def test_tcx_has_one_lap_per_phase_as_it_ran_with_its_heart_rate(db, recorded, tmp_path):
    store_events(db, recorded)
    sid = recorded.stored.session_id
    code, sp_id = "HIAIM-002", recorded.stored.session_participant_ids["HIAIM-002"]
    export_session(db, sid, "tcx", tmp_path)

    root = ET.parse(tmp_path / f"session-{sid}_{code}.tcx").getroot()
    (activity,) = root.findall(f"{TCX}Activities/{TCX}Activity")
    laps = activity.findall(f"{TCX}Lap")
    assert len(laps) == len(RAN)
    with db.session() as s:
        stored = s.execute(sa.select(SampleRow.t_s, SampleRow.bpm, SampleRow.flags)
                           .where(SampleRow.session_participant_id == sp_id)
                           .order_by(SampleRow.t_s)).all()
    points_total = 0
    for lap, (index, name, start_s, end_s) in zip(laps, RAN, strict=True):
        assert datetime.fromisoformat(lap.get("StartTime")) == _at(start_s)
        # Timer time: the recovery's 10 s pause does not count.
        paused_s = 10.0 if name == "Recovery" else 0.0
        assert float(lap.findtext(f"{TCX}TotalTimeSeconds")) == pytest.approx(
            end_s - start_s - paused_s)
        # The schema's order of a lap's children, Notes last.
        assert [c.tag.removeprefix(TCX) for c in lap] == [
            "TotalTimeSeconds", "DistanceMeters", "Calories", "AverageHeartRateBpm",
            "MaximumHeartRateBpm", "Intensity", "TriggerMethod", "Track", "Notes"]
        assert lap.findtext(f"{TCX}Intensity") == ("Resting" if name == "Recovery"
                                                   else "Active")
        assert lap.findtext(f"{TCX}Notes") == f"{name} (phase_index {index})"
        inside = [(t, bpm, flags) for t, bpm, flags in stored if start_s <= t < end_s]
        trusted = [bpm for _, bpm, flags in inside if bpm >= 1 and not flags & int(UNTRUSTED)]
        assert int(lap.findtext(f"{TCX}MaximumHeartRateBpm/{TCX}Value")) == max(trusted)
        assert int(lap.findtext(f"{TCX}AverageHeartRateBpm/{TCX}Value")) == round(
            sum(trusted) / len(trusted))
        points = lap.findall(f"{TCX}Track/{TCX}Trackpoint")
        assert len(points) == sum(1 for _, bpm, _ in inside if bpm >= 1)
        for point in points:
            when = datetime.fromisoformat(point.findtext(f"{TCX}Time"))
            assert _at(start_s) <= when < _at(end_s)
        points_total += len(points)
    assert points_total == sum(1 for _, bpm, _ in stored if bpm >= 1)


def test_phases_come_from_the_stored_phase_changes_when_the_actions_cannot_be_replayed(
        db, recorded, tmp_path):
    """A newer app's action this version does not know: the phase-change events, stamped
    when the phase was shown, still say which phase each sample fell in."""
    changes = [(0.1, 0), (45.2, 1), (100.3, 3), (170.4, 4)]
    with fast_writer(db, recorded.stored) as writer:
        writer.submit_event(EventRecord(EventKind.PHASE_CHANGE, 45.2, _at(45.2), None,
                                        {"action": "rewind", "phase_index": 0}))
        for t_s, index in changes:
            writer.submit_event(EventRecord(EventKind.PHASE_CHANGE, t_s, _at(t_s), None, {
                "phase_index": index, "phase_name": SHORT.phases[index].name}))
        assert writer.flush(20.0)
    sid = recorded.stored.session_id
    export_session(db, sid, "csv", tmp_path)

    rows = read_csv(tmp_path / f"session-{sid}_HIAIM-003_samples.csv")
    for row in rows:
        t_s = float(row["t_s"])
        shown = [index for start_s, index in changes if start_s <= t_s][-1]
        assert (int(row["phase_index"]), row["phase_name"]) == (shown,
                                                                SHORT.phases[shown].name)
    by_t = {r["t_s"]: r["phase_index"] for r in rows}
    assert (by_t["0.500"], by_t["45.500"], by_t["100.500"], by_t["239.500"]) == (
        "0", "1", "3", "4")
