"""--ble takes today's class from the registry: who wears which strap, with their HRmax, and
every id each strap is heard by (a dual-mode strap is one participant, counted once)."""

from __future__ import annotations

import pytest

from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.storage import StorageError
from hiaim_monitor.storage.assignments import assigned_class, strap_ids_of
from hiaim_monitor.storage.registry import add_participant
from hiaim_monitor.storage.schema import ParticipantRow, StrapAssignmentRow, StrapRow
from hiaim_monitor.storage.strap_registry import add_strap, add_strap_id, assign_strap
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
    add(db, "HIAIM-02", "Bo", "ble:AA:00:00:00:00:02", birth_year=1960)
    add(db, "HIAIM-01", "Anna", "ble:AA:00:00:00:00:01", hrmax=171,
        method=HRMaxMethod.MEASURED)
    people = assigned_class(db)
    assert [(p.study_code, p.display_name, p.strap_id) for p in people] == [
        ("HIAIM-01", "Anna", "ble:AA:00:00:00:00:01"),
        ("HIAIM-02", "Bo", "ble:AA:00:00:00:00:02")]
    assert people[0].hrmax.bpm == 171 and people[0].hrmax.method is HRMaxMethod.MEASURED
    assert people[1].hrmax.method is HRMaxMethod.TANAKA
    # Chosen by a bare address as the operator types it, in any case.
    only = assigned_class(db, ["aa:00:00:00:00:02"])
    assert [p.study_code for p in only] == ["HIAIM-02"]
    assert [p.study_code for p in assigned_class(db, ["BLE:aa:00:00:00:00:01"])] == [
        "HIAIM-01"]


def test_an_unassigned_strap_is_named_with_the_fix(db):
    add(db, "HIAIM-01", "Anna", "ble:AA:00:00:00:00:01", hrmax=171)
    with pytest.raises(StorageError,
                       match=r"strap ble:BB:00:00:00:00:09 is not assigned to anyone"):
        assigned_class(db, ["BB:00:00:00:00:09"])


def test_a_strap_given_as_no_id_is_refused_in_one_sentence(db):
    add(db, "HIAIM-01", "Anna", "ble:AA:00:00:00:00:01", hrmax=171)
    with pytest.raises(StorageError, match=r"^'AA:00' is not a strap id; give the strap's "
                                           r"Bluetooth address"):
        assigned_class(db, ["AA:00"])


def test_a_participant_without_hrmax_or_birth_year_is_refused(db):
    add(db, "HIAIM-03", "Carl", "ble:AA:00:00:00:00:03")
    with pytest.raises(StorageError, match="HIAIM-03 has neither an HRmax nor a birth year"):
        assigned_class(db)


def dual_mode_class(db):
    """HIAIM-001 wears a strap heard over BLE and ANT+; HIAIM-002 a BLE-only strap."""
    for code in ("HIAIM-001", "HIAIM-002"):
        add_participant(db, code, code[-1], hrmax_bpm=180)
    add_strap(db, "AA:BB:CC:DD:EE:01")
    add_strap_id(db, "AA:BB:CC:DD:EE:01", "ant:12345")
    add_strap(db, "AA:BB:CC:DD:EE:02")
    assign_strap(db, "ant:12345", "HIAIM-001")  # by its second id: the one physical strap
    assign_strap(db, "AA:BB:CC:DD:EE:02", "HIAIM-002")


def test_a_dual_mode_strap_is_one_participant_whichever_ids_are_given(db):
    dual_mode_class(db)
    everyone = assigned_class(db)
    assert [(p.study_code, p.strap_id) for p in everyone] == [
        ("HIAIM-001", "ble:AA:BB:CC:DD:EE:01"), ("HIAIM-002", "ble:AA:BB:CC:DD:EE:02")]
    both_ids = assigned_class(db, ["ant:12345", "AA:BB:CC:DD:EE:01"])
    assert [(p.study_code, p.strap_id) for p in both_ids] == [
        ("HIAIM-001", "ble:AA:BB:CC:DD:EE:01")]
    assert [p.study_code for p in assigned_class(db, ["ant:012345"])] == ["HIAIM-001"]


def test_the_ids_to_watch_are_every_id_of_each_participants_strap(db):
    dual_mode_class(db)
    people = assigned_class(db)
    assert strap_ids_of(db, [p.strap_id for p in people]) == {
        "ble:AA:BB:CC:DD:EE:01": ("ble:AA:BB:CC:DD:EE:01", "ant:12345"),
        "ble:AA:BB:CC:DD:EE:02": ("ble:AA:BB:CC:DD:EE:02",)}
    # Asked by its other id, the same strap's ids; an unknown id is watched as it is.
    assert strap_ids_of(db, ["ant:12345", "ble:00:00:00:00:00:09"]) == {
        "ant:12345": ("ble:AA:BB:CC:DD:EE:01", "ant:12345"),
        "ble:00:00:00:00:00:09": ("ble:00:00:00:00:00:09",)}


def test_simulated_straps_never_join_a_real_class_whatever_their_kind(db):
    add(db, "HIAIM-01", "Anna", "ble:AA:00:00:00:00:01", hrmax=171)
    add(db, "HIAIM-02", "Bo", "sim:0002", hrmax=171)  # kind "ble" by mistake: the id tells
    assert [p.study_code for p in assigned_class(db)] == ["HIAIM-01"]
