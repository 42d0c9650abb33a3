"""The command line's ANT+ sources: --simulate-ant through the production ANT+ hub over
emulated sticks, and --ant without a stick."""

from __future__ import annotations

import json

import pytest

from hiaim_monitor.cli import main
from tests.test_cli import run_cli

NO_STICK = ("hiaim-monitor: error: No ANT USB stick found: plug in an ANTUSB2 or ANTUSB-m "
            "stick (on Windows install the WinUSB driver for it with Zadig; on Linux add the "
            "udev rule in the README).")


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    """Sessions are stored in a throwaway SQLite file, never in the user's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("HIAIM_DB_URL", raising=False)


def test_ant_without_a_stick_says_so_in_one_line_and_exits_2(capsys):
    assert main(["--ant", "--headless"]) == 2
    assert capsys.readouterr().err.strip() == NO_STICK


@pytest.mark.parametrize(("args", "needle"), [
    (["--simulate-ant", "0"], "--simulate-ant takes 1–40 participants, got 0"),
    (["--simulate-ant", "2", "--ble"], "choose one heart-rate source, not --simulate-ant and"),
    (["--simulate-ant", "30", "--simulate-ble", "20"], "make a class of 50; one session "
                                                       "takes at most 40"),
    (["--simulate", "2", "--ant-stick", "1"], "--ant-stick goes with --ant"),
    (["--ant", "--speed", "2"], "--speed is for simulations"),
])
def test_bad_ant_arguments_get_one_line(args, needle, capsys):
    assert main(args) == 2
    assert needle in capsys.readouterr().err


def test_simulate_ant_streams_through_the_production_ant_hub(tmp_path):
    out = tmp_path / "s.json"
    result = run_cli("--simulate-ant", "3", "--headless", "--speed", "4", "--duration", "30",
                     "--faults", "none", "--summary-json", str(out),
                     env_extra={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    people = json.loads(out.read_text())["participants"]
    assert len(people) == 3
    for p in people:
        assert p["strap_id"].startswith("ant:")
        assert p["samples_received"] > 15 and p["packets_dropped"] == 0


def test_a_class_mixing_emulated_ant_and_ble_straps_records_every_participant(tmp_path):
    """--simulate-ant 3 --simulate-ble 2: one class, two heard through the BLE driver and
    three through the ANT+ hub, all behind one combined hub."""
    out = tmp_path / "s.json"
    result = run_cli("--simulate-ant", "3", "--simulate-ble", "2", "--headless", "--speed",
                     "4", "--duration", "30", "--faults", "none", "--summary-json", str(out),
                     env_extra={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    people = json.loads(out.read_text())["participants"]
    assert sorted(p["strap_id"].split(":")[0] for p in people) == ["ant"] * 3 + ["ble"] * 2
    for p in people:
        assert p["samples_received"] > 15 and p["packets_dropped"] == 0
