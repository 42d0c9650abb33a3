"""Exports read back and compared with what the store holds: every sample in the CSV, every
beat in the RR file (the flagged ones marked, or dropped on request), a TCX file training
tools open, and the summary tables — with study codes, and display names only on request."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hiaim_monitor.admin import run_admin_command
from hiaim_monitor.engine.classify import zone_of
from hiaim_monitor.engine.codes import UNTRUSTED, Level
from hiaim_monitor.exports import ExportError, export_session
from hiaim_monitor.storage.schema import (
    PhaseAdherenceRow,
    RRIntervalRow,
    SampleRow,
)
from tests.storage.helpers import START_UTC, read_csv
from tests.storage.recorded import (
    DURATION_S,
    IMPLAUSIBLE_AT,
    NOT_JUDGED,
    SHORT,
    WORK_PHASES,
    admin_parser,
    store_phase_cut_short,
)

TCX = "{http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2}"


def stored_rows(db, table, sp_id, *columns):
    with db.session() as s:
        return s.execute(sa.select(*(getattr(table, c) for c in columns))
                         .where(table.session_participant_id == sp_id)
                         .order_by(table.t_s if hasattr(table, "t_s") else table.phase_index)
                         ).all()


def by_t_energy(rows):
    return {r["t_s"]: r["energy_kj"] for r in rows if r["energy_kj"]}


def test_csv_has_every_stored_sample_with_class_zone_contact_and_flag_names(db, recorded,
                                                                            tmp_path):
    sid = recorded.stored.session_id
    paths = export_session(db, sid, "csv", tmp_path)

    assert sorted(p.name for p in paths) == [f"session-{sid}_HIAIM-00{i}_samples.csv"
                                            for i in (1, 2, 3)]
    for code, sp_id in recorded.stored.session_participant_ids.items():
        rows = read_csv(tmp_path / f"session-{sid}_{code}_samples.csv")
        stored = stored_rows(db, SampleRow, sp_id, "t_s", "wall_utc", "bpm", "pct_hrmax",
                             "level", "flags", "contact", "energy_kj")
        assert len(rows) == len(stored) == 240
        assert list(rows[0]) == ["session_id", "study_code", "wall_utc", "t_s", "phase_index",
                                 "phase_name", "bpm", "pct_hrmax", "class", "zone", "contact",
                                 "flags", "energy_kj"]
        for row, (t_s, wall, bpm, pct, level, _, contact, energy_kj) in zip(rows, stored,
                                                                           strict=True):
            assert (row["session_id"], row["study_code"]) == (str(sid), code)
            assert datetime.fromisoformat(row["wall_utc"]) == wall
            assert float(row["t_s"]) == pytest.approx(t_s, abs=1e-3)
            assert int(row["bpm"]) == bpm
            assert row["class"] == Level(level).name.lower()
            assert row["contact"] == contact.value
            assert row["energy_kj"] == ("" if energy_kj is None else str(energy_kj))
            if pct is None:
                assert row["pct_hrmax"] == row["zone"] == ""
            else:
                assert float(row["pct_hrmax"]) == pytest.approx(pct, abs=5e-3)
                assert int(row["zone"]) == zone_of(pct)
        by_t = {r["t_s"]: r["flags"] for r in rows}
        assert by_t["50.500"] == "no_contact"
        assert by_t["60.500"] == "malformed"
        assert by_t["16.500"] == "unconfirmed_jump"
        assert by_t[f"{IMPLAUSIBLE_AT}.500"] == "implausible"
        assert rows[0]["flags"] == ""
        assert by_t_energy(rows) == {f"{i}.500": str(3 * i) for i in range(0, 240, 10)}
        contacts = {r["contact"] for r in rows}
        assert contacts == ({"not_supported", "not_detected"} if code == "HIAIM-003"
                            else {"detected", "not_detected"})


def test_display_names_appear_only_when_asked_for(db, recorded, tmp_path):
    sid = recorded.stored.session_id
    names = [p.display_name for p in recorded.people]
    for fmt in ("csv", "rr", "tcx", "summary"):
        for path in export_session(db, sid, fmt, tmp_path / fmt):
            text = path.read_text(encoding="utf-8")
            assert not any(n in text or n in path.name for n in names), path
            if path.name.startswith(f"session-{sid}_HIAIM-"):
                assert path.name.split("_")[1].removesuffix(".tcx") in {
                    "HIAIM-001", "HIAIM-002", "HIAIM-003"}

    named = export_session(db, sid, "csv", tmp_path / "named", with_names=True)
    assert sorted(p.name for p in named) == [
        f"session-{sid}_HIAIM-00{i}_Zoë-Ærø-{i}_samples.csv" for i in (1, 2, 3)]
    rows = read_csv(named[0])
    assert {r["display_name"] for r in rows} == {"Zoë Ærø 1"}
    assert {r["study_code"] for r in rows} == {"HIAIM-001"}
    tcx = export_session(db, sid, "tcx", tmp_path / "named", with_names=True)
    assert "Zoë Ærø 1" in tcx[0].read_text(encoding="utf-8")


def test_rr_file_has_every_beat_and_the_sidecar_marks_the_flagged_ones(db, recorded,
                                                                       tmp_path):
    sid = recorded.stored.session_id
    paths = export_session(db, sid, "rr", tmp_path)

    assert len(paths) == 6
    for code, sp_id in recorded.stored.session_participant_ids.items():
        stored = stored_rows(db, RRIntervalRow, sp_id, "t_s", "rr_ms", "flags")
        lines = (tmp_path / f"session-{sid}_{code}_rr.txt").read_text().splitlines()
        # Bare numbers only: nothing an HRV tool could trip over.
        assert [float(v) for v in lines] == pytest.approx([rr for _, rr, _ in stored],
                                                          abs=1e-3)
        assert all(line.replace(".", "", 1).isdigit() for line in lines)
        sidecar = read_csv(tmp_path / f"session-{sid}_{code}_rr_flags.txt")
        assert [r["line"] for r in sidecar] == [str(i) for i in range(1, len(stored) + 1)]
        assert [r["flags"] for r in sidecar] == [
            {0: "", 1: "out_of_range", 2: "successive_diff",
             3: "out_of_range|successive_diff"}[f] for _, _, f in stored]
        assert [float(r["t_s"]) for r in sidecar] == pytest.approx([t for t, _, _ in stored],
                                                                   abs=1e-3)
        assert sum(1 for r in sidecar if r["flags"]) == sum(1 for *_, f in stored if f) > 0


def test_omit_artifacts_drops_exactly_the_flagged_beats(db, recorded, tmp_path):
    sid = recorded.stored.session_id
    export_session(db, sid, "rr", tmp_path, omit_artifacts=True)

    for code, sp_id in recorded.stored.session_participant_ids.items():
        stored = stored_rows(db, RRIntervalRow, sp_id, "t_s", "rr_ms", "flags")
        kept = [rr for _, rr, flags in stored if not flags]
        lines = (tmp_path / f"session-{sid}_{code}_rr.txt").read_text().splitlines()
        assert [float(v) for v in lines] == pytest.approx(kept, abs=1e-3)
        assert len(kept) < len(stored)
        # The sidecar still lists every beat; the omitted ones have no line number.
        sidecar = read_csv(tmp_path / f"session-{sid}_{code}_rr_flags.txt")
        assert len(sidecar) == len(stored)
        assert [r["line"] == "" for r in sidecar] == [bool(f) for *_, f in stored]
        assert [int(r["line"]) for r in sidecar if r["line"]] == list(range(1, len(kept) + 1))


def test_tcx_is_a_garmin_v2_activity_with_a_lap_per_phase_and_a_trackpoint_per_sample(
        db, recorded, tmp_path):
    sid = recorded.stored.session_id
    paths = export_session(db, sid, "tcx", tmp_path)

    assert sorted(p.name for p in paths) == [f"session-{sid}_HIAIM-00{i}.tcx" for i in (1, 2, 3)]
    code, sp_id = "HIAIM-002", recorded.stored.session_participant_ids["HIAIM-002"]
    root = ET.parse(tmp_path / f"session-{sid}_{code}.tcx").getroot()
    assert root.tag == f"{TCX}TrainingCenterDatabase"
    (activity,) = root.findall(f"{TCX}Activities/{TCX}Activity")
    assert activity.get("Sport") == "Other"
    assert activity.findtext(f"{TCX}Id") == "2026-03-02T09:30:00.000Z"
    laps = activity.findall(f"{TCX}Lap")
    # Nothing changed the plan: a lap per protocol phase, back to back.
    assert [lap.findtext(f"{TCX}Notes") for lap in laps] == [
        f"{phase.name} (phase_index {i})" for i, phase in enumerate(SHORT.phases)]
    assert laps[0].get("StartTime") == activity.findtext(f"{TCX}Id")
    start_s = 0.0
    for lap, phase in zip(laps, SHORT.phases, strict=True):
        assert datetime.fromisoformat(lap.get("StartTime")) == START_UTC + timedelta(
            seconds=start_s)
        assert float(lap.findtext(f"{TCX}TotalTimeSeconds")) == phase.duration_s
        start_s += phase.duration_s
        # The schema fixes the order of a lap's children.
        assert [child.tag.removeprefix(TCX) for child in lap] == [
            "TotalTimeSeconds", "DistanceMeters", "Calories", "AverageHeartRateBpm",
            "MaximumHeartRateBpm", "Intensity", "TriggerMethod", "Track", "Notes"]
        assert (lap.findtext(f"{TCX}DistanceMeters"), lap.findtext(f"{TCX}Calories"),
                lap.findtext(f"{TCX}TriggerMethod")) == ("0", "0", "Manual")
    assert start_s == DURATION_S
    assert [lap.findtext(f"{TCX}Intensity") for lap in laps] == [
        "Active", "Active", "Resting", "Active", "Active"]

    stored = stored_rows(db, SampleRow, sp_id, "t_s", "bpm", "flags")
    points = activity.findall(f"{TCX}Lap/{TCX}Track/{TCX}Trackpoint")
    with_hr = [(t, bpm) for t, bpm, _ in stored if bpm >= 1]  # TCX cannot hold 0 bpm
    assert len(points) == len(with_hr) == len(stored) - 1
    for point, (t_s, bpm) in zip(points, with_hr, strict=True):
        when = datetime.fromisoformat(point.findtext(f"{TCX}Time"))
        assert when == START_UTC + timedelta(seconds=t_s)
        assert int(point.findtext(f"{TCX}HeartRateBpm/{TCX}Value")) == bpm
    trusted = [bpm for _, bpm, flags in stored if bpm >= 1 and not flags & int(UNTRUSTED)]
    assert max(int(lap.findtext(f"{TCX}MaximumHeartRateBpm/{TCX}Value"))
               for lap in laps) == max(trusted)

    export_session(db, sid, "tcx", tmp_path / "clean", omit_artifacts=True)
    clean = ET.parse(tmp_path / "clean" / f"session-{sid}_{code}.tcx").getroot()
    assert len(clean.findall(f".//{TCX}Trackpoint")) == sum(
        1 for _, bpm, flags in stored if bpm >= 1 and not flags & int(UNTRUSTED))


def test_summary_has_a_row_per_prescribed_interval_and_per_participant(db, recorded,
                                                                       tmp_path):
    sid = recorded.stored.session_id
    paths = export_session(db, sid, "summary", tmp_path)

    assert [p.name for p in paths] == [f"session-{sid}_intervals.csv",
                                       f"session-{sid}_participants.csv"]
    intervals = read_csv(paths[0])
    assert [(r["study_code"], int(r["phase_index"])) for r in intervals] == [
        (code, i) for code in ("HIAIM-001", "HIAIM-002", "HIAIM-003") for i in WORK_PHASES]
    codes = {sp: code for code, sp in recorded.stored.session_participant_ids.items()}
    with db.session() as s:
        stored = {(codes[a.session_participant_id], a.phase_index): a for a in s.scalars(
            sa.select(PhaseAdherenceRow)
            .where(PhaseAdherenceRow.session_participant_id.in_(codes)))}
    assert len(stored) == 5
    for row in intervals:
        key = (row["study_code"], int(row["phase_index"]))
        if key == NOT_JUDGED:
            assert (row["judged"], row["achieved"], row["seconds_in_target"]) == ("0", "", "")
            assert (row["phase_name"], row["target"]) == ("High 1/1", "high")
            continue
        a = stored[key]
        assert (row["judged"], row["phase_name"], row["kind"]) == ("1", a.phase_name,
                                                                   a.kind.value)
        assert row["achieved"] == str(int(a.achieved))
        assert float(row["seconds_in_target"]) == pytest.approx(a.seconds_in_target, abs=0.01)
        assert float(row["fraction_in_target_after_ramp"]) == pytest.approx(
            a.fraction_in_target_after_ramp, abs=1e-4)
    assert {r["achieved"] for r in intervals} >= {"0", "1"}  # the data give both outcomes

    people = read_csv(paths[1])
    assert [r["study_code"] for r in people] == ["HIAIM-001", "HIAIM-002", "HIAIM-003"]
    # An age-formula HRmax gives the age back: not there unless asked for.
    assert not {"hrmax_bpm", "hrmax_method"} & set(people[0])
    for row in people:
        code = row["study_code"]
        samples = recorded.samples[code]
        trusted = [s.bpm for s in samples if not s.flags & int(UNTRUSTED)]
        assert int(row["samples"]) == len(samples)
        assert int(row["samples_untrusted"]) == len(samples) - len(trusted)
        assert int(row["beats"]) == len(recorded.beats[code])
        assert int(row["beats_flagged"]) == sum(1 for b in recorded.beats[code] if b.flags)
        assert float(row["peak_bpm"]) == max(trusted)
        assert min(trusted) < float(row["mean_bpm"]) < max(trusted)
        in_classes = sum(float(row[f"seconds_{c}"])
                         for c in ("below", "intermediate", "high", "above_ceiling"))
        assert in_classes + float(row["seconds_no_data"]) == pytest.approx(DURATION_S, abs=0.02)
        assert math.isclose(sum(float(row[f"seconds_zone_{z}"]) for z in range(6)), in_classes,
                            abs_tol=0.02)
        judged = [a for (c, _), a in stored.items() if c == code]
        assert int(row["intervals_judged"]) == len(judged)
        assert int(row["intervals_achieved"]) == sum(a.achieved for a in judged)
        assert int(row["intervals_prescribed"]) == len(WORK_PHASES)


def test_a_phase_cut_short_is_exported_not_judged_with_planned_and_ran_seconds(db, recorded,
                                                                                tmp_path):
    code, _ = NOT_JUDGED
    store_phase_cut_short(db, recorded)
    sid = recorded.stored.session_id
    intervals, people = (read_csv(p) for p in export_session(db, sid, "summary", tmp_path))
    row = next(r for r in intervals if (r["study_code"], int(r["phase_index"])) == NOT_JUDGED)
    assert (row["planned_s"], row["ran_s"], row["judged"], row["achieved"]) == (
        "60.000", "20.000", "0", "")
    assert row["seconds_in_target"] == "12.00"  # measured, just not judged
    judged_whole = next(r for r in intervals if r["study_code"] == "HIAIM-001")
    assert (judged_whole["planned_s"], judged_whole["ran_s"], judged_whole["judged"]) == (
        "60.000", "60.000", "1")
    third = next(r for r in people if r["study_code"] == code)
    assert (third["intervals_achieved"], third["intervals_judged"],
            third["intervals_prescribed"]) == ("0", "1", "2")


def test_hrmax_and_its_method_are_in_the_summary_only_when_asked_for(db, recorded, tmp_path,
                                                                     backend, capsys):
    sid = recorded.stored.session_id
    plain = read_csv(export_session(db, sid, "summary", tmp_path / "plain")[1])
    assert "hrmax" not in ",".join(plain[0])
    args = admin_parser().parse_args(["export", str(sid), "--format", "summary", "--out",
                                      str(tmp_path / "with"), "--with-hrmax",
                                      "--db", backend.url])
    assert run_admin_command(args) == 0
    people = read_csv(tmp_path / "with" / f"session-{sid}_participants.csv")
    assert [(r["study_code"], float(r["hrmax_bpm"]), r["hrmax_method"]) for r in people] == [
        (p.study_code, pytest.approx(p.hrmax.bpm, abs=0.05), p.hrmax.method.value)
        for p in recorded.people]
    assert {r["hrmax_method"] for r in people} == {"measured", "tanaka"}
    # The rest of the row is the same either way.
    for with_hrmax, without in zip(people, plain, strict=True):
        del with_hrmax["hrmax_bpm"], with_hrmax["hrmax_method"]
        assert with_hrmax == without


def test_an_unknown_session_or_format_is_refused_in_one_sentence(db, recorded, tmp_path):
    with pytest.raises(ExportError, match=r"^There is no session 999 in .*\.$"):
        export_session(db, 999, "csv", tmp_path)
    with pytest.raises(ExportError, match=r"^Unknown export format 'xlsx'; choose one of "
                                          r"csv, rr, tcx, summary, events, parquet, redcap\.$"):
        export_session(db, recorded.stored.session_id, "xlsx", tmp_path)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ExportError, match="is a file; give a folder with --out"):
        export_session(db, recorded.stored.session_id, "csv", a_file)
    assert not list(tmp_path.glob("session-*"))


def test_export_command_writes_the_files_and_prints_their_paths(backend, db, recorded,
                                                                tmp_path, capsys):
    sid = recorded.stored.session_id
    out = tmp_path / "made" / "here"
    args = admin_parser().parse_args(["export", str(sid), "--format", "rr", "--out", str(out),
                                      "--omit-artifacts", "--db", backend.url])
    assert run_admin_command(args) == 0
    printed = capsys.readouterr().out.splitlines()
    assert sorted(printed) == sorted(str(p) for p in out.iterdir())
    assert len(printed) == 6 and not list(out.glob("*.part"))

    args = admin_parser().parse_args(["export", "999", "--format", "csv", "--out", str(out),
                                      "--db", backend.url])
    assert run_admin_command(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("hiaim-monitor: error: There is no session 999") and \
        err.count("\n") == 1
