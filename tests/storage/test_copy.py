"""Copying a session recorded on the laptop (SQLite) into another database (SQLite and a
real PostgreSQL server): everything arrives, once, with identities matched."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from hiaim_monitor.storage import Database, open_database
from hiaim_monitor.storage.copy import CopyRefused, copy_session
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.schema import (
    EventRow,
    ParticipantRow,
    PhaseAdherenceRow,
    RRIntervalRow,
    SampleRow,
    SessionParticipantRow,
    SessionRow,
)
from tests.storage.recorded import record_session


@pytest.fixture
def laptop(tmp_path):
    local = open_database(f"sqlite:///{tmp_path}/laptop.sqlite3")
    yield local
    local.close()


def content(db: Database, session_id: int) -> dict[str, list[tuple]]:
    """What a session holds, by study code and time, without database ids."""
    sp = SessionParticipantRow
    code = ParticipantRow.study_code
    joined = sa.select(code, sp.id).join(sp, sp.participant_id == ParticipantRow.id).where(
        sp.session_id == session_id).subquery()

    def rows(table, *columns):
        query = (sa.select(joined.c.study_code, *columns)
                 .join(joined, joined.c.id == table.session_participant_id)
                 .order_by(joined.c.study_code, *columns[:1]))
        with db.engine.connect() as conn:
            return [tuple(None if isinstance(v, float) and math.isnan(v) else v for v in r)
                    for r in conn.execute(query)]

    with db.engine.connect() as conn:
        session = conn.execute(sa.select(
            SessionRow.protocol_key, SessionRow.protocol, SessionRow.host, SessionRow.site,
            SessionRow.operator, SessionRow.started_utc, SessionRow.ended_utc,
            SessionRow.status, SessionRow.notes).where(SessionRow.id == session_id)).all()
        events = conn.execute(sa.select(EventRow.t_s, EventRow.kind, EventRow.detail)
                              .where(EventRow.session_id == session_id)
                              .order_by(EventRow.t_s, EventRow.kind)).all()
        members = conn.execute(sa.select(ParticipantRow.study_code, sp.hrmax_bpm,
                                         sp.hrmax_method, sp.resting_bpm)
                               .join(sp, sp.participant_id == ParticipantRow.id)
                               .where(sp.session_id == session_id)
                               .order_by(ParticipantRow.study_code)).all()
    return {
        "session": [tuple(r) for r in session],
        "members": [tuple(r) for r in members],
        "samples": rows(SampleRow, SampleRow.t_s, SampleRow.bpm, SampleRow.pct_hrmax,
                        SampleRow.level, SampleRow.flags, SampleRow.contact),
        "beats": rows(RRIntervalRow, RRIntervalRow.t_s, RRIntervalRow.rr_ms,
                      RRIntervalRow.flags),
        "adherence": rows(PhaseAdherenceRow, PhaseAdherenceRow.phase_index,
                          PhaseAdherenceRow.seconds_in_target, PhaseAdherenceRow.achieved),
        "events": [(t, str(k), d) for t, k, d in events],
    }


def test_a_copied_session_holds_exactly_what_the_original_does(laptop, db):
    recorded = record_session(laptop)
    source_id = recorded.stored.session_id
    copied = copy_session(laptop, db, source_id)
    original, copy = content(laptop, source_id), content(db, copied.target_id)
    assert len(original["samples"]) == 3 * 240 and len(original["beats"]) > 600
    assert copy == original
    assert copied.rows == sum(len(original[k]) for k in ("samples", "beats", "adherence",
                                                          "events"))
    # The participants came along with their registry details.
    assert sorted(p.study_code for p in list_participants(db)) == [
        "HIAIM-001", "HIAIM-002", "HIAIM-003"]


def test_copying_twice_stores_nothing_twice(laptop, db):
    recorded = record_session(laptop)
    copy_session(laptop, db, recorded.stored.session_id)
    with pytest.raises(CopyRefused, match=r"is already in .*nothing was copied"):
        copy_session(laptop, db, recorded.stored.session_id)
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(SessionRow)) == 1


def test_participants_known_to_the_target_are_matched_by_study_code(laptop, db):
    add_participant(db, "HIAIM-002", "Registered centrally", hrmax_bpm=175)
    recorded = record_session(laptop)
    copied = copy_session(laptop, db, recorded.stored.session_id)
    people = {p.study_code: p for p in list_participants(db)}
    assert len(people) == 3
    assert people["HIAIM-002"].display_name == "Registered centrally"  # the target's stays
    assert people["HIAIM-002"].sessions == 1
    assert content(db, copied.target_id)["samples"] == content(
        laptop, recorded.stored.session_id)["samples"]


def test_a_running_session_is_not_copied(laptop, db):
    recorded = record_session(laptop, finish=False)
    with pytest.raises(CopyRefused, match="is still running"):
        copy_session(laptop, db, recorded.stored.session_id)
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(SessionRow)) == 0
