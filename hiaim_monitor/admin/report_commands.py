"""`hiaim-monitor report`: the session and programme reports (PDF, or the same figures as
CSV) built from the store. Same rules as the other registry commands (commands.py):
``--db``/``--simulations``, exit 0 done, 2 refused with one line and nothing written, 1 the
database could not be used.

    hiaim-monitor report session 12 --out session-12.pdf
    hiaim-monitor report programme "HI AIM Herlev" --participant HIAIM-007 --out p7.pdf
    hiaim-monitor report programme "HI AIM Herlev" --format csv --out out/herlev
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hiaim_monitor import reports
from hiaim_monitor.admin.commands import EXIT_OK, EXIT_REFUSED, PROG, _fail, _open, _say
from hiaim_monitor.i18n import tr
from hiaim_monitor.reports.common import checked_out
from hiaim_monitor.storage.database import Database

_HANDLER = "admin_handler"


def add_report_commands(subparsers: Any, db_option: argparse.ArgumentParser) -> None:
    """Add the ``report`` group to ``subparsers``; ``db_option`` is the parent parser with
    ``--db`` and ``--simulations`` the other groups use."""
    top = subparsers.add_parser(
        "report", help=tr("write a session's or a programme's report (PDF or CSV)"),
        description=tr("write a session's or a programme's report (PDF or CSV)"))
    group = top.add_subparsers(dest="admin_action", metavar="WHAT", required=True)

    def leaf(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser = group.add_parser(name, parents=[db_option], help=help_text,
                                  description=help_text)
        parser.set_defaults(**{_HANDLER: handler})
        return parser

    session = leaf("session", _session,
                   tr("a session's report: a group page, then each participant's heart-rate "
                      "trace with the phases, target bands, intervals, RPE and events"))
    session.add_argument("session_id", metavar="ID", type=int)
    programme = leaf("programme", _programme,
                     tr("a programme's report: the CONSORT-style numbers, attendance "
                        "calendar, compliance, RPE, dose and adverse events, for the group "
                        "and each participant"))
    programme.add_argument("name", metavar="NAME", help=tr("the programme"))
    programme.add_argument("--participant", metavar="CODE",
                           help=tr("only this participant's page"))
    for parser in (session, programme):
        parser.add_argument("--out", required=True, type=Path, metavar="FILE",
                            help=tr("the PDF file (its folder must exist); with --format csv "
                                    "a file stem: one STEM_<table>.csv per table"))
        parser.add_argument("--format", dest="fmt", choices=("pdf", "csv"), default="pdf",
                            help=tr("pdf (default) or csv"))


def _warn(line: str) -> None:
    print(f"{PROG}: warning: {' '.join(line.split())}", file=sys.stderr)


def _session(args: argparse.Namespace) -> int:
    if args.fmt == "pdf":
        return _write(args, lambda db: [reports.write_session_report(db, args.session_id,
                                                                     args.out)])
    return _write(args, lambda db: reports.write_session_csv(db, args.session_id, args.out))


def _programme(args: argparse.Namespace) -> int:
    if args.fmt == "pdf":
        return _write(args, lambda db: [reports.write_programme_report(
            db, args.name, args.out, participant=args.participant, warn=_warn)])
    return _write(args, lambda db: reports.write_programme_csv(
        db, args.name, args.out, participant=args.participant, warn=_warn))


def _write(args: argparse.Namespace, make: Callable[[Database], list[Path]]) -> int:
    """Check the output before the database is opened, then ``make`` the files."""
    try:
        checked_out(args.out, args.fmt)
        with _open(args) as db:
            written = make(db)
    except reports.ReportError as error:
        return _fail(str(error), EXIT_REFUSED)
    _say(tr("Wrote {paths}.").format(paths=", ".join(str(p) for p in written)))
    return EXIT_OK
