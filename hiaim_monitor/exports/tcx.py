"""Per-participant Garmin Training Center XML (TCX v2), so a session opens in common
training tools (Garmin Connect, Strava, Golden Cheetah, ...).

Facts from Garmin's schema, TrainingCenterDatabasev2.xsd
(https://www8.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd):
- root TrainingCenterDatabase in the namespace below; Activities/Activity with the required
  attribute Sport (Running | Biking | Other) and the required child Id (xs:dateTime);
- Lap (at least one) has the required attribute StartTime and, in this order,
  TotalTimeSeconds, DistanceMeters, [MaximumSpeed], Calories, [AverageHeartRateBpm],
  [MaximumHeartRateBpm], Intensity (Active | Resting), [Cadence], TriggerMethod, Track*,
  [Notes];
- Track: one or more Trackpoint; Trackpoint: Time (required), then optional elements,
  among them HeartRateBpm/Value, an unsignedByte of at least 1;
- Activity children after Lap: [Notes], ...

One Activity with one Lap covering the session; one Trackpoint per sample whose heart rate
TCX can hold (1–255 bpm). Times are session start + session clock, so they increase
strictly and match the Lap's StartTime + TotalTimeSeconds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import atomic_file, is_artifact_sample, iso_utc, participant_stem
from hiaim_monitor.storage.database import Database

TCX_NS: Final = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'
TCX_BPM_RANGE: Final = (1, 255)  # HeartRateInBeatsPerMinute_t: unsignedByte, minInclusive 1


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, name, attrib)
    if text is not None:
        element.text = text
    return element


def _bpm(parent: ET.Element, name: str, bpm: int) -> None:
    _sub(_sub(parent, name), "Value", str(bpm))


def export_tcx(db: Database, session: data.ExportSession, out_dir: Path, *, with_names: bool,
               omit_artifacts: bool) -> list[Path]:
    """One ``session-<id>_<code>.tcx`` per participant."""
    written = []
    for p in session.participants:
        stem = participant_stem(session.session_id, p.study_code,
                                p.display_name if with_names else None)
        path = out_dir / f"{stem}.tcx"
        tree = ET.ElementTree(_document(session, p, data.samples(db, p.session_participant_id),
                                        with_names=with_names, omit_artifacts=omit_artifacts))
        ET.indent(tree)
        with atomic_file(path, binary=True) as f:
            # Written by hand: ElementTree's own uses single quotes, which some importers
            # that match the declaration literally do not accept.
            f.write(XML_DECLARATION)
            tree.write(f, encoding="UTF-8", xml_declaration=False)
            f.write(b"\n")
        written.append(path)
    return written


def _document(session: data.ExportSession, p: data.ExportParticipant,
              samples: Sequence[sa.Row], *,
              with_names: bool, omit_artifacts: bool) -> ET.Element:
    low, high = TCX_BPM_RANGE
    points = [(t_s, bpm) for t_s, _wall, bpm, _pct, _level, flags, _contact in samples
              if low <= bpm <= high and not (omit_artifacts and is_artifact_sample(flags))]
    trusted = [bpm for t_s, _wall, bpm, _pct, _level, flags, _contact in samples
               if low <= bpm <= high and not is_artifact_sample(flags)]
    start = iso_utc(session.started_utc)

    # The namespace is declared as the default on the root and the tags are left bare:
    # ElementTree's own default_namespace option refuses unqualified attributes (Sport).
    root = ET.Element("TrainingCenterDatabase", xmlns=TCX_NS)
    activity = _sub(_sub(root, "Activities"), "Activity", Sport="Other")
    _sub(activity, "Id", start)
    lap = _sub(activity, "Lap", StartTime=start)
    _sub(lap, "TotalTimeSeconds", f"{session.end_s:.3f}")
    _sub(lap, "DistanceMeters", "0")  # indoor interval training: no distance recorded
    _sub(lap, "Calories", "0")  # not measured; the schema requires the element
    if trusted:
        _bpm(lap, "AverageHeartRateBpm", max(low, round(sum(trusted) / len(trusted))))
        _bpm(lap, "MaximumHeartRateBpm", max(trusted))
    _sub(lap, "Intensity", "Active")
    _sub(lap, "TriggerMethod", "Manual")
    if points:  # Track_t needs at least one Trackpoint; a Lap may have no Track at all
        track = _sub(lap, "Track")
        for t_s, bpm in points:
            point = _sub(track, "Trackpoint")
            _sub(point, "Time", iso_utc(session.started_utc + timedelta(seconds=t_s)))
            _bpm(point, "HeartRateBpm", int(bpm))
    who = f"{p.study_code} ({p.display_name})" if with_names else p.study_code
    _sub(activity, "Notes", f"HI AIM Monitor session {session.session_id}, "
                            f"{session.protocol.name}, {who}")
    return root
