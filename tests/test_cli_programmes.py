"""`hiaim-monitor programmes`: create a programme, enrol a participant (their sessions are
planned), record attendance, RPE and adverse events, and `show` prints the calendar with
them and each participant's summary; bad input is refused in one line with exit code 2
and changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import ok


@pytest.fixture
def spring(cli):
    """Programme Spring (2 weeks from Monday 5 January 2026) with HIAIM-001 enrolled."""
    ok(cli("participants", "add", "--code", "HIAIM-001", "--name", "Ann", "--hrmax", "180"))
    assert ok(cli("programmes", "create", "Spring", "--start", "2026-01-05", "--weeks", "2",
                  "--site", "Aarhus")) == (
        "Created programme Spring: 2 weeks from 2026-01-05, 3 sessions a week.\n")
    assert ok(cli("programmes", "enrol", "Spring", "HIAIM-001", "--on", "2026-01-05")) == (
        "Enrolled HIAIM-001 in Spring on 2026-01-05; 6 session(s) planned.\n")
    return cli


def refused(result: tuple[int, str, str], needle: str) -> None:
    code, out, err = result
    assert (code, out) == (2, ""), err
    assert err.startswith("hiaim-monitor: error: ") and err.count("\n") == 1, err
    assert needle in err, err


def rows(out: str) -> list[list[str]]:
    """The first table's rows, split into cells."""
    table = out.split("\n\n")[0]
    return [row.split() for row in table.splitlines()[2:]]


def summary(out: str) -> list[str]:
    """The summary table's one participant row."""
    return out.split("\n\n")[1].splitlines()[2].split()


def test_attendance_rpe_and_adverse_events_show_in_the_calendar_and_summary(spring):
    cli = spring
    assert ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "1",
                  "attended")) == "HIAIM-001, week 1 session 1 (2026-01-05): attended.\n"
    ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "2", "missed",
           "--reason", "illness", "--note", "flu"))
    ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "3", "attended"))
    assert ok(cli("programmes", "rpe", "Spring", "HIAIM-001", "1", "1", "14")) == (
        "HIAIM-001, week 1 session 1: RPE 14.\n")
    ok(cli("programmes", "rpe", "Spring", "HIAIM-001", "1", "3", "17"))
    ok(cli("programmes", "adverse-event", "Spring", "HIAIM-001", "1", "3", "--what",
           "dizzy after the last interval", "--grade", "2", "--related", "possible"))

    assert ok(cli("programmes", "dose-modification", "Spring", "HIAIM-001", "1", "3",
                  "intensity_reduced_health", "--note", "knee")) == (
        "HIAIM-001, week 1 session 3: dose modification intensity_reduced_health.\n")
    assert ok(cli("programmes", "early-termination", "Spring", "HIAIM-001", "1", "3",
                  "--reason", "dizzy")) == "HIAIM-001, week 1 session 3: ended early (dizzy).\n"

    out = ok(cli("programmes", "show", "Spring"))
    assert rows(out) == [
        ["HIAIM-001", "1", "1", "2026-01-05", "attended", "-", "14", "-"],
        ["HIAIM-001", "1", "2", "2026-01-07", "missed", "illness", "-", "-"],
        ["HIAIM-001", "1", "3", "2026-01-09", "attended", "-", "17", "G2"],
        ["HIAIM-001", "2", "1", "2026-01-12", "-", "-", "-", "-"],
        ["HIAIM-001", "2", "2", "2026-01-14", "-", "-", "-", "-"],
        ["HIAIM-001", "2", "3", "2026-01-16", "-", "-", "-", "-"]]
    # code, planned (held so far), attended, missed, attendance %, interruptions, dose
    # modified, ended early, RDI %, mean RPE, AEs by grade
    assert summary(out) == ["HIAIM-001", "3", "2", "1", "66.7", "0", "1", "1", "-", "15.5",
                            "G2:1"]
    assert ok(cli("programmes", "show", "Spring", "--participant", "hiaim-001")) == out

    listing = rows(ok(cli("programmes", "list")))
    assert listing == [["Spring", "Aarhus", "2026-01-05", "2", "3", "1", "no"]]


def test_a_withdrawal_is_recorded_and_the_sessions_after_it_count_as_missed(spring):
    cli = spring
    assert ok(cli("programmes", "withdraw", "Spring", "HIAIM-001", "--on", "2026-01-08",
                  "--reason", "moved away")) == (
        "Withdrew HIAIM-001 from Spring on 2026-01-08; their records stay.\n")
    out = ok(cli("programmes", "show", "Spring"))
    assert [r[4] for r in rows(out)] == ["-", "-", "missed", "missed", "missed", "missed"]
    assert summary(out)[1:4] == ["4", "0", "4"]  # planned (held so far), attended, missed
    refused(cli("programmes", "withdraw", "Spring", "HIAIM-001", "--on", "2026-01-09",
                "--reason", " "), "The reason for the withdrawal is empty; give one.")


def test_an_empty_registry_says_what_to_do(cli):
    assert "create one with `programmes create NAME --start DATE`" in ok(
        cli("programmes", "list"))
    ok(cli("programmes", "create", "Spring", "--start", "2026-01-05"))
    assert "No one is enrolled in Spring yet" in ok(cli("programmes", "show", "Spring"))


BAD_INPUT = [
    (("programmes", "create", "Autumn", "--start", "2026-13-01"),
     "argument --start: '2026-13-01' is not a date; give it as YYYY-MM-DD."),
    (("programmes", "create", "Spring", "--start", "2026-02-02"),
     "Programme Spring already exists"),
    (("programmes", "create", "Autumn", "--start", "2026-02-02", "--weeks", "six"),
     "argument --weeks: invalid int value: 'six'"),
    (("programmes", "enrol", "Spring", "HIAIM-001"), "already enrolled in programme Spring"),
    (("programmes", "enrol", "Spring", "HIAIM-404"), "HIAIM-404"),
    (("programmes", "enrol", "Winter", "HIAIM-001"), "There is no programme 'Winter'"),
    (("programmes", "attendance", "Spring", "HIAIM-001", "1", "1", "gone"),
     "argument attendance: invalid choice: 'gone'"),
    (("programmes", "attendance", "Spring", "HIAIM-001", "1", "1", "attended",
      "--reason", "illness"), "give a reason only for a missed session"),
    (("programmes", "attendance", "Spring", "HIAIM-001", "1", "x", "attended"),
     "argument NUMBER: invalid int value: 'x'"),
    (("programmes", "attendance", "Spring", "HIAIM-001", "1", "2", "missed", "--reason",
      "bored"), "argument --reason: invalid choice: 'bored'"),
    (("programmes", "rpe", "Spring", "HIAIM-001", "1", "1", "25"),
     "Borg RPE is a whole number from 6 to 20; 25 is not."),
    (("programmes", "rpe", "Spring", "HIAIM-001", "1", "1", "12.5"),
     "argument BORG: invalid int value: '12.5'"),
    (("programmes", "rpe", "Spring", "HIAIM-001", "1", "2", "12"), "marked missed"),
    (("programmes", "adverse-event", "Spring", "HIAIM-001", "1", "1", "--what", "fell",
      "--grade", "7", "--related", "no"), "An adverse event's grade is 1 to 5; 7 is not."),
    (("programmes", "adverse-event", "Spring", "HIAIM-001", "1", "1", "--what", "fell",
      "--grade", "2", "--related", "maybe"), "argument --related: invalid choice: 'maybe'"),
    (("programmes", "adverse-event", "Spring", "HIAIM-001", "1", "1", "--what", " ",
      "--grade", "2", "--related", "no"), "The adverse event has no description"),
    (("programmes", "withdraw", "Spring", "HIAIM-001", "--on", "2025-12-31", "--reason",
      "moved"), "is before HIAIM-001 was enrolled"),
    (("programmes", "show", "Spring", "--participant", "HIAIM-404"), "HIAIM-404"),
    (("programmes", "dose-modification", "Spring", "HIAIM-001", "1", "1", "halved"),
     "argument modification: invalid choice: 'halved'"),
    (("programmes", "early-termination", "Spring", "HIAIM-001", "1", "1", "--reason", ""),
     "The reason for the early termination is empty; give one."),
    (("programmes", "early-termination", "Spring", "HIAIM-001", "9", "1", "--reason", "x"),
     "Week 9 session 1 is outside programme Spring, which has 2 weeks of 3 sessions."),
]


@pytest.mark.parametrize(("argv", "needle"), BAD_INPUT, ids=[" ".join(a[1:3]) + f" {i}"
                                                              for i, (a, _) in
                                                              enumerate(BAD_INPUT)])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(spring, argv, needle):
    cli = spring
    ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "1", "attended"))
    ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "2", "missed"))
    before = (ok(cli("programmes", "show", "Spring")), ok(cli("programmes", "list")))
    refused(cli(*argv), needle)
    assert (ok(cli("programmes", "show", "Spring")), ok(cli("programmes", "list"))) == before


def test_records_are_listed_with_ids_corrected_and_deleted(spring):
    cli = spring
    ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "1", "attended"))
    ok(cli("programmes", "rpe", "Spring", "HIAIM-001", "1", "1", "14", "--after-phase", "3"))
    ok(cli("programmes", "adverse-event", "Spring", "HIAIM-001", "1", "1", "--what",
           "dizzy", "--grade", "2", "--related", "possible"))
    ok(cli("programmes", "dose-modification", "Spring", "HIAIM-001", "1", "1",
           "duration_reduced_other"))
    listed = {r[0]: r for r in rows(ok(cli("programmes", "records", "Spring")))}
    assert listed["rpe"][2:6] == ["HIAIM-001", "1", "1", "14"]
    assert "after phase 3" in " ".join(listed["rpe"])
    rpe_id, event_id = listed["rpe"][1], listed["adverse-event"][1]

    assert ok(cli("programmes", "edit", "rpe", rpe_id, "--borg", "16", "--at-end")) == (
        f"RPE record {rpe_id} (HIAIM-001, week 1 session 1): RPE 16.\n")
    ok(cli("programmes", "edit", "adverse-event", event_id, "--grade", "3", "--action",
           "rested, blood pressure checked"))
    listed = {r[0]: " ".join(r) for r in rows(ok(cli("programmes", "records", "Spring")))}
    assert "16 (at the end)" in listed["rpe"]
    assert "grade 3, related: possible; dizzy; rested, blood pressure checked" in (
        listed["adverse-event"])
    assert "G3" in ok(cli("programmes", "show", "Spring"))

    assert ok(cli("programmes", "delete", "adverse-event", event_id)) == (
        f"Deleted adverse-event record {event_id}.\n")
    kinds = [r[0] for r in rows(ok(cli("programmes", "records", "Spring",
                                       "--participant", "HIAIM-001")))]
    assert kinds == ["dose-modification", "rpe"]


@pytest.mark.parametrize(("argv", "needle"), [
    (("programmes", "edit", "rpe", "1"), "Nothing to change; give at least one of --borg"),
    (("programmes", "edit", "rpe", "1", "--borg", "30"), "6 to 20; 30 is not"),
    (("programmes", "edit", "rpe", "99", "--borg", "12"),
     "There is no RPE rating with id 99; `programmes records NAME` lists the ids."),
    (("programmes", "edit", "adverse-event", "1", "--grade", "0"), "grade is 1 to 5; 0"),
    (("programmes", "edit", "rpe", "1", "--at-end", "--after-phase", "2"),
     "not allowed with argument"),
    (("programmes", "delete", "rpe", "99"), "There is no rpe with id 99"),
    (("programmes", "delete", "note", "1"), "argument kind: invalid choice: 'note'"),
    (("programmes", "records", "Spring", "--participant", "HIAIM-404"), "HIAIM-404"),
])
def test_editing_refuses_bad_input_in_one_line_and_changes_nothing(spring, argv, needle):
    cli = spring
    ok(cli("programmes", "attendance", "Spring", "HIAIM-001", "1", "1", "attended"))
    ok(cli("programmes", "rpe", "Spring", "HIAIM-001", "1", "1", "14"))
    ok(cli("programmes", "adverse-event", "Spring", "HIAIM-001", "1", "1", "--what", "fell",
           "--grade", "2", "--related", "no"))
    before = ok(cli("programmes", "records", "Spring"))
    refused(cli(*argv), needle)
    assert ok(cli("programmes", "records", "Spring")) == before
