"""The end-of-session figures of one participant, from what the engine holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hiaim_monitor.engine.adherence import summarise_session
from hiaim_monitor.engine.alarms import AlarmEvent
from hiaim_monitor.engine.codes import UNTRUSTED
from hiaim_monitor.engine.intervals import detect_intervals
from hiaim_monitor.engine.state import Person


def participant_report(person: Person, samples: dict[str, np.ndarray],
                       beats: dict[str, np.ndarray], alarms: Sequence[AlarmEvent],
                       end_s: float) -> dict[str, Any]:
    """Counts, time in classes and zones, adherence, detected bouts and alarms, for the
    samples from session start up to ``end_s``."""
    t = samples["t_s"].astype(np.float64)
    in_session = (t >= 0) & (t < end_s)
    t = t[in_session]
    pct = samples["pct"][in_session].astype(np.float64)
    level = samples["level"][in_session]
    bpm = samples["bpm"][in_session].astype(np.float64)
    flags = samples["flags"][in_session]
    session = summarise_session(t, bpm, pct, level, end_s=end_s, adherence=person.adherence)
    pid = person.p.study_code
    return {
        "samples_received": person.samples,
        "packets_dropped": person.dropped,
        "samples_untrusted": int(np.count_nonzero(flags & int(UNTRUSTED))),
        "beats": person.beats,
        "beats_flagged": int(np.count_nonzero(beats["flags"])),
        **session.to_dict(),
        "adherence": [a.to_dict() for a in person.adherence],
        "detected_intervals": [d.to_dict() for d in detect_intervals(t, pct, level)],
        "alarms": [{"kind": str(e.kind), "raised": e.raised, "t_s": round(e.t_s, 1)}
                   for e in alarms if e.study_code == pid],
    }
