"""`hiaim-monitor programmes`: training programmes (a calendar of planned sessions per
enrolled participant) and what happened at each session: attendance, Borg RPE and adverse
events. Same rules as the other registry commands (commands.py): ``--db``/``--simulations``,
exit 0 done, 2 refused with one line and nothing written, 1 the database could not be used.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from hiaim_monitor.admin.commands import EXIT_OK, AdminUsageError, _open, _say
from hiaim_monitor.admin.text_table import render_table
from hiaim_monitor.i18n import tr
from hiaim_monitor.programme import metrics
from hiaim_monitor.programme.model import (
    Attendance,
    DoseModification,
    MissedReason,
    Relatedness,
)
from hiaim_monitor.storage import programme_records, programmes

_HANDLER = "admin_handler"


def add_programme_commands(subparsers: Any, db_option: argparse.ArgumentParser) -> None:
    """Add the ``programmes`` group to ``subparsers``; ``db_option`` is the parent parser
    with ``--db`` and ``--simulations`` the other groups use."""
    def leaf(group: Any, name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser = group.add_parser(name, parents=[db_option], help=help_text,
                                  description=help_text)
        parser.set_defaults(**{_HANDLER: handler})
        return parser

    top = subparsers.add_parser(
        "programmes", help=tr("create programmes, enrol participants and record attendance, "
                              "RPE and adverse events"),
        description=tr("create programmes, enrol participants and record attendance, RPE "
                       "and adverse events"))
    group = top.add_subparsers(dest="admin_action", metavar="ACTION", required=True)

    create = leaf(group, "create", _create, tr("create a programme and its calendar"))
    create.add_argument("name", metavar="NAME")
    create.add_argument("--start", required=True, type=_day, metavar="YYYY-MM-DD",
                        help=tr("the programme's first day"))
    create.add_argument("--site", default="", metavar="S", help=tr("where it is held"))
    create.add_argument("--weeks", type=int, default=6, metavar="N",
                        help=tr("how many weeks it runs (default 6)"))
    create.add_argument("--per-week", type=int, default=3, metavar="N",
                        help=tr("sessions a week (default 3: Monday, Wednesday, Friday)"))
    leaf(group, "list", _list, tr("list the programmes"))

    enrol = leaf(group, "enrol", _enrol,
                 tr("enrol a registered participant and plan their sessions"))
    _name_code(enrol)
    enrol.add_argument("--on", type=_day, metavar="YYYY-MM-DD",
                       help=tr("the enrolment date (default: today)"))
    withdraw = leaf(group, "withdraw", _withdraw,
                    tr("withdraw a participant for good (their records stay)"))
    _name_code(withdraw)
    withdraw.add_argument("--on", required=True, type=_day, metavar="YYYY-MM-DD",
                          help=tr("the withdrawal date"))
    withdraw.add_argument("--reason", required=True, metavar="TEXT",
                          help=tr("why they stopped"))

    show = leaf(group, "show", _show, tr("show the calendar with attendance, RPE and adverse "
                                         "events, and each participant's summary"))
    show.add_argument("name", metavar="NAME")
    show.add_argument("--participant", metavar="CODE", help=tr("only this participant"))

    attendance = leaf(group, "attendance", _attendance,
                      tr("record (or correct) whether a planned session was attended"))
    _session(attendance)
    attendance.add_argument("attendance", choices=[a.value for a in Attendance])
    attendance.add_argument("--reason", choices=[r.value for r in MissedReason],
                            help=tr("why a missed session was missed"))
    attendance.add_argument("--note", default="", metavar="TEXT", help=tr("a free-text note"))

    rpe = leaf(group, "rpe", _rpe, tr("record a Borg RPE rating (6–20) for a session"))
    _session(rpe)
    rpe.add_argument("borg", metavar="BORG", type=int, help=tr("Borg RPE, 6 to 20"))
    rpe.add_argument("--after-phase", type=int, metavar="N",
                     help=tr("the phase it was asked after (its index in the protocol); "
                             "default: once, at the end of the session"))

    event = leaf(group, "adverse-event", _adverse_event,
                 tr("record an adverse event at a session"))
    _session(event)
    event.add_argument("--what", required=True, metavar="TEXT", help=tr("what happened"))
    event.add_argument("--grade", required=True, type=int, metavar="1-5",
                       help=tr("its grade, 1 to 5"))
    event.add_argument("--related", required=True, choices=[r.value for r in Relatedness],
                       help=tr("is it related to the exercise?"))
    event.add_argument("--action", default="", metavar="TEXT", help=tr("the action taken"))

    dose = leaf(group, "dose-modification", _dose_modification,
                tr("record that a session's dose was reduced (intensity or duration; for "
                   "health or another cause)"))
    _session(dose)
    dose.add_argument("modification", choices=[d.value for d in DoseModification])
    dose.add_argument("--note", default="", metavar="TEXT", help=tr("a free-text note"))
    end = leaf(group, "early-termination", _early_termination,
               tr("record that a participant stopped before the session's end"))
    _session(end)
    end.add_argument("--reason", required=True, metavar="TEXT", help=tr("why they stopped"))

    records = leaf(group, "records", _records,
                   tr("list the RPE ratings, dose modifications, early terminations and "
                      "adverse events with the record ids that edit and delete take"))
    records.add_argument("name", metavar="NAME")
    records.add_argument("--participant", metavar="CODE", help=tr("only this participant"))
    _add_edit_commands(group, db_option)
    delete = leaf(group, "delete", _delete, tr("delete a record entered by mistake"))
    delete.add_argument("kind", choices=_KINDS, help=tr("what kind of record"))
    delete.add_argument("record_id", metavar="ID", type=int,
                        help=tr("its id, as `programmes records` lists it"))


_KINDS = ("rpe", "dose-modification", "early-termination", "adverse-event")


def _add_edit_commands(group: Any, db_option: argparse.ArgumentParser) -> None:
    """`programmes edit KIND ID ...`: correct a stored record; only what is given changes.
    ``--db`` belongs to each KIND (after it), so a sub-parser's defaults cannot undo it."""
    help_text = tr("correct a stored record (see `programmes records` for the ids)")
    edit = group.add_parser("edit", help=help_text, description=help_text)
    kinds = edit.add_subparsers(dest="edit_kind", metavar="KIND", required=True)

    def kind(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        parser = kinds.add_parser(name, parents=[db_option], help=help_text,
                                  description=help_text)
        parser.set_defaults(**{_HANDLER: handler})
        parser.add_argument("record_id", metavar="ID", type=int,
                            help=tr("its id, as `programmes records` lists it"))
        return parser

    rpe = kind("rpe", _edit_rpe, tr("correct an RPE rating"))
    rpe.add_argument("--borg", type=int, metavar="BORG", help=tr("Borg RPE, 6 to 20"))
    when = rpe.add_mutually_exclusive_group()
    when.add_argument("--after-phase", type=int, metavar="N",
                      help=tr("it was asked after this phase (its index in the protocol)"))
    when.add_argument("--at-end", action="store_true",
                      help=tr("it was asked once, at the end of the session"))
    dose = kind("dose-modification", _edit_dose, tr("correct a dose modification"))
    dose.add_argument("--modification", choices=[d.value for d in DoseModification])
    dose.add_argument("--note", metavar="TEXT", help=tr("a free-text note"))
    end = kind("early-termination", _edit_termination, tr("correct an early termination"))
    end.add_argument("--reason", required=True, metavar="TEXT", help=tr("why they stopped"))
    event = kind("adverse-event", _edit_event, tr("correct an adverse event"))
    event.add_argument("--what", metavar="TEXT", help=tr("what happened"))
    event.add_argument("--grade", type=int, metavar="1-5", help=tr("its grade, 1 to 5"))
    event.add_argument("--related", choices=[r.value for r in Relatedness],
                       help=tr("is it related to the exercise?"))
    event.add_argument("--action", metavar="TEXT", help=tr("the action taken"))


def _name_code(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help=tr("the programme"))
    parser.add_argument("study_code", metavar="CODE")


def _session(parser: argparse.ArgumentParser) -> None:
    _name_code(parser)
    parser.add_argument("week", metavar="WEEK", type=int, help=tr("week of the programme"))
    parser.add_argument("number", metavar="NUMBER", type=int,
                        help=tr("the session's number in its week"))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        # argparse turns this into one line naming the option.
        raise argparse.ArgumentTypeError(
            tr("'{text}' is not a date; give it as YYYY-MM-DD.").format(text=text)) from None


def _create(args: argparse.Namespace) -> int:
    with _open(args) as db:
        p = programmes.create_programme(db, args.name, start_date=args.start, site=args.site,
                                        weeks=args.weeks, sessions_per_week=args.per_week)
    _say(tr("Created programme {name}: {weeks} weeks from {start}, {per_week} sessions a "
            "week.").format(name=p.name, weeks=p.weeks, start=p.start_date.isoformat(),
                            per_week=p.sessions_per_week))
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    with _open(args) as db:
        found = programmes.list_programmes(db)
    if not found:
        _say(tr("No programmes yet; create one with `programmes create NAME --start DATE`."))
        return EXIT_OK
    _say(render_table(
        (tr("name"), tr("site"), tr("start"), tr("weeks"), tr("per week"), tr("enrolled"),
         tr("simulated")),
        [(p.name, p.site, p.start_date, p.weeks, p.sessions_per_week, p.enrolled,
          p.simulated) for p in found]))
    return EXIT_OK


def _enrol(args: argparse.Namespace) -> int:
    with _open(args) as db:
        # Enrolment and planning are two transactions; a planning refusal is not expected
        # once the enrolment stood, and planning again later adds only what is missing.
        e = programmes.enrol(db, args.name, args.study_code, enrolled_on=args.on)
        planned = programmes.plan_sessions(db, e.programme, e.study_code)
    _say(tr("Enrolled {code} in {name} on {day}; {n} session(s) planned.").format(
        code=e.study_code, name=e.programme, day=e.enrolled_on.isoformat(), n=planned))
    return EXIT_OK


def _withdraw(args: argparse.Namespace) -> int:
    with _open(args) as db:
        e = programmes.withdraw(db, args.name, args.study_code, withdrawn_on=args.on,
                                reason=args.reason)
    _say(tr("Withdrew {code} from {name} on {day}; their records stay.").format(
        code=e.study_code, name=e.programme, day=args.on.isoformat()))
    return EXIT_OK


def _attendance(args: argparse.Namespace) -> int:
    with _open(args) as db:
        p = programmes.record_attendance(db, args.name, args.study_code, args.week,
                                         args.number, args.attendance, reason=args.reason,
                                         note=args.note)
    _say(tr("{code}, week {week} session {number} ({day}): {attendance}.").format(
        code=p.study_code, week=p.week, number=p.number, day=p.planned_on.isoformat(),
        attendance=p.attendance.value if p.attendance else "-"))
    return EXIT_OK


def _rpe(args: argparse.Namespace) -> int:
    with _open(args) as db:
        r = programme_records.record_rpe(db, args.name, args.study_code, args.week,
                                         args.number, args.borg, phase_index=args.after_phase)
    _say(tr("{code}, week {week} session {number}: RPE {borg}.").format(
        code=r.study_code, week=r.week, number=r.number, borg=r.borg))
    return EXIT_OK


def _adverse_event(args: argparse.Namespace) -> int:
    with _open(args) as db:
        a = programme_records.record_adverse_event(db, args.name, args.study_code, args.week,
                                                   args.number, args.what, args.grade,
                                                   args.related, args.action)
    _say(tr("{code}, week {week} session {number}: adverse event, grade {grade} (record "
            "{id}).").format(code=a.study_code, week=a.week, number=a.number, grade=a.grade,
                             id=a.id))
    return EXIT_OK


def _dose_modification(args: argparse.Namespace) -> int:
    with _open(args) as db:
        d = programme_records.record_dose_modification(db, args.name, args.study_code,
                                                       args.week, args.number,
                                                       args.modification, args.note)
    _say(tr("{code}, week {week} session {number}: dose modification {what}.").format(
        code=d.study_code, week=d.week, number=d.number, what=d.modification.value))
    return EXIT_OK


def _early_termination(args: argparse.Namespace) -> int:
    with _open(args) as db:
        e = programme_records.record_early_termination(db, args.name, args.study_code,
                                                       args.week, args.number, args.reason)
    _say(tr("{code}, week {week} session {number}: ended early ({reason}).").format(
        code=e.study_code, week=e.week, number=e.number, reason=e.reason))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    with _open(args) as db:
        name = args.name
        codes = [e.study_code for e in programmes.list_enrolments(db, name)]
        if args.participant is not None:
            # Refused in one line when the participant is not enrolled.
            people = [programme_records.participant_programme(db, name, args.participant)]
        else:
            people = [programme_records.participant_programme(db, name, c) for c in codes]
    if not people:
        _say(tr("No one is enrolled in {name} yet; `programmes enrol NAME CODE` enrols "
                "someone.").format(name=args.name.strip()))
        return EXIT_OK
    _say(render_table(
        (tr("code"), tr("week"), tr("session"), tr("date"), tr("attendance"), tr("reason"),
         tr("RPE"), tr("adverse events")),
        [(p.study_code, r.planned.week, r.planned.number_in_week, r.planned.date, r.status,
          r.missed_reason, r.rpe, ",".join(f"G{e.grade}" for e in r.adverse_events))
         for p in people for r in p.sessions]))
    _say("")
    rows = []
    for p in people:
        s = metrics.participant_summary(p)
        grades = ",".join(f"G{g}:{n}" for g, n in sorted(s["adverse_events_by_grade"].items())
                          if n)
        rows.append((p.study_code, s["planned_sessions"], s["attended_sessions"],
                     s["missed_sessions"], _pct(s["attendance"]), s["interruptions"],
                     s["dose_modified_sessions"], s["early_terminations"],
                     _pct(s["relative_dose_intensity"]), s["mean_rpe"], grades))
    _say(render_table(
        (tr("code"), tr("planned"), tr("attended"), tr("missed"), tr("attendance %"),
         tr("interruptions"), tr("dose modified"), tr("ended early"), tr("RDI %"),
         tr("mean RPE"), tr("AEs by grade")), rows))
    return EXIT_OK


def _records(args: argparse.Namespace) -> int:
    name, code = args.name, args.participant
    with _open(args) as db:
        if code is not None:  # refused in one line when not enrolled
            programme_records.participant_programme(db, name, code)
        found: list[tuple[Any, ...]] = []
        for r in programme_records.list_rpe(db, name, code):
            when = (tr("at the end") if r.phase_index is None
                    else tr("after phase {n}").format(n=r.phase_index))
            found.append(("rpe", r, f"{r.borg} ({when})"))
        for d in programme_records.list_dose_modifications(db, name, code):
            found.append(("dose-modification", d, _joined(d.modification.value, d.note)))
        for e in programme_records.list_early_terminations(db, name, code):
            found.append(("early-termination", e, e.reason))
        for a in programme_records.list_adverse_events(db, name, code):
            found.append(("adverse-event", a, _joined(
                tr("grade {grade}, related: {related}").format(grade=a.grade,
                                                               related=a.related.value),
                a.description, a.action)))
    if not found:
        _say(tr("No records in {name} yet.").format(name=name.strip()))
        return EXIT_OK
    found.sort(key=lambda f: (f[1].study_code, f[1].week, f[1].number, f[0], f[1].id))
    _say(render_table(
        (tr("kind"), tr("id"), tr("code"), tr("week"), tr("session"), tr("record"),
         tr("recorded (UTC)")),
        [(kind, r.id, r.study_code, r.week, r.number, text,
          r.recorded_utc.strftime("%Y-%m-%d %H:%M")) for kind, r, text in found]))
    return EXIT_OK


def _joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _nothing_to_change(*options: str) -> AdminUsageError:
    return AdminUsageError(tr("Nothing to change; give at least one of {options}.")
                           .format(options=", ".join(options)))


def _edit_rpe(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    if args.borg is not None:
        changes["borg"] = args.borg
    if args.after_phase is not None or args.at_end:
        changes["phase_index"] = None if args.at_end else args.after_phase
    if not changes:
        raise _nothing_to_change("--borg", "--after-phase", "--at-end")
    with _open(args) as db:
        r = programme_records.edit_rpe(db, args.record_id, **changes)
    _say(tr("RPE record {id} ({code}, week {week} session {number}): RPE {borg}.").format(
        id=r.id, code=r.study_code, week=r.week, number=r.number, borg=r.borg))
    return EXIT_OK


def _edit_dose(args: argparse.Namespace) -> int:
    if args.modification is None and args.note is None:
        raise _nothing_to_change("--modification", "--note")
    with _open(args) as db:
        d = programme_records.edit_dose_modification(db, args.record_id,
                                                     modification=args.modification,
                                                     note=args.note)
    _say(tr("Dose modification record {id} ({code}, week {week} session {number}): "
            "{what}.").format(id=d.id, code=d.study_code, week=d.week, number=d.number,
                              what=d.modification.value))
    return EXIT_OK


def _edit_termination(args: argparse.Namespace) -> int:
    with _open(args) as db:
        e = programme_records.edit_early_termination(db, args.record_id, reason=args.reason)
    _say(tr("Early termination record {id} ({code}, week {week} session {number}): "
            "{reason}.").format(id=e.id, code=e.study_code, week=e.week, number=e.number,
                                reason=e.reason))
    return EXIT_OK


def _edit_event(args: argparse.Namespace) -> int:
    if all(v is None for v in (args.what, args.grade, args.related, args.action)):
        raise _nothing_to_change("--what", "--grade", "--related", "--action")
    with _open(args) as db:
        a = programme_records.edit_adverse_event(db, args.record_id, description=args.what,
                                                 grade=args.grade, related=args.related,
                                                 action=args.action)
    _say(tr("Adverse event record {id} ({code}, week {week} session {number}): grade "
            "{grade}.").format(id=a.id, code=a.study_code, week=a.week, number=a.number,
                               grade=a.grade))
    return EXIT_OK


def _delete(args: argparse.Namespace) -> int:
    with _open(args) as db:
        programme_records.delete_record(db, args.kind, args.record_id)
    _say(tr("Deleted {kind} record {id}.").format(kind=args.kind, id=args.record_id))
    return EXIT_OK


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 1)
