"""A simulated HI AIM session on the headless path (`--simulate N --headless`, the simulated
clock 100 times faster than real time): its 15 × 20/20 s sprint block is one interval judged
as a whole, in the terminal's end-of-session summary, in --summary-json and in the store."""

import json

from simulators.physiology import Response
from simulators.roster import make_virtual_class
from tests.test_cli import data_home, run_cli  # noqa: F401  (data_home: an autouse fixture)


def test_a_simulated_hi_aim_session_judges_its_sprint_block_as_a_whole(tmp_path):
    out = tmp_path / "s.json"
    db = f"sqlite:///{tmp_path / 'sim.sqlite3'}"
    result = run_cli("--simulate", "4", "--headless", "--protocol", "hi-aim", "--speed",
                     "100", "--faults", "none", "--seed", "2", "--db", db,
                     "--summary-json", str(out))
    assert result.returncode == 0, result.stderr
    virtual = {v.display_name: v for v in make_virtual_class(4, 2)}
    people = json.loads(out.read_text())["participants"]
    assert len(people) == 4
    for p in people:
        v = virtual[p["display_name"]]
        # Four step-ups and the block: five intervals, the block's 15 bouts counted once.
        assert (p["intervals_prescribed"], p["intervals_judged"]) == (5, 5)
        (sprints,) = [a for a in p["adherence"] if a.get("block_index") is not None]
        assert sprints["phase_name"] == "Sprints 15 × 20/20 s"
        assert len(sprints["bout_peaks_pct"]) == 15 and sprints["ran_s"] == 600
        assert sprints["peak_pct"] == max(sprints["bout_peaks_pct"])
        # One who pushes reaches 85 % over the block; one who struggles does not.
        assert sprints["achieved"] is (v.response is not Response.STRUGGLES), v
        if v.response is Response.STRUGGLES:
            assert sprints["seconds_in_target"] == 0 and sprints["peak_pct"] < 85
        else:
            assert sprints["seconds_in_target"] > 30 and sprints["time_to_target_s"] < 300
            # Heart rate lags the effort: it climbs over the first bouts, then levels off.
            assert sprints["bout_peaks_pct"][0] < max(sprints["bout_peaks_pct"][3:])
    assert {v.response for v in virtual.values()} >= {Response.STRUGGLES, Response.NORMAL}

    # The terminal's end of session: the block is one line with its repeats.
    lines = result.stdout.splitlines()
    for p in people:
        (sprints,) = [a for a in p["adherence"] if a.get("block_index") is not None]
        at = lines.index(f"{p['display_name']}: {p['intervals_achieved']} of 5 achieved")
        assert lines[at + 1].startswith("  Sprints 15 × 20/20 s: peak ")
        assert lines[at + 1].endswith(" at or above 85 %, achieved" if sprints["achieved"]
                                      else " at or above 85 %, not achieved")
        assert lines[at + 2].startswith("    bout peaks: ")

    # The store has the same: one row for the block per participant.
    shown = run_cli("sessions", "show", "1", "--db", db)
    assert shown.returncode == 0, shown.stderr
    block_lines = [line for line in shown.stdout.splitlines() if ": Sprints 15 × 20/20 s:" in line]
    assert len(block_lines) == 4
    assert all("bout peaks: " in line for line in block_lines)
