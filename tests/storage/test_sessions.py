"""Starting a stored session: the protocol as it ran, participants and straps by their
codes, the HRmax used that day."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from hiaim_monitor.hrmax import HRMaxMethod, measured_hrmax
from hiaim_monitor.protocols import list_presets, load_protocol
from hiaim_monitor.storage import SessionStatus, StorageError, finish_session, start_session
from hiaim_monitor.storage.schema import (
    ParticipantRow,
    SessionParticipantRow,
    SessionRow,
    StrapRow,
)
from hiaim_monitor.storage.sessions import protocol_from_json, protocol_to_json
from tests.storage.helpers import START_UTC, roster


@pytest.mark.parametrize("preset", list_presets())
def test_protocol_snapshot_gives_back_the_same_protocol(preset):
    protocol = load_protocol(preset)
    assert protocol_from_json(protocol_to_json(protocol)) == protocol


def test_a_returning_participant_is_the_same_person_with_todays_hrmax(db):
    first = roster(2)
    start_session(db, load_protocol("hi-aim"), first, started_utc=START_UTC)
    retested = dataclasses.replace(first[0], hrmax=measured_hrmax(181))
    second = start_session(db, load_protocol("norwegian-4x4"), [retested],
                           started_utc=START_UTC, operator="physio", site="Herlev")

    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ParticipantRow)) == 2
        assert s.scalar(sa.select(sa.func.count()).select_from(StrapRow)) == 2
        sp = s.get(SessionParticipantRow, second.session_participant_ids["HIAIM-001"])
        assert sp is not None
        assert (sp.hrmax_bpm, sp.hrmax_method) == (181.0, HRMaxMethod.MEASURED)
        session = s.get(SessionRow, second.session_id)
        assert session is not None
        assert (session.protocol_key, session.status) == ("norwegian-4x4",
                                                          SessionStatus.RUNNING)
        assert (session.operator, session.site) == ("physio", "Herlev")


def test_finishing_an_unknown_session_names_it(db):
    with pytest.raises(StorageError, match=r"^There is no session 99 in .*\.$"):
        finish_session(db, 99)
