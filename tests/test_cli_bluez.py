"""--simulate-bluez: the app over the production BLE hub and bleak's own BlueZ backend,
against the BlueZ double on a private dbus-daemon the app starts (and ends) itself."""

from __future__ import annotations

import json
import subprocess

import pytest

from hiaim_monitor.cli import main
from simulators.private_dbus import dbus_daemon_path
from tests.conftest import cannot_run
from tests.test_cli import run_cli


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    """Sessions are stored in a throwaway SQLite file, never in the user's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("HIAIM_DB_URL", raising=False)


@pytest.fixture
def dbus_daemon() -> None:
    if dbus_daemon_path() is None:
        cannot_run("dbus-daemon is not installed", install="apt-get install dbus-daemon")


def our_dbus_daemons() -> list[str]:
    """dbus-daemons started with a config of ours (hiaim-dbus-*), whoever started them."""
    found = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines()
            if "dbus-daemon" in line and "hiaim-dbus-" in line]


def run_bluez(tmp_path, *args: str) -> list[dict]:
    out = tmp_path / "s.json"
    before = our_dbus_daemons()
    result = run_cli(*args, "--headless", "--speed", "10", "--faults", "none",
                     "--summary-json", str(out),
                     env_extra={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    assert our_dbus_daemons() == before  # the app's private bus ended with it
    return json.loads(out.read_text())["participants"]


def test_simulate_bluez_streams_through_bleaks_bluez_backend(tmp_path, dbus_daemon):
    people = run_bluez(tmp_path, "--simulate-bluez", "3", "--duration", "40")
    assert len(people) == 3
    for p in people:
        assert p["strap_id"].startswith("ble:F0:00:00:00:00:")
        assert p["samples_received"] > 20 and p["packets_dropped"] == 0
        assert p["beats"] > 20  # RR intervals: a connection, not a broadcast


def test_simulate_bluez_beyond_the_adapters_capacity_listens_to_the_rest(tmp_path,
                                                                         dbus_daemon):
    # 9 Polar H10s on one adapter of 7 connections: two are heard in BlueZ's discovery.
    people = run_bluez(tmp_path, "--simulate-bluez", "9", "--simulate-adapters", "1",
                       "--duration", "60")
    assert all(p["samples_received"] > 10 for p in people), people
    assert sum(1 for p in people if p["beats"] == 0) == 2
    assert sum(1 for p in people if p["beats"] > 10) == 7


def test_a_class_mixing_bluez_and_ant_straps_records_every_participant(tmp_path,
                                                                       dbus_daemon):
    people = run_bluez(tmp_path, "--simulate-bluez", "2", "--simulate-ant", "2",
                       "--duration", "30")
    assert sorted(p["strap_id"].split(":")[0] for p in people) == ["ant"] * 2 + ["ble"] * 2
    assert all(p["samples_received"] > 15 and p["packets_dropped"] == 0 for p in people)


@pytest.mark.parametrize(("args", "needle"), [
    (["--simulate-bluez", "0"], "--simulate-bluez takes 1–40 participants, got 0"),
    (["--simulate-bluez", "2", "--simulate-ble", "2"], "not both: they are the same"),
    (["--simulate-bluez", "30", "--simulate-ant", "20"], "make a class of 50"),
    (["--simulate-bluez", "2", "--ble"], "choose one heart-rate source"),
])
def test_bad_bluez_arguments_get_one_line(args, needle, capsys):
    assert main(args) == 2
    assert needle in capsys.readouterr().err
