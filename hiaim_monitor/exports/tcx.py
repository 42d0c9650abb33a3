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

- ActivityLap_t's last children are [Notes], [Extensions]; Intensity_t is Active | Resting.

One Activity with one Lap per phase as it ran (``phases``: pauses, skips and extensions
included; a phase cut to nothing has no lap), so training tools show the intervals: its
StartTime is the phase's start and TotalTimeSeconds the time its countdown ran (pauses
left out, as a watch's timer time), its average and maximum heart rate
those of the phase's trusted samples, Intensity Resting for a recovery phase and Active
otherwise, and its Notes the phase's name and index. One Trackpoint per sample whose heart
rate TCX can hold (1–255 bpm), in the lap whose window holds it (a sample before the first
phase goes to the first lap, one after the last to the last). Times are session start +
session clock, so they increase strictly. A session with no phase that ran (stopped at once)
gets one lap covering it.
"""

from __future__ import annotations

import bisect
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import timedelta
from typing import Final, NamedTuple

import sqlalchemy as sa

from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import (
    ExportOptions,
    FileSet,
    is_artifact_sample,
    iso_utc,
    participant_stem,
)
from hiaim_monitor.exports.phases import PhaseSpan, phase_spans
from hiaim_monitor.protocols import PhaseKind
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


class _Point(NamedTuple):
    t_s: float
    bpm: int
    trusted: bool


def export_tcx(db: Database, session: data.ExportSession, files: FileSet,
               options: ExportOptions) -> None:
    """One ``session-<id>_<code>.tcx`` per participant."""
    spans = phase_spans(db, session)
    for p in session.participants:
        stem = participant_stem(session.session_id, p.study_code,
                                p.display_name if options.with_names else None)
        tree = ET.ElementTree(_document(session, p, spans,
                                        data.samples(db, p.session_participant_id), options))
        ET.indent(tree)
        with files.open(f"{stem}.tcx", binary=True) as f:
            # Written by hand: ElementTree's own uses single quotes, which some importers
            # that match the declaration literally do not accept.
            f.write(XML_DECLARATION)
            tree.write(f, encoding="UTF-8", xml_declaration=False)
            f.write(b"\n")


def _document(session: data.ExportSession, p: data.ExportParticipant,
              spans: Sequence[PhaseSpan], samples: Sequence[sa.Row],
              options: ExportOptions) -> ET.Element:
    low, high = TCX_BPM_RANGE
    points = [_Point(t_s, int(bpm), not is_artifact_sample(flags))
              for t_s, _wall, bpm, _pct, _level, flags, _contact, _energy in samples
              if low <= bpm <= high]
    laps = list(spans) or [PhaseSpan(-1, "", PhaseKind.WARM_UP, 0.0, session.end_s)]
    # Which lap each point is in: the last lap starting at or before it (the first for
    # points before the start).
    starts_s = [lap.start_s for lap in laps[1:]]
    by_lap: list[list[_Point]] = [[] for _ in laps]
    for point in points:
        by_lap[bisect.bisect_right(starts_s, point.t_s)].append(point)

    # The namespace is declared as the default on the root and the tags are left bare:
    # ElementTree's own default_namespace option refuses unqualified attributes (Sport).
    root = ET.Element("TrainingCenterDatabase", xmlns=TCX_NS)
    activity = _sub(_sub(root, "Activities"), "Activity", Sport="Other")
    _sub(activity, "Id", iso_utc(session.started_utc))
    for lap_span, lap_points in zip(laps, by_lap, strict=True):
        _lap(activity, session, lap_span, lap_points, options)
    who = f"{p.study_code} ({p.display_name})" if options.with_names else p.study_code
    _sub(activity, "Notes", f"HI AIM Monitor session {session.session_id}, "
                            f"{session.protocol.name}, {who}")
    return root


def _lap(activity: ET.Element, session: data.ExportSession, span: PhaseSpan,
         points: Sequence[_Point], options: ExportOptions) -> None:
    low, _high = TCX_BPM_RANGE
    lap = _sub(activity, "Lap",
               StartTime=iso_utc(session.started_utc + timedelta(seconds=span.start_s)))
    # Timer time, as a watch records it: a pause does not count (the trackpoints still
    # span the whole window).
    _sub(lap, "TotalTimeSeconds", f"{span.running_s:.3f}")
    _sub(lap, "DistanceMeters", "0")  # indoor interval training: no distance recorded
    _sub(lap, "Calories", "0")  # not measured; the schema requires the element
    trusted = [point.bpm for point in points if point.trusted]
    if trusted:
        _bpm(lap, "AverageHeartRateBpm", max(low, round(sum(trusted) / len(trusted))))
        _bpm(lap, "MaximumHeartRateBpm", max(trusted))
    _sub(lap, "Intensity", "Resting" if span.kind is PhaseKind.RECOVERY else "Active")
    _sub(lap, "TriggerMethod", "Manual")
    kept = [point for point in points if point.trusted or not options.omit_artifacts]
    if kept:  # Track_t needs at least one Trackpoint; a Lap may have no Track at all
        track = _sub(lap, "Track")
        for point in kept:
            element = _sub(track, "Trackpoint")
            _sub(element, "Time",
                 iso_utc(session.started_utc + timedelta(seconds=point.t_s)))
            _bpm(element, "HeartRateBpm", point.bpm)
    if span.index >= 0:
        _sub(lap, "Notes", f"{span.name} (phase_index {span.index})")
