"""The admin commands, run in-process as cli.py will run them, against real databases:
participants and straps round trip, every bad write is refused in one line with exit code 2
and changes nothing, and recorded sessions can be listed, shown and recovered."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hiaim_monitor.admin import is_admin_command, run_admin_command
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import SessionStatus
from hiaim_monitor.storage.assignments import assigned_class
from hiaim_monitor.storage.migrate import head_revision
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.schema import (
    EventRow,
    ParticipantRow,
    SessionRow,
    StrapAssignmentRow,
    StrapRow,
)
from hiaim_monitor.storage.strap_registry import add_strap, assign_strap
from tests.conftest import ok
from tests.storage.helpers import START_UTC, as_crashed
from tests.storage.recorded import (
    DURATION_S,
    admin_parser,
    record_session,
    store_phase_cut_short,
)

THIS_YEAR = datetime.now(UTC).year


@pytest.fixture
def cli(backend, capsys):
    """Run one admin command on the test database: (exit code, stdout, stderr)."""
    parser = admin_parser()

    def run(*argv: str) -> tuple[int, str, str]:
        args = parser.parse_args([*argv, "--db", backend.url])
        assert is_admin_command(args)
        code = run_admin_command(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of the tables a registry or recovery command may write."""
    tables = (ParticipantRow, StrapRow, StrapAssignmentRow, SessionRow, EventRow)
    with db.session() as s:
        return {t.__tablename__: sorted(tuple(r) for r in s.execute(sa.select(*t.__table__.c)))
                for t in tables}


def participant(db, code: str) -> ParticipantRow | None:
    with db.session() as s:
        return s.scalars(sa.select(ParticipantRow)
                         .where(ParticipantRow.study_code == code)).one_or_none()


def test_participants_add_list_edit_remove_round_trip(db, cli):
    out = ok(cli("participants", "add", "--code", "HIAIM-010", "--name", "Anna",
                 "--birth-year", "1960", "--sex", "f", "--hrmax-method", "tanaka",
                 "--resting", "62", "--notes", "knee\nsurgery 2024"))
    assert out.startswith("Registered HIAIM-010 (Anna): HRmax")
    ok(cli("participants", "add", "--code", "HIAIM-011", "--name", "Bo", "--hrmax", "181",
           "--beta-blocker"))

    listing = ok(cli("participants", "list")).splitlines()
    assert listing[0].split() == ["code", "name", "born", "sex", "HRmax", "method", "HRmax",
                                  "set", "resting", "beta-blocker", "strap", "sessions",
                                  "kind", "notes"]
    assert set(listing[1]) <= {"-", " "}
    anna, bo = listing[2:]
    age = THIS_YEAR - 1960
    assert anna.split()[:6] == ["HIAIM-010", "Anna", "1960", "f",
                                f"{208 - 0.7 * age:.1f}".removesuffix(".0"), "tanaka"]
    assert anna.endswith("knee surgery 2024")
    assert bo.split()[:6] == ["HIAIM-011", "Bo", "-", "-", "181", "measured"]
    assert "yes" in bo.split()
    # Columns line up: every row starts its HRmax column at the same place.
    assert len({line.index(" tanaka") if "tanaka" in line else line.index(" measured")
                for line in (anna, bo)}) == 1

    ok(cli("participants", "edit", "HIAIM-010", "--birth-year", "1950", "--name", "Anna K",
           "--no-beta-blocker"))
    row = participant(db, "HIAIM-010")
    assert (row.display_name, row.birth_year, row.hrmax_method) == ("Anna K", 1950,
                                                                    HRMaxMethod.TANAKA)
    assert row.hrmax_bpm == pytest.approx(208 - 0.7 * (THIS_YEAR - 1950))  # re-estimated
    ok(cli("participants", "edit", "HIAIM-010", "--hrmax", "172", "--code", "HIAIM-012"))
    row = participant(db, "HIAIM-012")
    assert (row.hrmax_bpm, row.hrmax_method, row.resting_bpm) == (172.0, HRMaxMethod.MEASURED,
                                                                  62.0)
    ok(cli("participants", "edit", "HIAIM-012", "--birth-year", "1951"))
    assert participant(db, "HIAIM-012").hrmax_bpm == 172.0  # a measured HRmax stays

    assert ok(cli("participants", "remove", "HIAIM-012")) == "Removed HIAIM-012.\n"
    assert participant(db, "HIAIM-012") is None
    assert "HIAIM-012" not in ok(cli("participants", "list"))


@pytest.mark.parametrize(("method", "formula"), [
    ("tanaka", lambda age: 208 - 0.7 * age),
    ("220-age", lambda age: 220 - age),
    ("gellish", lambda age: 207 - 0.7 * age),
])
def test_hrmax_is_estimated_from_the_birth_year_by_the_chosen_method(db, cli, method, formula):
    ok(cli("participants", "add", "--code", "P1", "--name", "A", "--birth-year", "1958",
           "--hrmax-method", method))
    row = participant(db, "P1")
    assert row.hrmax_method == HRMaxMethod(method)
    assert row.hrmax_bpm == pytest.approx(formula(THIS_YEAR - 1958))
    assert row.hrmax_date == datetime.now(UTC).date()


BAD_WRITES = [
    (("participants", "add", "--code", "HIAIM-001", "--name", "Again"),
     "Study code HIAIM-001 is already registered"),
    (("participants", "add", "--code", "X1", "--name", "A", "--hrmax", "250"),
     "HRmax 250 bpm is outside 100–230 bpm"),
    (("participants", "add", "--code", "X1", "--name", "A", "--hrmax", "99.5"),
     "HRmax 99.5 bpm is outside 100–230 bpm"),
    (("participants", "add", "--code", "X1", "--name", "A", "--birth-year",
      str(THIS_YEAR + 1)), f"Birth year {THIS_YEAR + 1} is in the future"),
    (("participants", "add", "--code", "X1", "--name", "A", "--birth-year", "1899"),
     "Birth year 1899 is before 1900"),
    (("participants", "add", "--code", "X1", "--name", "A", "--hrmax-method", "gellish"),
     "no birth year is known; give the birth year too"),
    (("participants", "add", "--code", "X 1", "--name", "A"), "Study code 'X 1' is not valid"),
    (("participants", "add", "--code", "X1", "--name", " "), "The display name is empty"),
    (("participants", "add", "--code", "X1", "--name", "A", "--hrmax", "150", "--resting",
      "160"), "Resting heart rate 160 bpm is outside 25–150 bpm"),
    (("participants", "edit", "NOPE", "--name", "B"),
     "There is no participant with study code 'NOPE'"),
    (("participants", "edit", "HIAIM-002", "--code", "HIAIM-001"),
     "Study code HIAIM-001 is already registered"),
    (("participants", "edit", "HIAIM-002", "--hrmax", "231"), "HRmax 231 bpm is outside"),
    (("participants", "edit", "HIAIM-002", "--birth-year", "1850"),
     "Birth year 1850 is before 1900"),
    (("participants", "remove", "NOPE"), "There is no participant with study code 'NOPE'"),
    (("participants", "remove", "HIAIM-001"),
     "HIAIM-001 took part in 1 session and cannot be removed"),
    (("straps", "assign", "AA:BB:CC:DD:EE:99", "HIAIM-001"),
     "There is no strap ble:AA:BB:CC:DD:EE:99 in the registry"),
    (("straps", "assign", "STRAP-001", "NOPE"), "There is no participant with study code"),
    (("straps", "add", "STRAP-001"), "'STRAP-001' is not a strap id"),
    (("straps", "link", "STRAP-001", "STRAP-002"), "'STRAP-002' is not a strap id"),
    (("sessions", "show", "999"), "There is no session 999"),
    (("sessions", "recover", "999", "--close"), "There is no session 999"),
    (("sessions", "recover", "--close"), "--close needs a session id"),
]


def test_every_bad_write_exits_2_with_one_line_and_writes_nothing(db, cli):
    record_session(db)  # HIAIM-001..003 with straps STRAP-001..003, one session
    for argv, needle in BAD_WRITES:
        before = snapshot(db)
        code, out, err = cli(*argv)
        assert (code, out) == (2, ""), argv
        assert err.startswith("hiaim-monitor: error: ") and err.count("\n") == 1, (argv, err)
        assert needle in err, (argv, err)
        assert err.rstrip().endswith("."), err
        assert snapshot(db) == before, argv


def test_a_strap_is_worn_by_one_person_and_a_person_wears_one_strap(db, cli):
    for code in ("HIAIM-001", "HIAIM-002"):
        ok(cli("participants", "add", "--code", code, "--name", code[-1], "--hrmax", "180"))
    ok(cli("straps", "add", "aa:bb:cc:dd:ee:01", "--name", "H10 #1"))
    ok(cli("straps", "add", "AA:BB:CC:DD:EE:02"))

    ok(cli("straps", "assign", "aa:bb:cc:dd:ee:01", "HIAIM-001"))
    ok(cli("straps", "assign", "AA:BB:CC:DD:EE:02", "HIAIM-001"))  # replaces the first
    out = ok(cli("straps", "assign", "AA:BB:CC:DD:EE:02", "HIAIM-002"))  # taken over
    assert "The strap was HIAIM-001's" in out

    with db.session() as s:
        pairs = s.execute(sa.select(ParticipantRow.study_code, StrapRow.strap_key)
                          .join(StrapAssignmentRow,
                                StrapAssignmentRow.participant_id == ParticipantRow.id)
                          .join(StrapRow, StrapRow.id == StrapAssignmentRow.strap_id)).all()
    assert pairs == [("HIAIM-002", "ble:AA:BB:CC:DD:EE:02")]
    rows = ok(cli("straps", "list")).splitlines()[2:]
    assert [r.split()[0] for r in rows] == ["ble:AA:BB:CC:DD:EE:01", "ble:AA:BB:CC:DD:EE:02"]
    assert rows[1].split()[-2:] == ["HIAIM-002", "2"]


def test_sessions_list_and_show_say_what_was_recorded(db, cli):
    recorded = record_session(db)
    sid = recorded.stored.session_id

    rows = ok(cli("sessions", "list")).splitlines()
    assert rows[2].split()[:7] == [str(sid), "2026-03-02", "09:30:00", "2026-03-02",
                                   "09:34:00", "finished", "test-4min"]
    shown = ok(cli("sessions", "show", str(sid)))
    assert "protocol:" in shown and "Four minutes (test-4min)" in shown
    assert "duration:      4.0 min" in shown
    table = shown.split("\n\n")[1].splitlines()
    assert table[0].split() == ["code", "name", "strap", "HRmax", "method", "samples",
                                "untrusted", "beats", "flagged", "beats",
                                "achieved/judged"]
    first = table[2]
    assert first.startswith("HIAIM-001  Zoë Ærø 1  STRAP-001")
    beats = recorded.beats["HIAIM-001"]
    assert first.split()[-5:] == ["240", "15", str(len(beats)),
                                  str(sum(1 for b in beats if b.flags)), "2/2"]
    assert table[4].split()[-1] == "0/1"  # HIAIM-003: one judged, not achieved
    store_phase_cut_short(db, recorded)  # HIAIM-003's other phase, cut short
    table = ok(cli("sessions", "show", str(sid))).split("\n\n")[1].splitlines()
    assert table[4].split()[-1] == "0/1"  # not judged: neither achieved nor judged


def test_sessions_recover_marks_crashed_sessions_and_closes_one(db, cli):
    here = socket.gethostname()
    crashed = [record_session(db, finish=False, host=here).stored.session_id for _ in range(2)]
    for session_id in crashed:
        as_crashed(db, session_id)
    live = record_session(db, finish=False, host=here).stored.session_id  # this process
    elsewhere = record_session(db, finish=False, host="another-site").stored.session_id

    out = ok(cli("sessions", "recover"))
    assert [line.split()[0] for line in out.splitlines()[2:]] == [*map(str, crashed),
                                                                  "Finish"]
    assert "--resume" not in out

    def status(session_id):
        with db.session() as s:
            row = s.get(SessionRow, session_id)
            return row.status, row.ended_utc

    assert status(crashed[0])[0] is status(crashed[1])[0] is SessionStatus.INTERRUPTED
    assert status(live)[0] is SessionStatus.RUNNING  # its process is still recording it
    assert status(elsewhere)[0] is SessionStatus.RUNNING  # may be live at the other site
    code, _, err = cli("sessions", "recover", str(crashed[1]))
    assert code == 2 and "--close finishes it" in err and "cannot be resumed" in err
    code, _, err = cli("sessions", "recover", str(elsewhere), "--close")
    assert code == 2 and "is running on another-site host" in err
    code, _, err = cli("sessions", "recover", str(live), "--close")
    assert code == 2 and f"Session {live} is still being recorded on {here}" in err
    assert status(live)[0] is SessionStatus.RUNNING

    ok(cli("sessions", "recover", str(crashed[1]), "--close"))
    assert status(crashed[1]) == (SessionStatus.FINISHED,
                                  START_UTC + timedelta(seconds=DURATION_S - 0.5))
    code, _, err = cli("sessions", "recover", str(crashed[1]), "--close")
    assert code == 2 and f"Session {crashed[1]} is already finished" in err


def test_sessions_list_tells_a_dead_session_from_a_live_one(db, cli):
    here = socket.gethostname()
    killed_here = record_session(db, finish=False, host=here).stored.session_id
    as_crashed(db, killed_here)
    live_here = record_session(db, finish=False, host=here).stored.session_id
    silent_there = record_session(db, finish=False, host="another-site").stored.session_id
    as_crashed(db, silent_there)
    live_there = record_session(db, finish=False, host="another-site").stored.session_id

    rows = {int(line.split()[0]): line for line in ok(cli("sessions", "list")).splitlines()[2:]}
    no_beat = "interrupted (no heartbeat since 2026-03-02 09:30:00 UTC)"
    assert no_beat in rows[killed_here] and no_beat in rows[silent_there]
    for session_id in (live_here, live_there):
        assert " running " in rows[session_id] and "interrupted" not in rows[session_id]
    shown = ok(cli("sessions", "show", str(killed_here)))
    assert f"status:        {no_beat}" in shown


def test_db_upgrade_reports_the_newest_schema(cli):
    out = ok(cli("db", "upgrade"))
    assert out.startswith("The database ")
    assert out.endswith(f"is on the newest schema (revision {head_revision()}).\n")


def test_a_database_that_cannot_be_opened_exits_1_with_one_line(capsys):
    args = admin_parser().parse_args(["participants", "list", "--db", "mysql://u@h/db"])
    assert run_admin_command(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("hiaim-monitor: error: Cannot open database mysql://u@h/db: 'mysql' "
                          "databases are not supported")


def test_refusals_speak_the_operators_language(db):
    from hiaim_monitor import i18n
    from hiaim_monitor.storage.registry import RegistryError, add_participant

    add_participant(db, "HA-001", "Anna", hrmax_bpm=170)
    i18n.set_language("da")
    try:
        with pytest.raises(RegistryError) as refused:
            add_participant(db, "HA-001", "Anna igen", hrmax_bpm=170)
        with pytest.raises(RegistryError) as bad_year:
            add_participant(db, "HA-002", "Bo", birth_year=1850)
    finally:
        i18n.set_language("en")
    assert str(refused.value) == ("Studiekoden HA-001 er allerede registreret; vælg en anden "
                                  "kode, eller ret den deltager.")
    assert str(bad_year.value) == "Fødselsåret 1850 ligger før 1900; tjek året."


def test_study_codes_are_one_person_whatever_their_case(db, cli):
    ok(cli("participants", "add", "--code", "HIAIM-001", "--name", "Ann", "--hrmax", "170"))
    code, _, err = cli("participants", "add", "--code", "hiaim-001", "--name", "Bo",
                       "--hrmax", "160")
    assert code == 2 and "Study code HIAIM-001 is already registered" in err
    ok(cli("participants", "edit", "hiaim-001", "--name", "Ann B"))
    ok(cli("straps", "add", "AA:00:00:00:00:01"))
    ok(cli("straps", "assign", "AA:00:00:00:00:01", "Hiaim-001"))
    assert [(p.study_code, p.display_name, p.strap_key) for p in list_participants(db)] == [
        ("HIAIM-001", "Ann B", "ble:AA:00:00:00:00:01")]
    ok(cli("participants", "add", "--code", "HIAIM-002", "--name", "Cy", "--hrmax", "170"))
    code, _, err = cli("participants", "edit", "HIAIM-002", "--code", "hiaim-001")
    assert code == 2 and "already registered" in err
    ok(cli("participants", "edit", "HIAIM-002", "--code", "hiaim-002"))  # its own, recased
    assert participant(db, "hiaim-002") is not None
    ok(cli("participants", "remove", "hiaim-002"))
    assert [p.study_code for p in list_participants(db)] == ["HIAIM-001"]


def test_an_archived_participant_leaves_the_roster_and_the_class_but_keeps_sessions(db, cli):
    recorded = record_session(db)
    code = recorded.people[0].study_code
    ok(cli("straps", "add", "AA:00:00:00:00:07"))
    ok(cli("straps", "assign", "AA:00:00:00:00:07", code))
    assert code in [p.study_code for p in assigned_class(db)]

    out = ok(cli("participants", "archive", code.lower()))
    assert out.startswith(f"Archived {code} (") and "1 recorded session(s) stay" in out
    listing = ok(cli("participants", "list"))
    assert code not in listing and "1 archived participant(s) not shown" in listing
    assert f"{code} " in ok(cli("participants", "list", "--all"))
    assert "archived" in ok(cli("participants", "list", "--all"))
    assert code not in [p.study_code for p in list_participants(db, include_archived=False)]
    assert code not in [p.study_code for p in assigned_class(db)]
    assert ok(cli("sessions", "show", str(recorded.stored.session_id))).count(code) == 1
    code_again, _, err = cli("participants", "archive", code)
    assert code_again == 2 and "is archived already" in err
    code_again, _, err = cli("participants", "add", "--code", code, "--name", "X",
                             "--hrmax", "170")
    assert code_again == 2 and f"'participants unarchive {code}' puts them back" in err

    ok(cli("participants", "unarchive", code))
    assert code in [p.study_code for p in assigned_class(db)]
    assert code in ok(cli("participants", "list"))


def test_simulated_participants_and_straps_never_join_a_real_class(db):
    add_participant(db, "HIAIM-001", "Ann", hrmax_bpm=170)
    add_strap(db, "AA:00:00:00:00:01", kind="ble")
    assign_strap(db, "AA:00:00:00:00:01", "HIAIM-001")
    add_participant(db, "SIM-001", "Anne", hrmax_bpm=165, simulated=True)
    add_strap(db, "sim:0001", kind="simulated")
    assign_strap(db, "sim:0001", "SIM-001")
    # A participant registered by hand but wearing a simulated strap stays out too.
    add_participant(db, "HIAIM-002", "Bo", hrmax_bpm=170)
    add_strap(db, "sim:0002", kind="simulated")
    assign_strap(db, "sim:0002", "HIAIM-002")

    assert [p.study_code for p in assigned_class(db)] == ["HIAIM-001"]
    roster = list_participants(db, include_simulated=False, include_archived=False)
    assert [p.study_code for p in roster] == ["HIAIM-001", "HIAIM-002"]
    assert [p.simulated for p in list_participants(db)] == [False, False, True]


def test_sessions_list_and_show_say_which_sessions_were_simulated(db, cli):
    real = record_session(db).stored.session_id
    with db.session() as s, s.begin():
        s.execute(sa.update(SessionRow).where(SessionRow.id == real).values(simulated=True))
    second = record_session(db).stored.session_id
    rows = ok(cli("sessions", "list")).splitlines()
    assert rows[0].split()[-1] == "simulated"
    assert [(r.split()[0], r.split()[-1]) for r in rows[2:]] == [(str(second), "no"),
                                                                 (str(real), "yes")]
    assert "simulated:     yes" in ok(cli("sessions", "show", str(real)))


def test_a_strap_found_by_any_of_its_ids_is_one_strap_with_one_wearer(db):
    from hiaim_monitor.storage import start_session
    from hiaim_monitor.storage.assignments import strap_ids_of
    from hiaim_monitor.storage.strap_registry import add_strap_id, find_strap, list_straps

    add_participant(db, "HIAIM-001", "Ann", hrmax_bpm=170)
    add_strap(db, "AA:00:00:00:00:01", name="H10 #1")
    info = add_strap_id(db, "ble:AA:00:00:00:00:01", "ant:4711")
    assert info.ids == ("ble:AA:00:00:00:00:01", "ant:4711")
    assign_strap(db, "ant:4711", "HIAIM-001")
    for any_id in ("AA:00:00:00:00:01", "ant:4711"):
        found = find_strap(db, any_id)
        assert (found.strap_key, found.name, found.study_code) == (
            "ble:AA:00:00:00:00:01", "H10 #1", "HIAIM-001")
    assert find_strap(db, "ant:4712") is None
    assert [(s.strap_key, s.ids) for s in list_straps(db)] == [
        ("ble:AA:00:00:00:00:01", ("ble:AA:00:00:00:00:01", "ant:4711"))]
    (ann,) = list_participants(db)
    assert (ann.strap_key, ann.strap_ids) == ("ble:AA:00:00:00:00:01",
                                              ("ble:AA:00:00:00:00:01", "ant:4711"))
    # A session whose participant came in by the strap's other id records that one strap.
    (person,) = assigned_class(db)
    start_session(db, load_protocol("hi-aim"), [replace(person, strap_id="ant:4711")],
                  started_utc=START_UTC)
    with db.session() as s:
        assert s.scalars(sa.select(StrapRow.strap_key)).all() == ["ble:AA:00:00:00:00:01"]
    assert strap_ids_of(db, ["ant:4711"]) == {"ant:4711": info.ids}
