"""--ble takes today's class from the registry: who wears which strap, with their HRmax."""

from __future__ import annotations

import pytest

from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.storage import StorageError
from hiaim_monitor.storage.assignments import assigned_class
from hiaim_monitor.storage.schema import ParticipantRow, StrapAssignmentRow, StrapRow
from tests.storage.helpers import START_UTC


def add(db, code, name, strap, *, hrmax=None, method=None, birth_year=None):
    with db.session() as s, s.begin():
        p = ParticipantRow(study_code=code, display_name=name, hrmax_bpm=hrmax,
                           hrmax_method=method, birth_year=birth_year, created_utc=START_UTC)
        st = StrapRow(strap_key=strap, name="Polar H10", kind="ble")
        s.add_all([p, st])
        s.flush()
        if strap:
            s.add(StrapAssignmentRow(participant_id=p.id, strap_id=st.id,
                                     assigned_utc=START_UTC))


def test_assigned_straps_make_the_class_with_stored_or_estimated_hrmax(db):
    add(db, "HIAIM-02", "Bo", "AA:00:00:00:00:02", birth_year=1960)
    add(db, "HIAIM-01", "Anna", "AA:00:00:00:00:01", hrmax=171, method=HRMaxMethod.MEASURED)
    people = assigned_class(db)
    assert [(p.participant_id, p.display_name, p.strap_id) for p in people] == [
        ("HIAIM-01", "Anna", "AA:00:00:00:00:01"), ("HIAIM-02", "Bo", "AA:00:00:00:00:02")]
    assert people[0].hrmax.bpm == 171 and people[0].hrmax.method is HRMaxMethod.MEASURED
    assert people[1].hrmax.method is HRMaxMethod.TANAKA
    only = assigned_class(db, ["aa:00:00:00:00:02"])
    assert [p.participant_id for p in only] == ["HIAIM-02"]


def test_an_unassigned_strap_is_named_with_the_fix(db):
    add(db, "HIAIM-01", "Anna", "AA:00:00:00:00:01", hrmax=171)
    with pytest.raises(StorageError, match=r"strap BB:00:00:00:00:09 is not assigned to anyone"):
        assigned_class(db, ["BB:00:00:00:00:09"])


def test_a_participant_without_hrmax_or_birth_year_is_refused(db):
    add(db, "HIAIM-03", "Carl", "AA:00:00:00:00:03")
    with pytest.raises(StorageError, match="HIAIM-03 has neither an HRmax nor a birth year"):
        assigned_class(db)
