"""The researcher's commands (participants, straps, sessions, db, export) as argparse
subcommands. cli.py, the composition root, adds them to its parser and runs them:

    sub = parser.add_subparsers(dest="command")
    add_admin_commands(sub)
    args = parser.parse_args(argv)
    if is_admin_command(args):
        return run_admin_command(args)

Each command takes ``--db URL`` (default: HIAIM_DB_URL, else the SQLite file in the user
data directory). Exit codes: 0 done; 2 refused (bad value, unknown code, strap or session;
nothing was written); 1 the database could not be used. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from hiaim_monitor.admin import session_info
from hiaim_monitor.admin.session_info import SessionNotFound
from hiaim_monitor.admin.text_table import cell, render_fields, render_table
from hiaim_monitor.display import block_line, bout_peaks_text
from hiaim_monitor.exports import (
    ExportError,
    ExportFormat,
    export_programme,
    export_sessions,
)
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage import recovery, registry, strap_registry
from hiaim_monitor.storage.copy import CopyRefused, copy_session
from hiaim_monitor.storage.database import (
    Database,
    StorageError,
    default_sqlite_path,
    display_url,
    open_database,
    resolve_url,
    simulation_sqlite_path,
    upgrade,
)
from hiaim_monitor.storage.registry import RegistryError
from hiaim_monitor.storage.schema import SessionStatus

PROG: Final = "hiaim-monitor"
EXIT_OK: Final = 0
EXIT_DATABASE: Final = 1
EXIT_REFUSED: Final = 2
_HANDLER: Final = "admin_handler"
_SEX_LETTER: Final = {sex: letter for letter, sex in registry.SEX_CODES.items()}

Handler = Callable[[argparse.Namespace], int]


class AdminUsageError(Exception):
    """A command given in a way that cannot work; one sentence, exit code 2."""


def add_admin_commands(subparsers: Any) -> None:
    """Add participants, straps, sessions, db and export to ``subparsers`` (the object
    ``ArgumentParser.add_subparsers()`` returns)."""
    db_option = argparse.ArgumentParser(add_help=False)
    db_option.add_argument(
        "--db", metavar="URL", default=None,
        help="database URL (sqlite:///path or postgresql+psycopg://user@host/name); "
             "default: HIAIM_DB_URL, else the embedded SQLite file")
    db_option.add_argument(
        "--simulations", action="store_true",
        help="the simulations' own database (where --simulate records) instead")

    def leaf(group: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        parser = group.add_parser(name, parents=[db_option], help=help_text,
                                  description=help_text)
        parser.set_defaults(**{_HANDLER: handler})
        return parser

    def group(name: str, help_text: str) -> Any:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        return parser.add_subparsers(dest="admin_action", metavar="ACTION", required=True)

    people = group("participants", "register, list, edit and remove participants")
    add = leaf(people, "add", _participants_add, "register a participant by study code")
    add.add_argument("--code", dest="study_code", required=True, metavar="C",
                     help="pseudonymous study code")
    add.add_argument("--name", required=True, metavar="N",
                     help="display name shown on the wall screen")
    _participant_options(add)
    listing = leaf(people, "list", _participants_list,
                   "list the registered participants (not the archived ones)")
    listing.add_argument("--all", action="store_true", dest="include_archived",
                         help="the archived participants too")
    edit = leaf(people, "edit", _participants_edit, "change a participant's details")
    edit.add_argument("study_code", metavar="CODE")
    edit.add_argument("--code", dest="new_code", metavar="C", help="a new study code")
    edit.add_argument("--name", metavar="N", help="a new display name")
    _participant_options(edit)
    remove = leaf(people, "remove", _participants_remove,
                  "remove a participant who has no recorded sessions")
    remove.add_argument("study_code", metavar="CODE")
    archive = leaf(people, "archive", _participants_archive,
                   "take a participant off the roster (their sessions stay)")
    archive.add_argument("study_code", metavar="CODE")
    unarchive = leaf(people, "unarchive", _participants_unarchive,
                     "put an archived participant back on the roster")
    unarchive.add_argument("study_code", metavar="CODE")

    straps = group("straps", tr("list, add, link and assign heart-rate straps"))
    leaf(straps, "list", _straps_list, tr("list the known straps, every id each is heard by, "
                                          "and who wears them"))
    strap_add = leaf(straps, "add", _straps_add, tr("register a strap before its first session"))
    strap_add.add_argument("strap", metavar="STRAP", help=_strap_help())
    strap_add.add_argument("--name", default="", metavar="N", help=tr("a label, e.g. 'H10 #3'"))
    strap_add.add_argument("--kind", default="", metavar="K",
                           help=tr("what the strap is (default: its radio, e.g. ble or ant)"))
    link = leaf(straps, "link", _straps_link,
                tr("give a registered strap another id it is heard by, e.g. a dual-mode "
                   "strap's ANT+ number beside its Bluetooth address: still one strap, worn "
                   "by one person"))
    link.add_argument("strap", metavar="STRAP", help=tr("the strap, by any id it has"))
    link.add_argument("new_id", metavar="NEW_ID",
                      help=tr("the other id, e.g. ant:12345 or a Bluetooth address"))
    assign = leaf(straps, "assign", _straps_assign,
                  tr("make a strap the one a participant wears by default"))
    assign.add_argument("strap", metavar="STRAP", help=_strap_help())
    assign.add_argument("study_code", metavar="CODE")

    sessions = group("sessions", "list, show and recover recorded sessions")
    leaf(sessions, "list", _sessions_list, "list the recorded sessions, newest first")
    show = leaf(sessions, "show", _sessions_show, "show a session and what it recorded")
    show.add_argument("session_id", metavar="ID", type=int)
    recover = leaf(sessions, "recover", _sessions_recover,
                   "find sessions a crash left open (a session still recording is left "
                   "alone); with an ID and --close, finish one")
    recover.add_argument("session_id", metavar="ID", type=int, nargs="?")
    recover.add_argument("--close", action="store_true",
                         help="finish the session at its last stored sample")

    copy = leaf(sessions, "copy", _sessions_copy,
                "copy finished sessions to another database, e.g. those recorded on this "
                "computer while the central database was out of reach")
    copy.add_argument("session_ids", metavar="ID", type=int, nargs="+")
    copy.add_argument("--to", required=True, metavar="URL",
                      help="the database to copy them into, e.g. "
                           "postgresql+psycopg://user@host/trial")

    from hiaim_monitor.admin.programme_commands import add_programme_commands  # imports us
    add_programme_commands(subparsers, db_option)
    from hiaim_monitor.admin.report_commands import add_report_commands  # imports us
    add_report_commands(subparsers, db_option)

    database = group("db", "look after the database")
    leaf(database, "upgrade", _db_upgrade, "migrate the database to the newest schema")

    export = leaf(subparsers, "export", _export,
                  "export sessions for analysis (one set of files per session; "
                  "parquet: one set for all), or a whole programme with --programme")
    export.add_argument("session_ids", metavar="SESSION", type=int, nargs="*")
    export.add_argument("--programme", metavar="NAME",
                        help=tr("export a programme instead of sessions: the sessions "
                                "linked to its planned sessions, its attendance and records "
                                "(parquet or redcap)"))
    export.add_argument("--participant", metavar="CODE",
                        help=tr("with --programme: only this participant's rows"))
    export.add_argument("--format", dest="fmt", required=True,
                        choices=[f.value for f in ExportFormat],
                        help="csv: every sample, with its phase; rr: RR intervals for HRV "
                             "tools; tcx: for training tools, a lap per phase; summary: "
                             "adherence tables; events: alarms, acknowledgements, notes, "
                             "operator actions, phase and strap changes; parquet: samples, "
                             "beats, events and phase results of all the sessions given, "
                             "typed, in four files (a programme's also its planned sessions "
                             "and records); redcap: a programme as a REDCap import CSV and "
                             "the data dictionary that creates its instruments")
    export.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder for the files (created if needed)")
    export.add_argument("--with-names", action="store_true",
                        help="add display names to file names and content (identifiable!)")
    export.add_argument("--omit-artifacts", action="store_true",
                        help="leave out flagged beats (rr, parquet) and untrusted samples "
                             "(csv, tcx, parquet)")
    export.add_argument("--with-hrmax", action="store_true",
                        help="add HRmax and its method to the summary (an age formula's "
                             "HRmax gives the participant's age away)")


def _participant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--birth-year", type=int, metavar="Y")
    parser.add_argument("--sex", choices=sorted(registry.SEX_CODES),
                        help="f, m or x")
    hrmax = parser.add_mutually_exclusive_group()
    hrmax.add_argument("--hrmax", type=float, metavar="BPM", help="measured HRmax")
    hrmax.add_argument("--hrmax-method", choices=[m.value for m in registry.AGE_METHODS],
                       help="estimate HRmax from age (needs --birth-year)")
    parser.add_argument("--resting", type=float, metavar="BPM", help="resting heart rate")
    parser.add_argument("--beta-blocker", action=argparse.BooleanOptionalAction,
                        default=None, help="takes beta blockers: HR targets may not apply")
    parser.add_argument("--notes", metavar="T")


def is_admin_command(args: argparse.Namespace) -> bool:
    """True when ``args`` came from one of the commands ``add_admin_commands`` added."""
    return callable(getattr(args, _HANDLER, None))


def run_admin_command(args: argparse.Namespace) -> int:
    """Run the command ``args`` names; returns the exit code."""
    handler = getattr(args, _HANDLER, None)
    if not callable(handler):
        return _fail("no command given; see --help", EXIT_REFUSED)
    try:
        return handler(args)
    except (RegistryError, ExportError, SessionNotFound, AdminUsageError) as error:
        return _fail(str(error), EXIT_REFUSED)
    except StorageError as error:
        return _fail(str(error), EXIT_DATABASE)


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _db_url(args: argparse.Namespace) -> str | None:
    """The URL ``--db`` / ``--simulations`` name; None: HIAIM_DB_URL, else the default."""
    if args.simulations:
        if args.db:
            raise AdminUsageError("give --db or --simulations, not both.")
        return f"sqlite:///{simulation_sqlite_path()}"
    return args.db


def _open(args: argparse.Namespace, url: str | None = None) -> Database:
    db = open_database(url if url is not None else _db_url(args))
    if db.notice:
        print(f"{PROG}: warning: {db.notice}", file=sys.stderr)
    return db


def _say(text: str) -> None:
    print(text, file=sys.stdout)


# -- participants --------------------------------------------------------------------------

def _participant_changes(args: argparse.Namespace) -> dict[str, Any]:
    return {"birth_year": args.birth_year, "sex": args.sex, "hrmax_bpm": args.hrmax,
            "hrmax_method": args.hrmax_method, "resting_bpm": args.resting}


def _hrmax_text(info: registry.ParticipantInfo) -> str:
    if info.hrmax_bpm is None:
        return "no HRmax yet (set --hrmax or --hrmax-method)"
    if info.hrmax_method is HRMaxMethod.MEASURED:
        return f"HRmax {cell(info.hrmax_bpm)} bpm (measured)"
    return (f"HRmax {cell(info.hrmax_bpm)} bpm ({info.hrmax_method}, "
            f"born {cell(info.birth_year)})")


def _report(verb: str, info: registry.ParticipantInfo) -> int:
    _say(f"{verb} {info.study_code} ({info.display_name}): {_hrmax_text(info)}.")
    if info.beta_blocker:
        _say("Takes beta blockers: heart-rate targets may not apply.")
    return EXIT_OK


def _participants_add(args: argparse.Namespace) -> int:
    with _open(args) as db:
        info = registry.add_participant(db, args.study_code, args.name,
                                        beta_blocker=bool(args.beta_blocker),
                                        notes=args.notes or "", **_participant_changes(args))
    return _report("Registered", info)


def _participants_edit(args: argparse.Namespace) -> int:
    with _open(args) as db:
        info = registry.edit_participant(db, args.study_code, new_code=args.new_code,
                                         name=args.name, beta_blocker=args.beta_blocker,
                                         notes=args.notes, **_participant_changes(args))
    return _report("Updated", info)


def _participants_remove(args: argparse.Namespace) -> int:
    with _open(args) as db:
        registry.remove_participant(db, args.study_code)
    _say(f"Removed {args.study_code.strip()}.")
    return EXIT_OK


def _participants_archive(args: argparse.Namespace) -> int:
    with _open(args) as db:
        info = registry.archive_participant(db, args.study_code)
    _say(f"Archived {info.study_code} ({info.display_name}): off the roster; their "
         f"{info.sessions} recorded session(s) stay.")
    return EXIT_OK


def _participants_unarchive(args: argparse.Namespace) -> int:
    with _open(args) as db:
        info = registry.archive_participant(db, args.study_code, archived=False)
    _say(f"{info.study_code} ({info.display_name}) is on the roster again.")
    return EXIT_OK


def _participants_list(args: argparse.Namespace) -> int:
    with _open(args) as db:
        people = registry.list_participants(db, include_archived=args.include_archived)
        hidden = 0 if args.include_archived else (
            len(registry.list_participants(db)) - len(people))
    if not people:
        _say("No participants are registered yet; add one with `participants add`."
             if not hidden else f"All {hidden} participants are archived; `participants "
             "list --all` shows them.")
        return EXIT_OK
    _say(render_table(
        ("code", "name", "born", "sex", "HRmax", "method", "HRmax set", "resting",
         "beta-blocker", "strap", "sessions", "kind", "notes"),
        [(p.study_code, p.display_name, p.birth_year, _SEX_LETTER.get(p.sex) if p.sex else None,
          p.hrmax_bpm, p.hrmax_method, p.hrmax_date, p.resting_bpm,
          "yes" if p.beta_blocker else "", p.strap_key, p.sessions, _kind(p), p.notes)
         for p in people]))
    if hidden:
        _say(f"{hidden} archived participant(s) not shown; `participants list --all` "
             "shows them.")
    return EXIT_OK


def _kind(p: registry.ParticipantInfo) -> str:
    return ", ".join(word for word, on in (("simulated", p.simulated),
                                           ("archived", p.archived)) if on)


# -- straps --------------------------------------------------------------------------------

def _strap_help() -> str:
    return tr("the strap's Bluetooth address (AA:BB:CC:DD:EE:FF) or any id it has "
              "(ble:…, ant:12345)")


def _straps_list(args: argparse.Namespace) -> int:
    with _open(args) as db:
        straps = strap_registry.list_straps(db)
    if not straps:
        _say(tr("No straps are known yet; add one with `straps add ADDRESS`."))
        return EXIT_OK
    # Other ids joined without a space: one cell, so the table stays one word per column.
    _say(render_table(
        (tr("strap"), tr("other ids"), tr("label"), tr("kind"), tr("battery %"),
         tr("battery read (UTC)"), tr("worn by"), tr("name")),
        [(s.strap_key, ",".join(s.ids[1:]), s.name, s.kind, s.battery_pct, s.battery_utc,
          s.study_code, s.display_name) for s in straps]))
    return EXIT_OK


def _straps_add(args: argparse.Namespace) -> int:
    with _open(args) as db:
        strap = strap_registry.add_strap(db, args.strap, name=args.name, kind=args.kind)
    _say(tr("Registered strap {key}.").format(key=strap.strap_key))
    return EXIT_OK


def _straps_link(args: argparse.Namespace) -> int:
    with _open(args) as db:
        strap = strap_registry.add_strap_id(db, args.strap, args.new_id)
    _say(tr("Strap {key} is now also heard as {ids}; it stays one strap.")
         .format(key=strap.strap_key, ids=", ".join(strap.ids[1:])))
    return EXIT_OK


def _straps_assign(args: argparse.Namespace) -> int:
    with _open(args) as db:
        previous = strap_registry.assign_strap(db, args.strap, args.study_code)
        strap = strap_registry.find_strap(db, args.strap)
    key = strap.strap_key if strap is not None else args.strap.strip()
    _say(tr("{code} now wears strap {key} by default.")
         .format(code=args.study_code.strip(), key=key))
    if previous:
        _say(tr("The strap was {code}'s; {code} has no default strap now.")
             .format(code=previous))
    return EXIT_OK


# -- sessions ------------------------------------------------------------------------------

def _sessions_list(args: argparse.Namespace) -> int:
    with _open(args) as db:
        sessions = session_info.list_sessions(db)
    if not sessions:
        _say("No sessions are recorded yet.")
        return EXIT_OK
    _say(render_table(
        ("id", "started (UTC)", "ended (UTC)", "status", "protocol", "participants", "site",
         "operator", "host", "simulated"),
        [(s.session_id, s.started_utc, s.ended_utc, s.shown_status, s.protocol_key,
          s.participants, s.site, s.operator, s.host, "yes" if s.simulated else "no")
         for s in sessions]))
    return EXIT_OK


def _sessions_show(args: argparse.Namespace) -> int:
    with _open(args) as db:
        detail = session_info.show_session(db, args.session_id)
    s = detail.session
    duration_s = (s.ended_utc - s.started_utc).total_seconds() if s.ended_utc else None
    events = ", ".join(f"{kind} {n}" for kind, n in detail.events.items())
    _say(render_fields([
        ("session", s.session_id), ("status", s.shown_status),
        ("simulated", "yes: virtual participants, not people" if s.simulated else "no"),
        ("protocol", f"{s.protocol_name} ({s.protocol_key})"),
        ("started (UTC)", s.started_utc), ("ended (UTC)", s.ended_utc),
        ("duration", f"{duration_s / 60:.1f} min" if duration_s is not None else None),
        ("site", s.site), ("operator", s.operator), ("host", s.host),
        ("notes", detail.notes), ("events", events)]))
    _say("")
    if not detail.participants:
        _say("No participants took part.")
        return EXIT_OK
    _say(render_table(
        ("code", "name", "strap", "HRmax", "method", "samples", "untrusted", "beats",
         "flagged beats", "achieved/judged"),
        [(p.study_code, p.display_name, p.strap_key, p.hrmax_bpm, p.hrmax_method, p.samples,
          p.samples_untrusted, p.beats, p.beats_flagged,
          f"{p.intervals_achieved}/{p.intervals_judged}") for p in detail.participants]))
    if detail.blocks:  # each judged as a whole: one line with its repeats
        _say("")
        for b in detail.blocks:
            peaks = tr("bout peaks: {peaks}").format(peaks=bout_peaks_text(b.bout_peaks_pct))
            _say(f"{b.study_code}: {block_line(detail.protocol, b)}; {peaks}")
    return EXIT_OK


def _sessions_recover(args: argparse.Namespace) -> int:
    if args.session_id is None:
        if args.close:
            raise AdminUsageError("--close needs a session id, e.g. "
                                  "`sessions recover 12 --close`.")
        return _recover_all(args)
    with _open(args) as db:
        s = session_info.get_session(db, args.session_id)
        if s.status is SessionStatus.FINISHED:
            raise AdminUsageError(f"Session {s.session_id} is already finished; there is "
                                  "nothing to close.")
        if s.status is SessionStatus.RUNNING and s.host != socket.gethostname():
            raise AdminUsageError(f"Session {s.session_id} is running on {s.host or 'another'} "
                                  "host and may still be recording there; close it from that "
                                  "machine.")
        if s.recording:
            raise AdminUsageError(f"Session {s.session_id} is still being recorded on "
                                  f"{s.host}; stop it there, it is finished then.")
        if not args.close:
            raise AdminUsageError(f"Say what to do with session {s.session_id}: --close "
                                  "finishes it at its last stored sample. (An interrupted "
                                  "session cannot be resumed; start a new one.)")
        ended = recovery.close(db, s.session_id)
        _say(f"Session {s.session_id} is finished, ending at its last stored data "
             f"({cell(ended)} UTC).")
    return EXIT_OK


def _sessions_copy(args: argparse.Namespace) -> int:
    refused = 0
    with _open(args) as source, _open(args, args.to) as target:
        for session_id in args.session_ids:
            try:
                copied = copy_session(source, target, session_id)
            except CopyRefused as error:
                print(f"{PROG}: {error}", file=sys.stderr)
                refused += 1
                continue
            _say(f"Session {session_id} copied to {target.name} as session "
                 f"{copied.target_id} ({copied.rows:,} rows).")
    return EXIT_REFUSED if refused else EXIT_OK


def _recover_all(args: argparse.Namespace) -> int:
    with _open(args) as db:
        found = recovery.recover_at_start(db)
    if not found:
        _say(f"No unfinished sessions from this machine ({socket.gethostname()}).")
        return EXIT_OK
    _say(render_table(
        ("id", "started (UTC)", "status", "protocol", "participants", "last data (UTC)",
         "last data (s)", "site", "operator"),
        [(u.session_id, u.started_utc, u.status, u.protocol_key, u.participants,
          u.last_sample_utc, u.last_sample_t_s, u.site, u.operator) for u in found]))
    _say("Finish one with `sessions recover ID --close`.")
    return EXIT_OK


# -- db and export -------------------------------------------------------------------------

def _db_upgrade(args: argparse.Namespace) -> int:
    from hiaim_monitor.storage.migrate import head_revision  # needs Alembic: only here

    notice = upgrade(_db_url(args))
    if notice:
        print(f"{PROG}: warning: {notice}", file=sys.stderr)
    url = resolve_url(_db_url(args))
    name = display_url(url) if url else f"sqlite:///{default_sqlite_path()}"
    _say(f"The database {name} is on the newest schema (revision {head_revision()}).")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    if args.programme is not None:
        return _export_programme(args)
    if args.participant is not None:
        raise AdminUsageError(tr("--participant goes with --programme NAME; give both."))
    if not args.session_ids:
        raise AdminUsageError(tr("Give the session ids to export, or --programme NAME."))
    with _open(args) as db:
        paths = export_sessions(db, args.session_ids, args.fmt, args.out,
                                with_names=args.with_names,
                                omit_artifacts=args.omit_artifacts,
                                with_hrmax=args.with_hrmax)
    if not paths:
        which = ", ".join(str(i) for i in dict.fromkeys(args.session_ids))
        _say(f"Session {which} has no participants; nothing was written."
             if len(args.session_ids) == 1 else
             f"Sessions {which} have no participants; nothing was written.")
    for path in paths:
        _say(str(path))
    _names_note(args, paths)
    return EXIT_OK


def _names_note(args: argparse.Namespace, paths: list[Path]) -> None:
    if args.with_names and paths:
        print("Note: these files contain display names; handle them as identifiable data.",
              file=sys.stderr)


def _export_programme(args: argparse.Namespace) -> int:
    if args.session_ids:
        raise AdminUsageError(tr("Give session ids or --programme NAME, not both."))
    if args.with_hrmax:
        raise AdminUsageError(tr("--with-hrmax is for the summary of sessions, not for a "
                                 "programme."))
    with _open(args) as db:
        paths = export_programme(db, args.programme, args.fmt, args.out,
                                 participant=args.participant, with_names=args.with_names,
                                 omit_artifacts=args.omit_artifacts)
    for path in paths:
        _say(str(path))
    _names_note(args, paths)
    return EXIT_OK
