"""Test-wide settings: Qt renders offscreen, so windows can be drawn and checked anywhere,
and the whole run (and every program it starts) gets its own home, settings and data
folders, so no test reads or writes the user's own settings, registry or database."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

USER_HOME = os.environ.get("HOME", "")
TEST_HOME = Path(tempfile.mkdtemp(prefix="hiaim-test-home-"))
for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                 ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state"),
                 ("APPDATA", "AppData/Roaming"), ("LOCALAPPDATA", "AppData/Local")):
    folder = TEST_HOME / sub
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[var] = str(folder)


# -- helpers the tests share: ``from tests.conftest import people`` ------------------------
# Imported only here, after the home above is in place, so nothing they load can see the
# user's own.

import asyncio  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from typing import Any, NoReturn, TypeVar  # noqa: E402

import pytest  # noqa: E402

from hiaim_monitor.clock import SimulatedClock  # noqa: E402
from hiaim_monitor.hrmax import measured_hrmax  # noqa: E402
from hiaim_monitor.participants import Participant  # noqa: E402
from hiaim_monitor.protocols import TrainingProtocol, parse_protocol  # noqa: E402

T = TypeVar("T")
WAIT_S = 5.0  # real seconds; every wait normally ends well within one
NAMES = ("Anna", "Bo", "Cy", "Dan", "Eva", "Finn", "Gry", "Hans")


async def wait_until(condition: Callable[[], object], what: str, *,
                     timeout_s: float = WAIT_S) -> None:
    """Poll ``condition`` while the event loop runs the tasks under test; fail the test
    with "not within N s: ``what``" on a timeout."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"not within {timeout_s:g} s: {what}")


def poll_until(condition: Callable[[], T], what: str, *, timeout_s: float = WAIT_S,
               interval_s: float = 0.01) -> T:
    """``wait_until`` for work in other threads or processes: poll ``condition`` until it
    returns something true, and return that; fail naming ``what`` on a timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"not within {timeout_s:g} s: {what}")
        time.sleep(interval_s)


async def run_until(clock: SimulatedClock, t_s: float) -> None:
    """Let the tasks that step a stepped clock (simulated straps) run until it reads
    ``t_s``; fail when it stops advancing."""
    for _ in range(1_000_000):
        if clock.monotonic() >= t_s:
            return
        await asyncio.sleep(0)
    pytest.fail(f"the simulated clock stopped advancing at {clock.monotonic():.1f} s")


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has installed a handler for signal ``signum`` (Linux: the
    SigCgt mask in /proc): how a test sees that a program it started is ready for it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # it has ended: it catches nothing
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signum - 1) & 1)


def cannot_run(reason: str, *, install: str = "") -> NoReturn:
    """A test this machine cannot run (a server or tool is missing) is skipped, saying what
    to install; under CI (``CI=true``), which must run every test, it fails instead."""
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason}; CI must run this test (.ci/run installs what it needs)",
                    pytrace=False)
    pytest.skip(f"{reason} ({install})" if install else reason)


def people(*hrmax_bpm: float) -> list[Participant]:
    """One participant per measured HRmax: P1 Anna on strap A, P2 Bo on strap B, …"""
    return [Participant(f"P{i}", NAMES[i - 1], chr(ord("A") + i - 1), measured_hrmax(bpm))
            for i, bpm in enumerate(hrmax_bpm, start=1)]


def people_wearing(virtual: Iterable[Any], strap_ids: Iterable[str]) -> list[Participant]:
    """The simulated class as the monitor knows it: each virtual participant (with their
    measured HRmax) on the strap a simulated hub gave them, in order."""
    return [Participant(v.study_code, v.display_name, strap_id,
                        measured_hrmax(v.hrmax_bpm))
            for v, strap_id in zip(virtual, strap_ids, strict=True)]


def protocol_text(*, repeat: int, work_s: float, rest_s: float, warm_up_s: float = 60,
                  cool_down_s: float = 0, work: str = "Hard", rest: str = "Easy",
                  trailing_rest: bool = True, name: str = "Test",
                  thresholds: dict[str, float] | None = None, **top_level: float) -> str:
    """A protocol file's text: a warm-up, ``repeat`` × (``work`` at ≥ 85 % HRmax, ``rest``
    at ≥ 50 %), then a cool-down when ``cool_down_s``. ``top_level`` adds keys such as
    ramp_allowance_s; ``thresholds`` a [thresholds] table."""
    lines = [f'name = "{name}"', *(f"{k} = {v}" for k, v in top_level.items())]
    if thresholds:
        lines += ["[thresholds]", *(f"{k} = {v}" for k, v in thresholds.items())]

    def step(phase: str, kind: str, duration_s: float) -> list[str]:
        return ["[[steps]]", f'name = "{phase}"', f'kind = "{kind}"',
                f"duration_s = {duration_s:g}", "target_min_pct = 50"]

    lines += step("Warm-up", "warm-up", warm_up_s)
    lines += ["[[steps]]", f"repeat = {repeat}",
              *([] if trailing_rest else ["trailing_rest = false"]), "phases = [",
              f'  {{ name = "{work}", kind = "high", duration_s = {work_s:g}, '
              "target_min_pct = 85 },",
              f'  {{ name = "{rest}", kind = "recovery", duration_s = {rest_s:g}, '
              "target_min_pct = 50 },", "]"]
    if cool_down_s:
        lines += step("Cool-down", "cool-down", cool_down_s)
    return "\n".join(lines) + "\n"


def make_protocol(**kwargs: Any) -> TrainingProtocol:
    """The protocol ``protocol_text(**kwargs)`` describes."""
    return parse_protocol(protocol_text(**kwargs), source="t.toml", key="t")


def ok(result: tuple[int, str, str]) -> str:
    """The output of a command run as (exit code, stdout, stderr) that must succeed."""
    code, out, err = result
    assert (code, err) == (0, ""), err
    return out


@pytest.fixture
def cli(tmp_path, capsys):
    """Run hiaim-monitor's commands on an SQLite database of the test's own: each call
    gives (exit code, stdout, stderr). Storage tests have their own, over both backends."""
    from hiaim_monitor.cli import main

    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--db", url])
        out, err = capsys.readouterr()
        return code, out, err

    return run
