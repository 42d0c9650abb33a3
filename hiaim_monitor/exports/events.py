"""Per-session event log: everything the session store recorded besides the samples, beats
and interval results, one row per event in time order.

``session-<id>_events.csv`` (header row; quoted as RFC 4180; LF line ends; UTF-8):
session_id, wall_utc (ISO 8601), t_s (session clock), kind, study_code (empty: about the
whole session), [display_name], details (one line a person reads, e.g. ``skip High 1/1
(phase_index 3)``), detail_json (the stored detail as it is, so nothing is lost to the wording).

kind: alarm-raised, alarm-cleared, alarm-acknowledged, note (the operator's note as it read
then; a newline in it stays inside its quoted cell), operator-action (pause, resume, skip,
extend, stop: stored as a phase change that says what was done), phase-change (the phase
shown from then on), connection-change (a strap's state or battery reading), gap (the app
was not running), storage (the database failed for a while), or any kind a newer version
stores, written as it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, Final

import sqlalchemy as sa

from hiaim_monitor.exports import data
from hiaim_monitor.exports.common import CSV_OPTIONS, ExportOptions, FileSet, iso_utc, num
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.schema import EventKind, EventRow

COLUMNS: Final = ("session_id", "wall_utc", "t_s", "kind", "study_code", "display_name",
                  "details", "detail_json")
OPERATOR_ACTION: Final = "operator-action"


def export_events(db: Database, session: data.ExportSession, files: FileSet,
                  options: ExportOptions) -> None:
    """The session's ``_events.csv``. ``omit_artifacts`` changes nothing here."""
    who = {p.session_participant_id: p for p in session.participants}
    rows = event_rows(db, session)
    with files.open(f"session-{session.session_id}_events.csv") as f:
        out = csv.writer(f, **CSV_OPTIONS)
        out.writerow([c for c in COLUMNS if options.with_names or c != "display_name"])
        for wall_utc, t_s, kind, sp_id, detail in rows:
            detail = detail if isinstance(detail, dict) else {}
            person = who.get(sp_id) if sp_id is not None else None
            row: list[Any] = [session.session_id, iso_utc(wall_utc), num(t_s, 3),
                              event_kind(kind, detail),
                              person.study_code if person is not None else ""]
            if options.with_names:
                row.append(person.display_name if person is not None else "")
            row += [describe(kind, detail),
                    json.dumps(detail, ensure_ascii=False, sort_keys=True)]
            out.writerow(row)


def event_rows(db: Database, session: data.ExportSession) -> Sequence[sa.Row]:
    """(wall_utc, t_s, kind, session_participant_id, detail) rows in time order."""
    with storage_errors(db), db.engine.connect() as conn:
        return conn.execute(
            sa.select(EventRow.wall_utc, EventRow.t_s, EventRow.kind,
                      EventRow.session_participant_id, EventRow.detail)
            .where(EventRow.session_id == session.session_id)
            .order_by(EventRow.t_s, EventRow.id)).all()


def event_kind(kind: EventKind | str, detail: dict[str, Any]) -> str:
    """The stored kind, except an operator action (stored as a phase change) is its own."""
    if kind == EventKind.PHASE_CHANGE and "action" in detail:
        return OPERATOR_ACTION
    return str(kind)


def describe(kind: EventKind | str, detail: dict[str, Any]) -> str:
    """One line for a person; the exact values are in detail_json."""
    if kind == EventKind.PHASE_CHANGE:
        phase = _phase(detail)
        if "action" in detail:
            text = f"{detail['action']} {phase}".strip()
            if "by_s" in detail:
                text += f" by {num(_number(detail['by_s']), 0)} s"
            if "paused_s" in detail:
                text += f" after {num(_number(detail['paused_s']), 1)} s paused"
            return text
        return phase or "session over"
    if kind in (EventKind.ALARM_RAISED, EventKind.ALARM_CLEARED,
                EventKind.ALARM_ACKNOWLEDGED):
        return ": ".join(str(v) for v in (detail.get("alarm"), detail.get("detail")) if v)
    if kind == EventKind.NOTE:
        return str(detail.get("text", ""))
    if kind == EventKind.CONNECTION_CHANGE:
        if "battery_pct" in detail:
            return f"battery {detail['battery_pct']} %"
        state = detail.get("state")
        if isinstance(state, str):  # stored as str(StrapState.X): "StrapState.STREAMING"
            state = state.rsplit(".", 1)[-1].lower()
        return ": ".join(str(v) for v in (state, detail.get("detail")) if v)
    return "; ".join(f"{key}={value}" for key, value in sorted(detail.items()))


def _phase(detail: dict[str, Any]) -> str:
    index, name = detail.get("phase_index"), detail.get("phase_name")
    if not isinstance(index, int):
        return ""
    # The index as in every other export (0-based), beside the name a person knows.
    return f"{name} (phase_index {index})" if name else f"phase_index {index}"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
