"""The window and the headless run give a registered participant the same HRmax: the class
set-up (window) and the registry's assigned class (headless) follow one rule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.hrmax import HRMaxMethod, estimate_hrmax
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.assignments import assigned_class
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.strap_registry import add_strap, assign_strap

REGISTERED = date(2012, 5, 1)  # long enough ago that an estimate made then is a year off


@pytest.fixture
def db(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        yield database
    finally:
        database.close()


def register(db, code, strap, **hrmax):
    add_participant(db, code, code, today=REGISTERED, **hrmax)
    add_strap(db, strap, kind="ble")
    assign_strap(db, strap, code)


def test_the_window_and_the_headless_class_give_the_same_hrmax(db):
    register(db, "P1", "AA:00:00:00:00:01", hrmax_bpm=171)
    register(db, "P2", "AA:00:00:00:00:02", birth_year=1960, hrmax_method="tanaka")
    register(db, "P3", "AA:00:00:00:00:03", birth_year=1985, hrmax_method="gellish")
    register(db, "P4", "AA:00:00:00:00:04", birth_year=1970, hrmax_method="220-age")
    today = datetime.now(UTC).date()

    window = ClassSetup(list_participants(db), load_protocol("hi-aim"), today=today)
    in_window = {e.study_code: (e.hrmax.bpm, e.hrmax.method) for e in window.entries}
    headless = {p.study_code: (p.hrmax.bpm, p.hrmax.method) for p in assigned_class(db)}

    assert in_window == headless
    assert headless["P1"] == (171, HRMaxMethod.MEASURED)
    # Both estimate for the age reached this year, not the age at registration.
    age = today.year - 1960
    assert headless["P2"] == (estimate_hrmax(age).bpm, HRMaxMethod.TANAKA)
    assert headless["P2"] != (estimate_hrmax(REGISTERED.year - 1960).bpm, HRMaxMethod.TANAKA)
