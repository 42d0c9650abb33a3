"""A recorded session with one block of short bouts (tests/block_trace.py) for the storage,
export and report tests: three participants with the hand-built trace, whose every block
figure is known. HIAIM-001 follows the trace (the block is achieved: peak 92 %, 15 s at or
above 85 %, bout peaks 82, 88, 84, 92); HIAIM-002 stays just under the target (84.9 %);
HIAIM-003's strap was lost before the block (no data in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from hiaim_monitor.engine.blocks import protocol_adherence
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.storage import (
    Database,
    SampleRecord,
    StoredSession,
    finish_session,
    start_session,
)
from tests.block_trace import block_protocol, known_trace, levels_of
from tests.storage.helpers import START_UTC, fast_writer, roster

END_S = 280.0


@dataclass
class BlockSession:
    stored: StoredSession
    protocol: TrainingProtocol


def traces() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    t, pct, level = known_trace()
    under = np.minimum(pct, 84.9)
    lost = t < 60
    return {"HIAIM-001": (t, pct, level),
            "HIAIM-002": (t, under, np.minimum(level, levels_of(under))),
            "HIAIM-003": (t[lost], pct[lost], level[lost])}


def record_block_session(db: Database) -> BlockSession:
    protocol = block_protocol()
    people = roster(3)
    stored = start_session(db, protocol, people, started_utc=START_UTC, site="Herlev")
    with fast_writer(db, stored) as writer:
        for p in people:
            sp = stored.session_participant_ids[p.study_code]
            t, pct, level = traces()[p.study_code]
            writer.submit_samples(
                SampleRecord(sp, float(ts), START_UTC + timedelta(seconds=float(ts)),
                             round(p.hrmax.bpm * float(x) / 100), float(x), int(lv),
                             0 if lv != Level.UNKNOWN else 2, SensorContact.DETECTED)
                for ts, x, lv in zip(t, pct, level, strict=True))
            for result in protocol_adherence(t, pct, level, protocol):
                writer.submit_adherence(sp, result)
        assert writer.flush(20.0)
    finish_session(db, stored.session_id, ended_utc=START_UTC + timedelta(seconds=END_S))
    return BlockSession(stored, protocol)
