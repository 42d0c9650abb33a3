"""The setup page on a real SQLite registry in tmp_path: four registered participants, two of
them with a remembered strap, and straps that advertise and stream on a clock the test
steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import HeartRateSample, StrapSighting, StrapState, StrapStatus
from hiaim_monitor.storage.database import Database, open_database
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.strap_registry import add_strap, assign_strap
from ui.setup import SetupPage

TODAY = date(2026, 3, 2)
STRAP_A = "ble:A0:9E:1A:00:00:01"
STRAP_B = "ble:A0:9E:1A:00:00:02"
STRAP_C = "ble:A0:9E:1A:00:00:03"
STRAP_D = "ble:A0:9E:1A:00:00:04"
NAMES = {STRAP_A: "Polar H10 8C4D2F1A", STRAP_B: "Polar H10 8C4D2F1B",
         STRAP_C: "Polar H9 5B11E0C2", STRAP_D: "Garmin HRM-Dual 31"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'store.sqlite3'}", busy_timeout_s=0.2)
    try:
        add_participant(database, "HA-001", "Anna", birth_year=1961, hrmax_bpm=168,
                        today=TODAY)
        add_participant(database, "HA-002", "Bo", birth_year=1955, hrmax_method="tanaka",
                        today=TODAY)
        add_participant(database, "HA-003", "Cy", birth_year=1970, beta_blocker=True,
                        hrmax_method="220-age", today=TODAY)
        add_participant(database, "HA-004", "Dorte", birth_year=1948, hrmax_bpm=150,
                        today=TODAY)
        for strap in (STRAP_A, STRAP_B):
            add_strap(database, strap, name=NAMES[strap])
        assign_strap(database, STRAP_A, "HA-001")
        assign_strap(database, STRAP_B, "HA-002")
        yield database
    finally:
        database.close()


@pytest.fixture
def model(db: Database) -> ClassSetup:
    return ClassSetup(list_participants(db), load_protocol("hi-aim"), today=TODAY,
                      started_mono_s=0.0)


@pytest.fixture
def page(qtbot, model: ClassSetup, db: Database) -> SetupPage:
    page = SetupPage(model, db)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    with qtbot.waitExposed(page):
        page.show()
    return page


def sighting(strap: str, t_s: float, rssi_dbm: int = -60) -> StrapSighting:
    return StrapSighting(strap, t_s, NAMES.get(strap, ""), rssi_dbm)


def beat(strap: str, t_s: float, bpm: int) -> HeartRateSample:
    return HeartRateSample(strap, t_s, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), bpm,
                           (60000.0 / bpm,), SensorContact.DETECTED)


def streaming(strap: str, t_s: float) -> StrapStatus:
    return StrapStatus(strap, t_s, StrapState.STREAMING)


def roster_row(page: SetupPage, name: str) -> dict[str, str]:
    table = page.roster.table
    for row in range(table.rowCount()):
        texts = table.cell_texts(row)
        if texts["Name"] == name:
            return texts
    raise AssertionError(f"{name} has no roster row")


def strap_row(page: SetupPage, strap: str) -> dict[str, str]:
    table = page.pairing.table
    row = table.row_of(strap)
    assert row >= 0, f"{strap} is not in the list of straps nearby"
    return table.cell_texts(row)
