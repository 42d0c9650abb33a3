"""Command line and composition root: the one module that wires sources, the session and a
view together (and so the only core module allowed to import drivers, simulators and ui).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hiaim_monitor import config, display_check, strap_ids
from hiaim_monitor.admin import is_admin_command, run_admin_command
from hiaim_monitor.class_setup import ClassSetup, SessionPlan
from hiaim_monitor.clock import Clock, RealClock, SimulatedClock
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.i18n import set_language
from hiaim_monitor.options import (
    RunOptions,
    ScreenshotOptions,
    UsageError,
    build_parser,
    parse_options,
    parse_screenshot,
    parse_simulate_programme,
)
from hiaim_monitor.participants import Participant
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.samples import (
    HeartRateSample,
    SensorContact,
    SourceEvent,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.session import LiveSession
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.storage import Database, StorageError, open_database
from hiaim_monitor.storage.assignments import assigned_class
from hiaim_monitor.storage.database import open_database_or_local, simulation_sqlite_path
from hiaim_monitor.storage.recovery import recover_at_start
from hiaim_monitor.storage.registry import (
    ParticipantInfo,
    add_participant,
    edit_participant,
    list_participants,
)
from hiaim_monitor.storage.spill import replay_spills
from hiaim_monitor.storage.strap_registry import add_strap, assign_strap, list_straps
from hiaim_monitor.terminal_view import run_in_terminal, session_summary_lines

if TYPE_CHECKING:
    from drivers.sensor_thread import SensorThread
    from hiaim_monitor.strap_hub import StrapHub
    from simulators.faults import FaultConfig
    from simulators.physiology import VirtualParticipant


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _window_problem() -> str:
    """Why no window can open here, in one line ending in what happens instead; "" when
    one can. Checked before Qt is loaded: a missing X library makes Qt abort."""
    if not has_display():
        return ("No display found (DISPLAY and WAYLAND_DISPLAY are unset): showing the live "
                "table in the terminal.")
    if display_check.wants_xcb():
        check = display_check.check_xcb()
        if not check.ok:
            return (f"hiaim-monitor: {display_check.missing_line(check)} Showing the live "
                    "table in the terminal instead.")
    return ""


def run(opts: RunOptions) -> int:
    clock: Clock = (RealClock() if opts.real
                    else SimulatedClock(start_utc=datetime.now(UTC), speed=opts.speed))
    if opts.real:
        db, fallback = open_database_or_local(opts.db_url)
    else:  # never the real registry: virtual participants must not join real classes
        db, fallback = open_database_or_local(
            opts.db_url or f"sqlite:///{simulation_sqlite_path()}",
            local=simulation_sqlite_path())
    for warning in (fallback, db.notice):
        if warning:
            print(f"hiaim-monitor: warning: {warning}", file=sys.stderr)
    try:
        _store_spilled(db)
        for unfinished in recover_at_start(db):
            print(f"Session {unfinished.session_id} (started "
                  f"{unfinished.started_utc:%Y-%m-%d %H:%M} UTC) was interrupted; it keeps what "
                  "it recorded: close it with 'hiaim-monitor sessions recover "
                  f"{unfinished.session_id} --close'.", file=sys.stderr)
        window_problem = "" if opts.headless else _window_problem()
        in_terminal = opts.headless or bool(window_problem)
        if in_terminal:
            if window_problem:
                print(window_problem, file=sys.stderr)
            recorded = _run_terminal(opts, db, clock)
            wait_s = config.FINISH_WAIT_S
        else:
            recorded = _run_window(opts, db, clock, fallback)
            wait_s = config.EXIT_WAIT_S  # the window has been waiting since Stop already
        result = recorded.settle(wait_s) if recorded is not None else None
    finally:
        db.close()
    if recorded is None or result is None:
        return 0
    summary: dict[str, Any] = {}
    if in_terminal or opts.summary_json is not None:
        summary = {"session_id": recorded.session_id, **recorded.session.summary()}
    if in_terminal:  # the window shows its own end of session
        print("\n".join(session_summary_lines(recorded.session.protocol, summary)))
    what = "Session" if opts.real else "Simulated session"
    if result.spill_path is not None:
        print(f"The database {db.name} did not answer: {result.pending_rows} rows of "
              f"{what.lower()} "
              f"{recorded.session_id} are kept in {result.spill_path} and stored the next "
              "time hiaim-monitor starts.", file=sys.stderr)
    else:
        print(f"{what} {recorded.session_id} is stored in {db.name}.")
    if result.unwritten_rows:
        print(f"{result.unwritten_rows} rows could not be written to {db.name}.",
              file=sys.stderr)
    if result.error:
        print(f"hiaim-monitor: error: {result.error}", file=sys.stderr)
    if opts.summary_json is not None:
        opts.summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if not (result.unwritten_rows or result.error) else 1


def _store_spilled(db: Database) -> None:
    """Rows a previous run kept on disk while the database was down go in first."""
    problems: list[str] = []
    for replayed in replay_spills(db, problems=problems):
        print(f"Stored {replayed.rows} rows of session {replayed.session_id} kept in "
              f"{replayed.path} since the database was down.", file=sys.stderr)
    for problem in problems:
        print(f"hiaim-monitor: warning: {problem}", file=sys.stderr)


def _run_terminal(opts: RunOptions, db: Database, clock: Clock) -> RecordedSession:
    """The class as registered (or simulated) starts at once; the live table runs in the
    terminal until the protocol or --duration ends, or Ctrl+C. The same hub as the window's
    watches exactly the straps the class is assigned, with discovery off."""
    from drivers.sensor_thread import SensorThread
    from hiaim_monitor.strap_ids import StrapIdError

    cue = SessionCue()  # simulated participants follow the session as it runs
    sensors = SensorThread()
    sensors.start()
    events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
    try:
        hub, simulated = _make_hub(opts, db, clock, sensors, cue)
        people = simulated if simulated is not None else _assigned_class(opts, db, hub, sensors)
        sensors.call(hub.set_discovery(False))  # a running class needs no discovery
        try:
            for person in people:  # every id of the strap that this hub can hear
                for strap_id in person.strap_ids:
                    if strap_ids.radio_of(strap_id) in hub.radios:
                        sensors.call(hub.watch(strap_id, person.display_name))
        except StrapIdError as err:
            raise UsageError(str(err)) from None
        recorded = RecordedSession.start(db, opts.protocol, people, clock, events,
                                         duration_s=opts.duration_s, cue=cue,
                                         simulated=simulated is not None)
        if simulated is not None:
            from simulators.class_programme import in_simulated_class

            in_simulated_class(db, [p.study_code for p in simulated], recorded)
    except BaseException:
        sensors.stop()
        raise
    previous = signal.signal(signal.SIGTERM, _terminated)
    stop_reason = ""
    try:
        sensors.start_source(hub, events.put)
        run_in_terminal(recorded)  # RecordedSession.tick stores what each tick made final
    except KeyboardInterrupt:
        print("Stopped by the user.", file=sys.stderr)
        stop_reason = "interrupted"
    except Terminated:
        print("Stopped by SIGTERM (logout or shutdown); finishing the session.",
              file=sys.stderr)
        stop_reason = "terminated"
    finally:
        signal.signal(signal.SIGTERM, previous)
        sensors.stop()
        if stop_reason:
            # Ended early, as with the window's Stop: the phase running is judged on the time
            # it ran, and the stop is stored with how it came.
            with contextlib.suppress(ValueError):  # the schedule was over already
                recorded.session.stop(stop_reason)
        recorded.finish(wait_s=0.0)  # run() waits for the database, then keeps the rest
    return recorded


def _assigned_class(opts: RunOptions, db: Database, hub: StrapHub,
                    sensors: SensorThread) -> list[Participant]:
    """The registered participants with a strap (only ``--strap`` ones, when given), once
    the adapters are known to work: without one the session would record nothing."""
    from drivers.ant import AntStrapHub, NoAntStick
    from drivers.ble import AdapterUnavailable, BleStrapHub

    for one in _hubs_in(hub):
        if isinstance(one, AntStrapHub):
            try:  # before anything else: without a stick nothing can be heard
                sensors.call(one.check_sticks())
            except NoAntStick as err:
                raise UsageError(str(err)) from None
    people = assigned_class(db, opts.strap_keys or None)
    if not people:
        raise UsageError("no straps are assigned to participants: assign one with "
                         "'hiaim-monitor straps assign ADDRESS CODE'")
    for one in _hubs_in(hub):
        if isinstance(one, BleStrapHub):
            try:  # before a session is stored
                sensors.call(one.check_adapters())
            except AdapterUnavailable as err:
                raise UsageError(str(err)) from None
    return people


class Terminated(Exception):
    """SIGTERM arrived (logout, shutdown, systemd): end the session as Ctrl+C does."""


def _terminated(_signum: int, _frame: object) -> None:
    raise Terminated


def _run_window(opts: RunOptions, db: Database, clock: Clock,
                storage_notice: str) -> RecordedSession | None:
    """The control window: set the class up on screen, then run it."""
    from drivers.ble import DiscoveryError
    from drivers.sensor_thread import SensorThread
    from simulators.class_programme import SIMULATED_CLASS
    from ui.app import run_app, saved_language
    from ui.bridge import SensorBridge
    from ui.control_window import Wiring

    if opts.lang is None:
        set_language(saved_language())
    cue = SessionCue()
    events: queue.SimpleQueue[SourceEvent] = queue.SimpleQueue()
    sensors = SensorThread()
    sensors.start()
    try:
        hub, simulated = _make_hub(opts, db, clock, sensors, cue, window=True)
        simulated_codes = None if simulated is None else {p.study_code for p in simulated}
        try:
            sensors.start_source(hub, events.put)
        except DiscoveryError as err:
            raise UsageError(str(err)) from None
        # A real class never offers simulated participants; nobody's offers the archived.
        roster = list_participants(db, include_simulated=simulated_codes is not None,
                                   include_archived=False)
        setup = ClassSetup(roster, opts.protocol,
                           today=clock.now_utc().date(), started_mono_s=clock.monotonic(),
                           simulated=simulated_codes is not None,
                           default_programme=SIMULATED_CLASS if simulated_codes else None)
        if simulated_codes is not None:  # a simulation: today's class is the simulated one
            for entry in setup.entries:
                setup.set_attending(entry.study_code, entry.study_code in simulated_codes)

        def start(plan: SessionPlan) -> RecordedSession:
            recorded = RecordedSession.start(db, plan.protocol, plan.participants, clock,
                                             events, duration_s=opts.duration_s, cue=cue,
                                             remember_straps=True,
                                             simulated=simulated_codes is not None)
            # The setup page records the attendance in its chosen programme (for a
            # simulation, "Simulated class" unless the operator chose another).
            return recorded

        bridge = SensorBridge(sensors.loop, hub, events, clock)
        return run_app(Wiring(setup, db, bridge, clock, start, storage_notice))
    finally:
        sensors.stop()


def _make_hub(opts: RunOptions, db: Database, clock: Clock, sensors: SensorThread,
              cue: SessionCue, *, window: bool = False
              ) -> tuple[StrapHub, list[Participant] | None]:
    """The strap hub the options ask for: the one recipe per source kind, for the window
    and the headless path alike; several sources (radios) go behind one CombinedHub. For a
    simulation also its class (who wears which strap), registered with their straps so the
    roster shows them; None for real straps. ``window``: an ANT+ hub without a stick says so
    in the window and waits for one, where the headless path stops."""
    hubs: list[StrapHub] = []
    if opts.real:
        for kind, _n in opts.sources:
            hubs.append(_real_hub(kind, opts, clock, window=window))
        return _one_hub(hubs), None

    from simulators.roster import make_virtual_class

    virtual = make_virtual_class(opts.n_participants, opts.seed)
    straps: list[tuple[str, str]] = []
    first = 0
    for kind, n in opts.sources:  # the class, source by source
        hub, its_straps = _simulated_hub(kind, virtual[first:first + n], opts, clock,
                                         sensors, cue)
        hubs.append(hub)
        straps += its_straps
        first += n
    register_simulated_class(db, virtual, straps)
    from simulators.class_programme import joined_simulated_class

    joined_simulated_class(db, [v.study_code for v in virtual], clock.now_utc().date())
    people = [Participant(v.study_code, v.display_name, strap_id,
                          measured_hrmax(v.hrmax_bpm))
              for v, (strap_id, _name) in zip(virtual, straps, strict=True)]
    return _one_hub(hubs), people


def _one_hub(hubs: list[StrapHub]) -> StrapHub:
    if len(hubs) == 1:
        return hubs[0]
    from drivers.hubs import CombinedHub

    return CombinedHub(hubs)


def _hubs_in(hub: StrapHub) -> tuple[StrapHub, ...]:
    """The hubs behind ``hub`` (itself, unless it combines several)."""
    from drivers.hubs import CombinedHub

    return hub.hubs if isinstance(hub, CombinedHub) else (hub,)


def _real_hub(kind: str, opts: RunOptions, clock: Clock, *, window: bool) -> StrapHub:
    if kind == "ant":
        from drivers.ant import AntStrapHub

        return AntStrapHub(clock, sticks=opts.ant_sticks, wait_for_stick=window)
    from drivers.ble import BleStrapHub

    return BleStrapHub(clock, adapters=opts.adapters)


def _simulated_hub(kind: str, virtual: Sequence[VirtualParticipant], opts: RunOptions,
                   clock: Clock, sensors: SensorThread, cue: SessionCue
                   ) -> tuple[StrapHub, list[tuple[str, str]]]:
    """One simulated source's hub over ``virtual``, and (strap id, name) of each one's
    strap, in their order."""
    from simulators.faults import FaultConfig

    faults = FaultConfig.demo() if opts.faults == "demo" else FaultConfig()
    if kind == "simulate":
        from simulators.hub import SimulatedStrapHub

        sim = SimulatedStrapHub(virtual, clock, faults=faults, seed=opts.seed, cue=cue)
        return sim, list(sim.nearby.items())
    if kind == "simulate-ant":
        from drivers.ant import AntStrapHub
        from simulators.ant_class import EmulatedAntClass

        # Mild page loss with the demo faults: the rebuilt RR shows its gaps, none invented.
        ant_class = EmulatedAntClass(virtual, clock, cue=cue, seed=opts.seed,
                                     drop_fraction=0.02 if opts.faults == "demo" else 0.0)
        ant_class.start()
        sensors.add_cleanup(ant_class.astop)
        return AntStrapHub(clock, usb_backend=ant_class.backend), list(ant_class.strap_ids)
    if kind == "simulate-bluez":
        return _bluez_hub(virtual, opts, clock, sensors, cue, faults)
    _need_bumble()
    from drivers.ble import BleStrapHub
    from simulators.ble_emulation import EmulatedBleWorld
    from simulators.bleak_bumble import BumbleClient, BumbleScanner

    # Polar H10s, as most group classes wear: with fewer adapters than the class needs
    # (--simulate-adapters), the straps without a connection are heard by broadcast.
    adapters = opts.simulate_adapters or -(-len(virtual) // config.MAX_STRAPS_PER_ADAPTER)
    world = EmulatedBleWorld(adapter_count=adapters)
    sensors.call(world.start())
    sensors.add_cleanup(world.stop)
    emulated = sensors.call(world.add_class(virtual, clock=clock, cue=cue, faults=faults,
                                            seed=opts.seed, polar=True))
    hub = BleStrapHub(clock, adapters=world.adapters, scanner_backend=BumbleScanner,
                      client_backend=BumbleClient)
    return hub, [(e.strap_id, e.name) for e in emulated]


def _bluez_hub(virtual: Sequence[VirtualParticipant], opts: RunOptions, clock: Clock,
               sensors: SensorThread, cue: SessionCue, faults: FaultConfig
               ) -> tuple[StrapHub, list[tuple[str, str]]]:
    """--simulate-bluez: the production BLE hub, built as for real straps, over bleak's own
    BlueZ backend, which finds a BlueZ double on a private D-Bus system bus."""
    import importlib.util

    if sys.platform != "linux" or importlib.util.find_spec("dbus_fast") is None:
        raise UsageError("--simulate-bluez runs bleak's BlueZ backend, which exists only on "
                         "Linux; --simulate-ble N runs the same driver over bumble anywhere")
    from drivers.ble import BleStrapHub
    from simulators.bluez_double import BluezDouble
    from simulators.private_dbus import DbusDaemonMissing, PrivateSystemBus

    bus = PrivateSystemBus()
    try:
        bus.start()  # before the sensor loop's first bleak call: bleak connects once
    except DbusDaemonMissing as exc:
        raise UsageError(f"--simulate-bluez: {exc}") from None

    async def stop_bus() -> None:
        bus.stop()

    sensors.add_cleanup(stop_bus)  # last added, first run: the hub and the double stop first
    adapters = opts.simulate_adapters or -(-len(virtual) // config.MAX_STRAPS_PER_ADAPTER)
    double = BluezDouble(adapter_count=adapters)
    sensors.call(double.start())
    sensors.add_cleanup(double.stop)

    async def add_class() -> list[tuple[str, str]]:
        straps = double.add_class(virtual, clock=clock, cue=cue, faults=faults,
                                  seed=opts.seed, polar=True)
        return [(s.strap_id, s.name) for s in straps]

    return BleStrapHub(clock, adapters=double.adapter_names), sensors.call(add_class())


def _need_bumble() -> None:
    """--simulate-ble runs a real BLE stack (bumble), which `make demo` does not install."""
    import importlib.util

    if importlib.util.find_spec("bumble") is None:
        raise UsageError("--simulate-ble needs the bumble package, which `make test` "
                         "installs (or: pip install -e '.[test]'); --simulate N needs none")


def register_simulated_class(db: Database, virtual: Sequence[VirtualParticipant],
                             straps: Sequence[tuple[str, str]]) -> None:
    """Put the simulated participants in the registry (once), each with this simulation's
    strap as the remembered one, so the roster shows a class ready to start. Their study
    codes (SIM-...) keep them apart from real participants."""
    known = {p.study_code: p for p in list_participants(db)}
    known_straps = {s.strap_key for s in list_straps(db)}
    for v, (strap_id, name) in zip(virtual, straps, strict=True):
        was = known.get(v.study_code)
        if was is None:
            add_participant(db, v.study_code, v.display_name, hrmax_bpm=v.hrmax_bpm,
                            notes="simulated participant", simulated=True)
        elif (was.display_name, was.hrmax_bpm) != (v.display_name, v.hrmax_bpm):
            # Registered by an older version, whose classes differed.
            edit_participant(db, v.study_code, name=v.display_name,
                             hrmax_bpm=v.hrmax_bpm)
        if was is not None and was.strap_key == strap_id:
            continue
        if strap_id not in known_straps:
            add_strap(db, strap_id, name=name, kind="simulated")
        assign_strap(db, strap_id, v.study_code)


def run_screenshot(opts: ScreenshotOptions) -> int:
    """Render a window offscreen at ``--at`` seconds of a simulated session."""
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.control_window import Wiring
    from ui.screenshot import save_control, save_wall, use_settings_in

    session, setup = _simulated_class_at(opts)
    with tempfile.TemporaryDirectory(prefix="hiaim-screenshot-") as folder:
        use_settings_in(Path(folder))  # never the user's settings, in or out
        if opts.window == "wall":
            save_wall(session, opts.size, opts.out)
        elif opts.window == "control":
            save_control(session, None, opts.size, opts.out)
        else:
            db = open_database(f"sqlite:///{folder}/screenshot.db")
            try:
                save_control(None, Wiring(setup, db, None, session.clock, _no_start),
                             opts.size, opts.out)
            finally:
                db.close()
    print(f"Saved {opts.out}")
    return 0


def _no_start(plan: SessionPlan) -> RecordedSession:
    raise StorageError("a screenshot starts no session")


def _simulated_class_at(opts: ScreenshotOptions) -> tuple[LiveSession, ClassSetup]:
    """A simulated class ``opts.at_s`` seconds into its session, without threads or a
    database: the straps are stepped on a stepped clock and each notification goes through
    the same decode path as in a live run. Also the setup page's model of that class."""
    from simulators.faults import FaultConfig
    from simulators.stepped import SteppedClass
    from simulators.strap import strap_name_for

    faults = FaultConfig.demo() if opts.faults == "demo" else FaultConfig()
    sim = SteppedClass(opts.n_participants, opts.protocol, seed=opts.seed, faults=faults)
    clock, people = sim.clock, sim.participants
    session = LiveSession(opts.protocol, people, clock, sim.events, start_mono_s=0.0)
    sim.run_to(opts.at_s, on_second=session.tick)
    session.tick()
    roster = [ParticipantInfo(p.study_code, p.display_name, None, None, p.hrmax.bpm,
                              p.hrmax.method, None, None, False, "", p.strap_id, 0)
              for p in people]
    setup = ClassSetup(roster, opts.protocol, today=clock.now_utc().date(),
                       started_mono_s=clock.monotonic())
    for i, p in enumerate(people):
        t = clock.monotonic()
        setup.ingest([StrapSighting(p.strap_id, t, strap_name_for(i + 1), -48 - 3 * i)], t)
        view = session.snapshot().participants[i]
        if view.bpm is not None:
            setup.ingest([StrapStatus(p.strap_id, t, StrapState.STREAMING),
                          HeartRateSample(p.strap_id, t, clock.now_utc(), view.bpm, (),
                                          SensorContact.DETECTED)], t)
    return session, setup


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


def _command(args: argparse.Namespace) -> int:
    if args.command == "scan":
        return run_scan(args)
    if is_admin_command(args):
        return run_admin_command(args)
    if args.command == "screenshot":
        return run_screenshot(parse_screenshot(args))
    if args.command == "simulate-programme":
        from simulators.programme import run_command

        return run_command(parse_simulate_programme(args))
    return run(parse_options(args))


def main(argv: list[str] | None = None) -> int:
    try:
        code = _command(build_parser().parse_args(argv))
        sys.stdout.flush()  # here, not at exit: a reader that has gone is handled below
        return code
    except UsageError as exc:
        print(f"hiaim-monitor: error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"hiaim-monitor: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Whoever reads the output (`| head`) stopped reading: nothing is wrong, and the
        # rest has nowhere to go. Point stdout at nothing so that the flush at exit is quiet.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
