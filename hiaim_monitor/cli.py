"""Command line and composition root: the one module that wires sources, the session and a
view together (and so the only core module allowed to import drivers, simulators and ui).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hiaim_monitor import config
from hiaim_monitor.admin import add_admin_commands, is_admin_command, run_admin_command
from hiaim_monitor.clock import Clock, RealClock, SimulatedClock
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.i18n import available_languages, set_language
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import (
    DEFAULT_PROTOCOL,
    ProtocolError,
    TrainingProtocol,
    list_presets,
    load_protocol,
)
from hiaim_monitor.samples import SourceEvent
from hiaim_monitor.session import LiveSession
from hiaim_monitor.storage import (
    Database,
    SessionWriter,
    StorageError,
    finish_session,
    open_database,
    start_session,
)
from hiaim_monitor.storage.assignments import assigned_class
from hiaim_monitor.storage.recorder import SessionRecorder
from hiaim_monitor.storage.recovery import recover_at_start

if TYPE_CHECKING:
    from drivers.base import HeartRateSource
    from drivers.sensor_thread import SensorThread


class UsageError(Exception):
    """A bad argument: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + traceback
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hiaim-monitor",
        description="Group heart-rate monitor for supervised interval training.",
    )
    p.add_argument("--simulate", type=int, metavar="N",
                   help=f"run with N simulated participants (1–{config.SIM_MAX_PARTICIPANTS})")
    p.add_argument("--simulate-ble", type=int, metavar="N",
                   help="N simulated participants whose straps are emulated over a real BLE "
                        "stack (bumble) and reached through the production BLE driver")
    p.add_argument("--ble", action="store_true",
                   help="real chest straps over Bluetooth: the straps assigned to "
                        "participants ('straps assign'), or those given with --strap")
    p.add_argument("--strap", action="append", metavar="ADDRESS", default=[],
                   help="with --ble: only this strap (repeat for more)")
    p.add_argument("--adapter", action="append", metavar="hciN", default=[],
                   help="Bluetooth adapter to use (repeat to spread straps over several; "
                        "default hci0)")
    p.add_argument("--headless", action="store_true",
                   help="show the live table in the terminal instead of a window")
    p.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="run simulated time X times faster than real time (default 1)")
    p.add_argument("--duration", type=float, metavar="S",
                   help="stop after S seconds of session time (default: the whole protocol)")
    p.add_argument("--protocol", default=DEFAULT_PROTOCOL, metavar="P",
                   help=f"preset ({', '.join(list_presets())}) or path of a .toml file")
    p.add_argument("--seed", type=int, default=config.SIM_DEFAULT_SEED, metavar="K",
                   help="seed of the simulated class: the same seed gives the same session")
    p.add_argument("--faults", choices=("none", "demo"), default="demo",
                   help="fault injection in simulated straps (default: demo, mild faults)")
    p.add_argument("--summary-json", type=Path, metavar="PATH",
                   help="write per-participant figures to PATH when the session ends")
    p.add_argument("--lang", choices=available_languages(),
                   help="language of the views (default: from the system locale)")
    p.add_argument("--db", metavar="URL",
                   help="database URL, e.g. postgresql://user@host/trial (default: "
                        "$HIAIM_DB_URL, else SQLite in the user data folder)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    scan = sub.add_parser("scan", help="list nearby heart-rate straps")
    scan.add_argument("--seconds", type=float, default=5.0, metavar="S",
                      help="how long to listen (default 5)")
    scan.add_argument("--adapter", metavar="hciN", help="Bluetooth adapter (default: hci0)")
    add_admin_commands(sub)
    return p


@dataclass(frozen=True)
class RunOptions:
    source: str  # "simulate", "simulate-ble" or "ble"
    n_participants: int  # simulated ones; 0 for real straps
    strap_keys: tuple[str, ...]
    adapters: tuple[str, ...]
    headless: bool
    speed: float
    duration_s: float | None  # None: until the protocol (as the operator steers it) ends
    protocol: TrainingProtocol
    seed: int
    faults: str
    summary_json: Path | None
    db_url: str | None


def parse_options(args: argparse.Namespace) -> RunOptions:
    set_language(args.lang)
    chosen = [name for name, on in (("--simulate", args.simulate is not None),
                                    ("--simulate-ble", args.simulate_ble is not None),
                                    ("--ble", args.ble)) if on]
    if not chosen:
        raise UsageError("choose a heart-rate source: --simulate N (simulated participants), "
                         "--simulate-ble N (emulated BLE straps) or --ble (real straps)")
    if len(chosen) > 1:
        raise UsageError(f"choose one heart-rate source, not {' and '.join(chosen)}")
    n = args.simulate if args.simulate is not None else args.simulate_ble
    if n is not None and not 1 <= n <= config.SIM_MAX_PARTICIPANTS:
        raise UsageError(f"{chosen[0]} takes 1–{config.SIM_MAX_PARTICIPANTS} participants, "
                         f"got {n}")
    if args.strap and not args.ble:
        raise UsageError("--strap goes with --ble")
    for adapter in args.adapter:
        if not adapter or any(c.isspace() for c in adapter):
            raise UsageError(f"--adapter: {adapter!r} is not an adapter name such as hci0")
    if len(set(args.adapter)) != len(args.adapter):
        raise UsageError(f"--adapter: each adapter once, got {', '.join(args.adapter)}")
    if not args.speed > 0 or args.speed != args.speed:
        raise UsageError(f"--speed must be a number above 0, got {args.speed:g}")
    if args.ble and args.speed != 1:
        raise UsageError("--speed is for simulations: real straps run in real time")
    try:
        protocol = load_protocol(args.protocol)
    except ProtocolError as exc:
        raise UsageError(str(exc)) from None
    duration_s = args.duration
    if duration_s is not None and not duration_s > 0:
        raise UsageError(f"--duration must be above 0 seconds, got {duration_s:g}")
    if args.summary_json is not None:
        _check_writable(args.summary_json)
    source = chosen[0].removeprefix("--")
    return RunOptions(source, n or 0, tuple(args.strap), tuple(args.adapter) or ("hci0",),
                      args.headless, args.speed, duration_s, protocol, args.seed, args.faults,
                      args.summary_json, args.db)


def _check_writable(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--summary-json: cannot create folder {path.parent} "
                         f"({exc.strerror})") from None
    if path.is_dir():
        raise UsageError(f"--summary-json: {path} is a folder; give a file name")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"--summary-json: folder {path.parent} is not writable")


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run(opts: RunOptions) -> int:
    from drivers.sensor_thread import SensorThread

    clock: Clock = (RealClock() if opts.source == "ble"
                    else SimulatedClock(start_utc=datetime.now(UTC), speed=opts.speed))
    db = open_database(opts.db_url)
    for unfinished in recover_at_start(db):
        print(f"Session {unfinished.session_id} (started {unfinished.started_utc:%Y-%m-%d %H:%M}"
              " UTC) was interrupted; resume or close it with 'hiaim-monitor sessions recover "
              f"{unfinished.session_id} --resume' or '--close'.", file=sys.stderr)
    sensors = SensorThread()
    sensors.start()
    try:
        start_s, start_utc = clock.monotonic(), clock.now_utc()
        source, participants = _make_source(opts, db, clock, start_s, sensors)
        stored = start_session(db, opts.protocol, participants, started_utc=start_utc)
    except BaseException:
        sensors.stop()
        db.close()
        raise
    writer = SessionWriter(db, stored)
    events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
    session = LiveSession(opts.protocol, participants, clock, events, start_mono_s=start_s,
                          duration_s=opts.duration_s,
                          recorder=SessionRecorder(writer, stored, start_mono_s=start_s))
    try:
        sensors.start_source(source, events.put)
        if opts.headless or not has_display():
            if not opts.headless:
                print("No display found (DISPLAY and WAYLAND_DISPLAY are unset): "
                      "showing the live table in the terminal.", file=sys.stderr)
            _run_headless(session, opts)
        else:
            from ui.app import run_window

            run_window(session)
    except KeyboardInterrupt:
        print("Stopped by the user.", file=sys.stderr)
    finally:
        sensors.stop()
        session.tick()
        session.flush_final()
        unwritten = writer.close()
        finish_session(db, stored.session_id, ended_utc=clock.now_utc())
        db.close()
    if unwritten:
        print(f"{unwritten} rows could not be written to {db.name}.", file=sys.stderr)
    if opts.summary_json is not None:
        summary = {"session_id": stored.session_id, **session.summary()}
        opts.summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if not unwritten else 1


def _make_source(opts: RunOptions, db: Database, clock: Clock, start_s: float,
                 sensors: SensorThread) -> tuple[HeartRateSource, list[Participant]]:
    """The source the options ask for, and who wears which of its straps."""
    from drivers.ble import BleHeartRateSource

    if opts.source == "ble":
        people = assigned_class(db, opts.strap_keys or None)
        if not people:
            raise UsageError("no straps are assigned to participants: assign one with "
                             "'hiaim-monitor straps assign ADDRESS CODE'")
        straps = {p.strap_id: p.display_name for p in people}
        return BleHeartRateSource(straps, clock, adapters=opts.adapters), people

    from simulators.faults import FaultConfig
    from simulators.roster import make_virtual_class
    from simulators.source import SimulatedSource, make_strap

    virtual = make_virtual_class(opts.n_participants, opts.seed)
    faults = FaultConfig.demo() if opts.faults == "demo" else FaultConfig()
    if opts.source == "simulate":
        sim = SimulatedSource(virtual, clock, opts.protocol, session_start_s=start_s,
                              faults=faults, seed=opts.seed)
        source: HeartRateSource = sim
        strap_ids = [info.strap_id for info in sim.straps]
    else:
        from simulators.ble_emulation import EmulatedBleWorld
        from simulators.bleak_bumble import BumbleClient, BumbleScanner

        adapters = -(-opts.n_participants // config.SIM_STRAPS_PER_ADAPTER)
        world = EmulatedBleWorld(adapter_count=adapters)
        sensors.call(world.start())
        sensors.add_cleanup(world.stop)
        emulated = [
            sensors.call(world.add_strap(make_strap(
                v, i, protocol=opts.protocol, session_start_s=start_s,
                start_t_s=clock.monotonic(), faults=faults, seed=opts.seed), clock=clock))
            for i, v in enumerate(virtual, start=1)]
        source = BleHeartRateSource({e.address: e.name for e in emulated}, clock,
                                    adapters=world.adapters, scanner_backend=BumbleScanner,
                                    client_backend=BumbleClient)
        strap_ids = [info.strap_id for info in source.straps]
    people = [Participant(v.participant_id, v.display_name, strap_id,
                          measured_hrmax(v.hrmax_bpm))
              for v, strap_id in zip(virtual, strap_ids, strict=True)]
    return source, people


def run_scan(args: argparse.Namespace) -> int:
    """``hiaim-monitor scan``: nearby straps, strongest signal first."""
    import asyncio

    from drivers.ble_errors import explain_adapter_error
    from drivers.ble_scan import scan

    if not args.seconds > 0:
        raise UsageError(f"--seconds must be above 0, got {args.seconds:g}")
    try:
        found = asyncio.run(asyncio.wait_for(scan(args.seconds, args.adapter),
                                             args.seconds + 15))
    except Exception as exc:
        reason = explain_adapter_error(exc, args.adapter) or f"scanning failed ({exc})"
        print(f"hiaim-monitor: error: {reason}", file=sys.stderr)
        return 2
    if not found:
        print("No heart-rate straps found. Is the strap worn (it sleeps when dry) and not "
              "held by a phone?")
        return 0
    print(f"{'address':<20} {'name':<24} {'signal':>7}")
    for strap in found:
        print(f"{strap.address:<20} {strap.name:<24} {strap.rssi:>4} dBm")
    return 0


def _run_headless(session: LiveSession, opts: RunOptions) -> None:
    from rich.console import Console
    from rich.live import Live

    from hiaim_monitor.terminal_view import render

    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 120))  # a file has no width of its own
    if console.is_terminal:
        with Live(render(session.tick()), console=console, auto_refresh=False) as live:
            last_draw = 0.0
            while not (snap := session.tick()).finished:
                if time.monotonic() - last_draw >= 1 / config.HEADLESS_REDRAW_HZ:
                    live.update(render(snap), refresh=True)
                    last_draw = time.monotonic()
                time.sleep(config.TICK_INTERVAL_S)
            live.update(render(snap), refresh=True)
        return
    # Output to a file or pipe: a table every NON_TTY_PRINT_EVERY_S of session time.
    next_print_s = 0.0
    while not (snap := session.tick()).finished:
        if snap.elapsed_s >= next_print_s:
            console.print(render(snap))
            next_print_s += config.NON_TTY_PRINT_EVERY_S
        time.sleep(config.TICK_INTERVAL_S)
    console.print(render(snap))


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "scan":
            return run_scan(args)
        if is_admin_command(args):
            return run_admin_command(args)
        return run(parse_options(args))
    except UsageError as exc:
        print(f"hiaim-monitor: error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"hiaim-monitor: error: {exc}", file=sys.stderr)
        return 1
