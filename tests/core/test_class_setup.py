"""Setting up today's class: who is here, which strap each wears, today's HRmax, what the
straps nearby are doing, and what stops the start."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from hiaim_monitor import i18n
from hiaim_monitor.class_setup import (
    ClassSetup,
    SetupError,
    hrmax_of,
)
from hiaim_monitor.config import (
    LIVE_BPM_FOR_S,
    MAX_PARTICIPANTS,
    MISSING_AFTER_S,
    NEARBY_FORGET_S,
)
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    PacketDropped,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.storage.registry import ParticipantInfo

TODAY = date(2026, 3, 2)


def person(study_code: str, name: str, *, strap: str | None = None, birth_year: int | None = 1960,
           hrmax_bpm: float | None = None, method: HRMaxMethod | None = None,
           beta_blocker: bool = False) -> ParticipantInfo:
    return ParticipantInfo(study_code, name, birth_year, None, hrmax_bpm, method, None, None,
                           beta_blocker, "", strap, 0)


def roster() -> list[ParticipantInfo]:
    return [person("P1", "Anna", strap="S1", hrmax_bpm=170, method=HRMaxMethod.MEASURED),
            person("P2", "Bo", strap="S2", method=HRMaxMethod.TANAKA, hrmax_bpm=162.0),
            person("P3", "Cy", beta_blocker=True),
            person("P4", "Dan", birth_year=None)]


@pytest.fixture
def setup() -> ClassSetup:
    return ClassSetup(roster(), load_protocol("hi-aim"), today=TODAY, started_mono_s=100.0)


def seen(strap: str, t: float, rssi: int | None = -60, name: str = "") -> StrapSighting:
    return StrapSighting(strap, t, name or f"Polar H10 {strap}", rssi)


def beat(strap: str, t: float, bpm: int,
         contact: SensorContact = SensorContact.DETECTED) -> HeartRateSample:
    return HeartRateSample(strap, t, datetime(2026, 3, 2, tzinfo=UTC), bpm, (), contact)


# -- HRmax ---------------------------------------------------------------------------------

def test_measured_hrmax_is_used_as_registered():
    hrmax = hrmax_of(person("P", "A", hrmax_bpm=171, method=HRMaxMethod.MEASURED), TODAY)
    assert (hrmax.bpm, hrmax.method) == (171, HRMaxMethod.MEASURED)


def test_age_estimate_is_made_for_todays_age_by_the_stored_method():
    # Registered years ago at 162; today's age 66 gives 208 − 0.7 × 66.
    info = person("P", "A", hrmax_bpm=162, method=HRMaxMethod.TANAKA)
    hrmax = hrmax_of(info, TODAY)
    assert (hrmax.bpm, hrmax.method) == (pytest.approx(161.8), HRMaxMethod.TANAKA)
    gellish = hrmax_of(replace(info, hrmax_method=HRMaxMethod.GELLISH), TODAY)
    assert gellish.bpm == pytest.approx(160.8)


def test_hrmax_defaults_to_tanaka_from_birth_year_and_is_none_without_one():
    assert hrmax_of(person("P", "A"), TODAY).method is HRMaxMethod.TANAKA
    assert hrmax_of(person("P", "A", birth_year=None), TODAY) is None
    stored = person("P", "A", birth_year=None, hrmax_bpm=160, method=HRMaxMethod.AGE_220)
    assert hrmax_of(stored, TODAY).bpm == 160


# -- the roster ----------------------------------------------------------------------------

def test_remembered_straps_are_prefilled_and_their_wearers_ticked(setup):
    assert [(e.study_code, e.attending, e.strap_id) for e in setup.entries] == [
        ("P1", True, "S1"), ("P2", True, "S2"), ("P3", False, None), ("P4", False, None)]


def test_assigning_a_worn_strap_takes_it_from_its_wearer(setup):
    assert setup.assign("S1", "P3") == "P1"
    assert setup.entry("P3").strap_id == "S1" and setup.entry("P3").attending
    assert setup.entry("P1").strap_id is None
    assert setup.wearer("S1").study_code == "P3"
    assert setup.assign("S9", "P4") is None


def test_assigning_to_someone_not_on_the_roster_is_refused(setup):
    with pytest.raises(SetupError, match="No participant P9 in the roster"):
        setup.assign("S1", "P9")
    assert setup.entry("P1").strap_id == "S1"


def test_hrmax_typed_for_today_is_measured_and_a_typo_changes_nothing(setup):
    revision = setup.revision
    with pytest.raises(SetupError) as err:
        setup.set_hrmax_today("P1", 1700)
    assert str(err.value) == "HRmax 1700 bpm is outside 100–230 bpm; check the value."
    assert setup.entry("P1").hrmax.bpm == 170 and setup.revision == revision
    setup.set_hrmax_today("P2", 175)
    entry = setup.entry("P2")
    assert (entry.hrmax.bpm, entry.hrmax.method, entry.hrmax_edited) == (
        175, HRMaxMethod.MEASURED, True)
    setup.reset_hrmax_today("P2")
    assert setup.entry("P2").hrmax.method is HRMaxMethod.TANAKA
    assert not setup.entry("P2").hrmax_edited


def test_registry_changes_keep_todays_choices(setup):
    setup.set_hrmax_today("P1", 180)
    setup.update_roster("P1", replace(setup.entry("P1").info, study_code="P1b",
                                      display_name="Anna K", hrmax_bpm=165))
    entry = setup.entry("P1b")
    assert (entry.info.display_name, entry.strap_id, entry.attending) == ("Anna K", "S1",
                                                                          True)
    assert entry.hrmax.bpm == 180  # today's value stays
    setup.update_roster("P3", replace(setup.entry("P3").info, birth_year=1950))
    assert setup.entry("P3").hrmax.bpm == pytest.approx(208 - 0.7 * 76)


def test_a_participant_added_from_the_window_attends_without_stealing_a_strap(setup):
    setup.add_to_roster(person("P5", "Eva", strap="S1"))
    assert setup.entry("P5").attending and setup.entry("P5").strap_id is None
    assert setup.entry("P1").strap_id == "S1"
    setup.add_to_roster(replace(setup.entry("P3").info, display_name="Cy B"))
    assert [e.study_code for e in setup.entries].count("P3") == 1
    assert setup.entry("P3").info.display_name == "Cy B" and setup.entry("P3").attending


# -- straps nearby -------------------------------------------------------------------------

def test_a_strap_heard_advertising_is_listed_until_forgotten(setup):
    setup.ingest([seen("X1", 101.0)], 101.0)
    assert [s.strap_id for s in setup.nearby()] == ["X1"]
    assert setup.nearby()[0].state is None
    setup.ingest([], 101.0 + NEARBY_FORGET_S + 1)
    assert setup.nearby() == []


def test_a_worn_strap_stays_listed_however_long_it_is_quiet(setup):
    setup.ingest([seen("S1", 101.0)], 101.0)
    setup.ingest([], 101.0 + NEARBY_FORGET_S + 1)
    assert [s.strap_id for s in setup.nearby()] == ["S1"]


def test_live_bpm_shows_for_a_while_then_goes(setup):
    setup.set_preview("X1", True)
    setup.ingest([seen("X1", 101.0), StrapStatus("X1", 101.5, StrapState.STREAMING),
                  beat("X1", 102.0, 97), BatteryReading("X1", 102.0, 80)], 102.0)
    strap = setup.nearby()[0]
    assert (strap.bpm, strap.battery_pct, strap.state) == (97, 80, StrapState.STREAMING)
    revision = setup.revision
    setup.ingest([], 102.0 + LIVE_BPM_FOR_S - 0.5)
    assert setup.nearby()[0].bpm == 97 and setup.revision == revision
    setup.ingest([], 102.0 + LIVE_BPM_FOR_S + 0.5)
    assert setup.nearby()[0].bpm is None
    assert setup.revision > revision  # the clock alone changed what a view shows


def test_no_contact_or_a_lost_connection_shows_no_number(setup):
    setup.ingest([beat("X1", 101.0, 80, SensorContact.NOT_DETECTED)], 101.0)
    assert setup.nearby()[0].bpm is None
    setup.ingest([beat("X2", 101.0, 80), StrapStatus("X2", 101.2, StrapState.LOST)], 101.2)
    assert {s.strap_id: s.bpm for s in setup.nearby()}["X2"] is None


def test_undecodable_packets_are_ignored(setup):
    revision = setup.revision
    setup.ingest([PacketDropped("X1", 101.0, "too short", b"\x00")], 101.0)
    assert setup.nearby() == [] and setup.revision == revision


def test_nearby_straps_sort_by_signal_in_coarse_steps(setup):
    setup.ingest([seen("B", 101.0, -61), seen("A", 101.0, -64), seen("C", 101.0, -45),
                  seen("D", 101.0, None)], 101.0)
    assert [s.strap_id for s in setup.nearby()] == ["C", "A", "B", "D"]
    setup.ingest([seen("A", 102.0, -62), seen("B", 102.0, -66)], 102.0)
    assert [s.strap_id for s in setup.nearby()] == ["C", "A", "B", "D"]  # no swap


def test_preview_and_attending_straps_are_the_ones_to_keep_connected(setup):
    setup.ingest([seen("S1", 101.0, name="Polar H10 AAAA")], 101.0)
    assert setup.wanted_straps() == {"S1": "Polar H10 AAAA", "S2": "S2"}
    setup.set_attending("P2", False)
    setup.set_preview("X1", True)
    assert setup.wanted_straps() == {"S1": "Polar H10 AAAA", "X1": "X1"}
    setup.set_preview("X1", False)
    assert "X1" not in setup.wanted_straps()


def test_a_strap_never_heard_gets_the_hint_after_a_while(setup):
    setup.ingest([seen("S1", 101.0)], 101.0)
    assert setup.missing_hints() == {}
    # Trying to connect says nothing about the strap being there.
    setup.ingest([StrapStatus("S2", 110.0, StrapState.CONNECTING), seen("S1", 120.0)],
                 100.0 + MISSING_AFTER_S + 1)
    hints = setup.missing_hints()
    assert list(hints) == ["P2"]
    assert hints["P2"].startswith("Strap S2 is not found — is it worn")
    assert "Polar H10" in hints["P2"]
    setup.ingest([beat("S2", 122.0, 70)], 122.0)
    assert setup.missing_hints() == {}


# -- starting ------------------------------------------------------------------------------

def test_problems_name_who_lacks_a_strap_or_an_hrmax(setup):
    assert setup.problems() == []
    setup.set_attending("P3", True)
    setup.set_attending("P4", True)
    assert setup.problems() == [
        "Cy has no strap: assign one, or untick them.",
        "Dan has no strap: assign one, or untick them.",
        "Dan has no HRmax: enter today's HRmax or a birth year.",
    ]
    with pytest.raises(SetupError, match="Cy has no strap"):
        setup.plan()


def test_nobody_ticked_and_too_many_are_problems():
    empty = ClassSetup(roster(), load_protocol("hi-aim"), today=TODAY)
    for e in list(empty.entries):
        empty.set_attending(e.study_code, False)
    assert empty.problems() == ["Tick at least one participant who is here today."]
    crowd = ClassSetup([person(f"P{i}", f"N{i}", strap=f"S{i}")
                        for i in range(MAX_PARTICIPANTS + 1)],
                       load_protocol("hi-aim"), today=TODAY)
    assert crowd.problems() == [f"At most {MAX_PARTICIPANTS} participants can train in one "
                                "session."]


def test_plan_has_the_attending_in_roster_order_with_their_straps(setup):
    setup.assign("S3", "P3")
    setup.set_attending("P1", False)
    setup.set_hrmax_today("P2", 172)
    plan = setup.plan()
    assert [(p.study_code, p.strap_id, p.hrmax.bpm) for p in plan.participants] == [
        ("P2", "S2", 172), ("P3", "S3", pytest.approx(208 - 0.7 * 66))]
    assert plan.participants[1].beta_blocker
    assert plan.remembered == {"P2": "S2", "P3": "S3"}
    assert plan.protocol.name == "HI AIM"


def test_problems_speak_danish(setup):
    i18n.set_language("da")
    try:
        setup.set_attending("P3", True)
        assert setup.problems() == ["Cy har intet bælte: tildel et, eller fjern fluebenet."]
    finally:
        i18n.set_language("en")


def test_strap_reports_carry_the_latest_state_and_battery_to_the_start(setup):
    setup.ingest([StrapStatus("S1", 101.0, StrapState.CONNECTING),
                  BatteryReading("S1", 102.0, 40),
                  StrapStatus("S1", 103.0, StrapState.STREAMING, "via hci0"),
                  BatteryReading("S1", 104.0, 9),
                  seen("S2", 105.0),  # heard advertising only: nothing to carry
                  StrapStatus("S9", 106.0, StrapState.STREAMING)], 106.0)
    reports = setup.strap_reports(["S1", "S2", "S3"], 500.0)
    assert reports == [StrapStatus("S1", 500.0, StrapState.STREAMING, "via hci0"),
                       BatteryReading("S1", 500.0, 9)]
    assert setup.strap_reports([], 500.0) == []


# -- a dual-mode strap (BLE and ANT+) --------------------------------------------------------

BLE_STRAP, ANT_STRAP = "ble:AA:BB:CC:DD:EE:01", "ant:4242"


def test_a_strap_of_another_radio_may_be_the_same_strap_and_is_then_one_participants():
    s = ClassSetup([person("P1", "Anna", strap=BLE_STRAP, hrmax_bpm=170,
                           method=HRMaxMethod.MEASURED)], load_protocol("hi-aim"), today=TODAY)
    assert s.could_be_same_strap(ANT_STRAP, "P1")
    assert not s.could_be_same_strap("ble:AA:BB:CC:DD:EE:02", "P1")  # BLE already
    assert s.assign(ANT_STRAP, "P1", same_strap=True) is None
    entry = s.entry("P1")
    assert entry.strap_ids == (BLE_STRAP, ANT_STRAP)
    assert s.wearer(ANT_STRAP).study_code == "P1"
    assert set(s.wanted_straps()) == {BLE_STRAP, ANT_STRAP}  # both radios listen for it
    (anna,) = s.plan().participants
    assert (anna.strap_id, anna.other_strap_ids) == (BLE_STRAP, (ANT_STRAP,))
    with pytest.raises(SetupError, match="it is another strap"):
        s.assign("ant:7", "P1", same_strap=True)


def test_a_strap_the_registry_knows_by_two_ids_is_paired_once():
    anna = replace(person("P1", "Anna", hrmax_bpm=170, method=HRMaxMethod.MEASURED))
    bo = replace(person("P2", "Bo", strap=BLE_STRAP, hrmax_bpm=170,
                        method=HRMaxMethod.MEASURED), strap_ids=(BLE_STRAP, ANT_STRAP))
    s = ClassSetup([anna, bo], load_protocol("hi-aim"), today=TODAY)
    assert s.entry("P2").strap_ids == (BLE_STRAP, ANT_STRAP)  # remembered with both ids
    # Given to Anna by its ANT+ id, it comes with its BLE one, and Bo has none now.
    assert s.assign(ANT_STRAP, "P1") == "P2"
    assert s.entry("P1").strap_ids == (ANT_STRAP, BLE_STRAP)
    assert s.entry("P2").strap_ids == ()


def test_another_strap_of_another_radio_replaces_the_one_worn():
    s = ClassSetup([person("P1", "Anna", strap=BLE_STRAP, hrmax_bpm=170,
                           method=HRMaxMethod.MEASURED)], load_protocol("hi-aim"), today=TODAY)
    s.assign(ANT_STRAP, "P1")
    assert s.entry("P1").strap_ids == (ANT_STRAP,)
    assert s.wearer(BLE_STRAP) is None
