"""A simulated HI AIM class run from the control window: the operator skips to the sprint
block, the block of 15 × 20/20 s runs, and the window and the database judge it as one
interval, as a whole (its peak, time at or above target, every bout's peak), never bout by
bout."""

import sqlalchemy as sa
from PySide6.QtCore import Qt

from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage.schema import ParticipantRow, PhaseAdherenceRow, SessionParticipantRow
from simulators.physiology import Response
from tests.ui import test_control_app
from tests.ui.test_control_app import make_app, session_rows  # noqa: F401  (its fixture)


def test_a_simulated_hi_aim_class_judges_its_sprint_block_as_a_whole(request, qtbot,
                                                                     monkeypatch):
    # 60 simulated seconds a second: the 10-minute block runs in 10 s.
    monkeypatch.setattr(test_control_app, "SPEED", 60.0)
    app = request.getfixturevalue("make_app")(3, assign=True)
    protocol = load_protocol("hi-aim")
    (block,) = protocol.blocks
    app.setup.set_protocol(protocol)
    window = app.window
    qtbot.waitUntil(window.setup_page.start_button.isEnabled, timeout=10_000)
    qtbot.mouseClick(window.setup_page.start_button, Qt.MouseButton.LeftButton)
    assert window.recorded.session.protocol.key == "hi-aim"

    # Skip the warm-up and the step-ups (cut short at once: measured, not judged).
    # During a block the header names the block (its bout is in the badge beside it).
    for _ in range(block.first_phase):
        if window.header.phase.text().split(" (")[0] == block.display_name:
            break
        qtbot.keyClick(window, Qt.Key.Key_N)
    assert window.header.phase.text().split(" (")[0] == block.display_name
    assert window.header.bout.text() == f"GO 1/{block.repeat}"
    # The block runs its 15 bouts; nothing is judged until it has ended.
    assert all(r["Intervals"] == "" for r in session_rows(window).values())
    qtbot.waitUntil(lambda: window.header.phase.text().startswith("Cool-down"),
                    timeout=60_000)
    qtbot.waitUntil(lambda: all(r["Intervals"].endswith("/1")
                                for r in session_rows(window).values()), timeout=10_000)
    shown = {name: r["Intervals"] for name, r in session_rows(window).items()}
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is stored" in window.statusBar().currentMessage(),
                    timeout=15_000)

    with app.db.session() as s:
        results = s.execute(
            sa.select(ParticipantRow.study_code, PhaseAdherenceRow)
            .join(SessionParticipantRow,
                  SessionParticipantRow.id == PhaseAdherenceRow.session_participant_id)
            .join(ParticipantRow, ParticipantRow.id == SessionParticipantRow.participant_id)
            .where(SessionParticipantRow.session_id == window.recorded.session_id)).all()
    sprints = {code: a for code, a in results if a.block_index is not None}
    # One result per participant for the whole block, stored under its first phase; no bout
    # of it has a result of its own.
    assert set(sprints) == {v.study_code for v in app.virtual}
    assert not [a for _code, a in results
                if a.phase_index in block.phase_indices and a.block_index is None]
    for v in app.virtual:
        a = sprints[v.study_code]
        assert (a.phase_index, a.phase_name) == (block.first_phase, "Sprints 15 × 20/20 s")
        assert a.judged and a.ran_s > 590 and len(a.bout_peaks_pct) == 15
        assert a.peak_pct == max(p for p in a.bout_peaks_pct if p is not None)
        # A participant who pushes reaches 85 % over the block; one who struggles does not.
        assert a.achieved == (v.response is not Response.STRUGGLES), v
        assert shown[v.display_name] == ("1/1" if a.achieved else "0/1")
        # Skipped at once, the step-ups were measured but not judged.
        others = [r for code, r in results if code == v.study_code and r.block_index is None]
        assert others and not any(r.judged for r in others)
