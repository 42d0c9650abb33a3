"""The command line's words: the parser, and the run options checked into one value.
Every mistake a user can make here is one line naming the option (UsageError, exit 2)."""

from __future__ import annotations

import argparse
import difflib
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from hiaim_monitor import config
from hiaim_monitor.admin import add_admin_commands
from hiaim_monitor.i18n import available_languages, set_language, tr
from hiaim_monitor.protocols import (
    DEFAULT_PROTOCOL,
    ProtocolError,
    TrainingProtocol,
    list_presets,
    load_protocol,
)
from hiaim_monitor.storage.database import DB_URL_ENV, StorageError, check_lasting


class UsageError(Exception):
    """A bad argument: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not usage + traceback
        raise UsageError(message)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        argv = sys.argv[1:] if args is None else list(args)
        _refuse_unknown_options(self, argv)
        return super().parse_args(argv, namespace)


def _refuse_unknown_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A mistyped option gets its own name and the nearest known one ("unknown option
    --speeed; did you mean --speed?"): argparse would take its value for a command and
    complain about that instead. Known are the options of the command typed so far (the
    program's, then each command word's), not those of commands not given."""
    known = _own_options(parser)
    current = parser
    for word in argv:
        if word == "--":
            return
        sub = _command(current, word)
        if sub is not None:
            current = sub
            known |= _own_options(sub)
            continue
        if not word.startswith("--"):
            continue
        name = word.split("=", 1)[0]
        if any(option.startswith(name) for option in known):  # exact, or abbreviated
            continue
        nearest = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {nearest[0]}?" if nearest else "; see --help"
        raise UsageError(f"unknown option {name}{hint}")


def _own_options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for o in parser._option_string_actions if o.startswith("--")}


def _command(parser: argparse.ArgumentParser, word: str) -> argparse.ArgumentParser | None:
    """The sub-parser ``word`` names among ``parser``'s commands, if it is one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and word in action.choices:
            return action.choices[word]
    return None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hiaim-monitor",
        description="Group heart-rate monitor for supervised interval training.",
    )
    p.add_argument("--simulate", type=int, metavar="N",
                   help=f"run with N simulated participants (1–{config.MAX_PARTICIPANTS})")
    p.add_argument("--simulate-ble", type=int, metavar="N",
                   help="N simulated participants whose straps are emulated over a real BLE "
                        "stack (bumble) and reached through the production BLE driver")
    p.add_argument("--simulate-bluez", type=int, metavar="N",
                   help="N simulated participants whose straps are served by a BlueZ "
                        "double on a private D-Bus (needs dbus-daemon) and reached through "
                        "the production BLE driver over bleak's own BlueZ backend: the "
                        "Linux path, without Bluetooth hardware")
    p.add_argument("--simulate-adapters", type=int, metavar="K",
                   help="with --simulate-ble or --simulate-bluez: emulate K Bluetooth "
                        "adapters (default: enough "
                        f"to connect every strap, {config.MAX_STRAPS_PER_ADAPTER} each); "
                        "the straps are Polar H10s, so those beyond the adapters' capacity "
                        "are heard by their broadcast heart rate (no RR)")
    p.add_argument("--simulate-ant", type=int, metavar="N",
                   help="N simulated participants whose ANT+ straps are emulated behind an "
                        "emulated ANT USB stick and heard through the production ANT+ hub")
    p.add_argument("--ant", action="store_true",
                   help="real ANT+ chest straps through ANT USB sticks (ANTUSB2, ANTUSB-m): "
                        "the straps assigned to participants")
    p.add_argument("--ant-stick", action="append", metavar="SERIAL", default=[],
                   help="with --ant: only this ANT USB stick, by its serial number (repeat "
                        "for more; default every stick plugged in)")
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
    shot = sub.add_parser("screenshot", help="render a window offscreen at a point of a "
                          "simulated session and save it as a PNG")
    shot.add_argument("--window", choices=("control", "wall", "setup"), required=True,
                      help="control: the operator's window; wall: the participants' screen; "
                           "setup: the control window before the start")
    shot.add_argument("--simulate", type=int, default=8, metavar="N",
                      help=f"simulated participants (1–{config.MAX_PARTICIPANTS}, "
                           "default 8)")
    shot.add_argument("--at", type=float, default=600.0, metavar="SECONDS",
                      help="session time to show (default 600)")
    shot.add_argument("--out", type=Path, required=True, metavar="FILE.png")
    shot.add_argument("--size", default=None, metavar="WxH",
                      help="image size in pixels (default 1280x800; the wall 1920x1080)")
    shot.add_argument("--protocol", default=DEFAULT_PROTOCOL, metavar="P",
                      help=f"preset ({', '.join(list_presets())}) or .toml file")
    shot.add_argument("--seed", type=int, default=config.SIM_DEFAULT_SEED, metavar="K")
    shot.add_argument("--faults", choices=("none", "demo"), default="demo")
    shot.add_argument("--lang", choices=available_languages())
    _add_simulate_programme(sub)
    add_admin_commands(sub)
    return p


def _add_simulate_programme(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prog = sub.add_parser(
        "simulate-programme",
        help=tr("run a whole programme of simulated participants at high speed and record it "
                "(attendance, RPE, adverse events and every session)"),
        description=tr("run a whole programme of simulated participants at high speed and "
                       "record it (attendance, RPE, adverse events and every session)"))
    prog.add_argument("--participants", type=int, default=12, metavar="N",
                      help=tr("simulated participants (default 12)"))
    prog.add_argument("--weeks", type=int, default=6, metavar="N",
                      help=tr("weeks of three sessions (default 6)"))
    prog.add_argument("--name", default=SIMULATED_PROGRAMME, metavar="NAME",
                      help=tr("the programme's name (default: {name})")
                      .format(name=SIMULATED_PROGRAMME))
    prog.add_argument("--minutes", type=float, metavar="M",
                      help=tr("stop each session after M minutes (default: the whole "
                              "protocol)"))
    prog.add_argument("--protocol", default=DEFAULT_PROTOCOL, metavar="P",
                      help=f"preset ({', '.join(list_presets())}) or .toml file")
    prog.add_argument("--start", metavar="YYYY-MM-DD",
                      help=tr("the programme's first day (default: the Monday that makes it "
                              "end last week)"))
    prog.add_argument("--seed", type=int, default=config.SIM_DEFAULT_SEED, metavar="K",
                      help=tr("the same seed gives the same programme"))
    prog.add_argument("--db", metavar="URL",
                      help=tr("database URL (default: the simulations' own database)"))


SIMULATED_PROGRAMME = "Simulated programme"


@dataclass(frozen=True)
class SimulateProgrammeOptions:
    participants: int
    weeks: int
    name: str
    minutes: float | None
    protocol: TrainingProtocol
    start: date | None
    seed: int
    db_url: str | None  # None: the simulations' database


def parse_simulate_programme(args: argparse.Namespace) -> SimulateProgrammeOptions:
    """The options of ``simulate-programme``, the ones checkable without a database."""
    start = None
    if args.start is not None:
        try:
            start = date.fromisoformat(args.start.strip())
        except ValueError:
            raise UsageError(tr("--start: '{text}' is not a date; give it as YYYY-MM-DD")
                             .format(text=args.start)) from None
    try:
        protocol = load_protocol(args.protocol)
    except ProtocolError as exc:
        raise UsageError(str(exc)) from None
    if args.db:
        try:
            check_lasting(args.db)
        except StorageError as exc:
            raise UsageError(f"--db: {exc}") from None
    return SimulateProgrammeOptions(args.participants, args.weeks, args.name, args.minutes,
                                    protocol, start, args.seed, args.db)


@dataclass(frozen=True)
class ScreenshotOptions:
    window: str
    n_participants: int
    at_s: float
    out: Path
    size: tuple[int, int]
    protocol: TrainingProtocol
    seed: int
    faults: str


def parse_screenshot(args: argparse.Namespace) -> ScreenshotOptions:
    set_language(args.lang)
    n = args.simulate
    if not 1 <= n <= config.MAX_PARTICIPANTS:
        raise UsageError(f"--simulate takes 1–{config.MAX_PARTICIPANTS} participants, "
                         f"got {n}")
    if not (args.at >= 0 and args.at < 24 * 3600):
        raise UsageError(f"--at must be a session time from 0 seconds on, got {args.at:g}")
    if args.out.suffix.lower() != ".png":
        raise UsageError(f"--out: {args.out} does not end in .png")
    _check_writable(args.out, "--out")
    size_text = args.size or ("1920x1080" if args.window == "wall" else "1280x800")
    try:
        w, h = (int(v) for v in size_text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size: {size_text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (320 <= w <= 7680 and 240 <= h <= 4320):
        raise UsageError(f"--size: {w}x{h} is outside 320x240–7680x4320")
    try:
        protocol = load_protocol(args.protocol)
    except ProtocolError as exc:
        raise UsageError(str(exc)) from None
    return ScreenshotOptions(args.window, n, args.at, args.out, (w, h), protocol, args.seed,
                             args.faults)


# Heart-rate sources that may run side by side in one class (through one CombinedHub): real
# straps on several radios, or emulated straps on several radios; never real and simulated.
REAL_SOURCES: Final = ("ble", "ant")
EMULATED_SOURCES: Final = ("simulate-ble", "simulate-bluez", "simulate-ant")


@dataclass(frozen=True)
class RunOptions:
    # (source, simulated participants on it): "simulate", "simulate-ble", "simulate-bluez"
    # or "simulate-ant"
    # with N; "ble" or "ant" (real straps) with 0. The class is made in this order.
    sources: tuple[tuple[str, int], ...]
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
    lang: str | None  # as given; None: the saved choice, else the system locale
    ant_sticks: tuple[str, ...] = ()  # --ant-stick serials; empty: every stick
    simulate_adapters: int | None = None  # emulated BLE adapters; None: enough

    @property
    def real(self) -> bool:
        """Real straps (the real registry and a real clock), not a simulation."""
        return self.sources[0][0] in REAL_SOURCES

    @property
    def n_participants(self) -> int:
        """Simulated participants on every source together; 0 for real straps."""
        return sum(n for _source, n in self.sources)


def parse_options(args: argparse.Namespace) -> RunOptions:
    set_language(args.lang)
    chosen = [name for name, on in (("--simulate", args.simulate is not None),
                                    ("--simulate-ble", args.simulate_ble is not None),
                                    ("--simulate-bluez", args.simulate_bluez is not None),
                                    ("--simulate-ant", args.simulate_ant is not None),
                                    ("--ble", args.ble), ("--ant", args.ant)) if on]
    if not chosen:
        raise UsageError("choose a heart-rate source: --simulate N (simulated participants), "
                         "--simulate-ble N (emulated BLE straps), --simulate-bluez N (the "
                         "same through BlueZ's D-Bus API), --simulate-ant N (emulated ANT+ "
                         "straps), --ble or --ant (real straps)")
    kinds = [c.removeprefix("--") for c in chosen]
    if len(chosen) > 1 and not (set(kinds) <= set(REAL_SOURCES)
                                or set(kinds) <= set(EMULATED_SOURCES)):
        raise UsageError(f"choose one heart-rate source, not {' and '.join(chosen)} (radios "
                         "mix as --ble --ant, or as --simulate-ble N --simulate-ant M)")
    if args.simulate_ble is not None and args.simulate_bluez is not None:
        raise UsageError("choose --simulate-ble N (bumble) or --simulate-bluez N (BlueZ "
                         "double), not both: they are the same Bluetooth LE radio")
    counts = {"simulate": args.simulate, "simulate-ble": args.simulate_ble,
              "simulate-bluez": args.simulate_bluez, "simulate-ant": args.simulate_ant}
    for kind, option in zip(kinds, chosen, strict=True):
        n_kind = counts.get(kind)
        if n_kind is not None and not 1 <= n_kind <= config.MAX_PARTICIPANTS:
            raise UsageError(f"{option} takes 1–{config.MAX_PARTICIPANTS} participants, "
                             f"got {n_kind}")
    sources = tuple((kind, counts.get(kind) or 0) for kind in kinds)
    n = sum(count for _kind, count in sources) or None
    if n is not None and n > config.MAX_PARTICIPANTS:
        raise UsageError(f"{' and '.join(chosen)} make a class of {n}; one session takes at "
                         f"most {config.MAX_PARTICIPANTS} participants")
    if args.strap and not (args.ble or args.ant):
        raise UsageError("--strap goes with --ble or --ant")
    if args.ant_stick and not args.ant:
        raise UsageError("--ant-stick goes with --ant")
    for serial in args.ant_stick:
        if not serial.strip() or any(c.isspace() for c in serial):
            raise UsageError(f"--ant-stick: {serial!r} is not a stick's serial number")
    if args.simulate_adapters is not None:
        if args.simulate_ble is None and args.simulate_bluez is None:
            raise UsageError("--simulate-adapters goes with --simulate-ble or "
                             "--simulate-bluez")
        if not 1 <= args.simulate_adapters <= config.MAX_EMULATED_ADAPTERS:
            raise UsageError("--simulate-adapters takes "
                             f"1–{config.MAX_EMULATED_ADAPTERS} adapters, "
                             f"got {args.simulate_adapters}")
    for adapter in args.adapter:
        if not adapter or any(c.isspace() for c in adapter):
            raise UsageError(f"--adapter: {adapter!r} is not an adapter name such as hci0")
    if len(set(args.adapter)) != len(args.adapter):
        raise UsageError(f"--adapter: each adapter once, got {', '.join(args.adapter)}")
    if not args.speed > 0 or math.isnan(args.speed):
        raise UsageError(f"--speed must be a number above 0, got {args.speed:g}")
    n_sim = n or 0
    fastest = max_speed(n_sim)
    if math.isinf(args.speed):
        raise UsageError(f"--speed must be a finite number, got {args.speed:g}; the most a "
                         f"simulation of {n_sim} keeps up with here is {fastest:g}")
    if args.speed > fastest:
        raise UsageError(f"--speed {args.speed:g} is faster than a simulation of {n_sim} "
                         f"can keep up with here; the most is {fastest:g}")
    if (args.ble or args.ant) and args.speed != 1:
        raise UsageError("--speed is for simulations: real straps run in real time")
    try:
        protocol = load_protocol(args.protocol)
    except ProtocolError as exc:
        raise UsageError(str(exc)) from None
    duration_s = args.duration
    if duration_s is not None and not duration_s > 0:
        raise UsageError(f"--duration must be above 0 seconds, got {duration_s:g}")
    if args.summary_json is not None:
        _check_writable(args.summary_json, "--summary-json")
    # A simulation records in its own database unless --db says otherwise; real straps
    # record in --db, else HIAIM_DB_URL, else the default file.
    url, where = ((args.db, "--db") if args.db or kinds[0] not in REAL_SOURCES
                  else (os.environ.get(DB_URL_ENV), DB_URL_ENV))
    if url:
        try:
            check_lasting(url)
        except StorageError as exc:
            raise UsageError(f"{where}: {exc}") from None
    return RunOptions(sources, tuple(args.strap), tuple(args.adapter) or ("hci0",),
                      args.headless, args.speed, duration_s, protocol, args.seed, args.faults,
                      args.summary_json, args.db, args.lang,
                      tuple(s.strip() for s in args.ant_stick), args.simulate_adapters)


def max_speed(n_participants: int) -> float:
    """The fastest ``--speed`` at which a simulation of ``n_participants`` keeps up on a
    2-core machine (BENCHMARKS.md): faster, samples pile up and the session is stored
    degraded."""
    by_load = config.SIM_MAX_NOTIFICATIONS_PER_S / max(1, n_participants)
    return float(min(config.SIM_MAX_SPEED, int(by_load)))


def _check_writable(path: Path, option: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{option}: cannot create folder {path.parent} "
                         f"({exc.strerror})") from None
    if path.is_dir():
        raise UsageError(f"{option}: {path} is a folder; give a file name")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"{option}: folder {path.parent} is not writable")
