"""The whole control window as the physiotherapist uses it, with simulated straps on a
sensor thread, the simulated clock running fast, and a real SQLite store: pair straps,
start, steer the phases, handle an alarm, stop, and find it all in the database."""

import queue
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt, QTimer

from drivers.sensor_thread import SensorThread
from hiaim_monitor.class_setup import ClassSetup
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.session_cue import SessionCue
from hiaim_monitor.storage import open_database
from hiaim_monitor.storage.registry import add_participant, list_participants
from hiaim_monitor.storage.schema import EventRow, SampleRow, SessionParticipantRow, SessionRow
from simulators.faults import FaultConfig
from simulators.hub import SimulatedStrapHub
from simulators.roster import make_virtual_class
from ui.alarm_sound import AlarmSound
from ui.bridge import SensorBridge
from ui.control_window import ControlWindow, Wiring
from ui.session_panel import COLUMNS

SPEED = 20.0  # simulated seconds per real second


class App:
    """The composition the CLI does for ``hiaim-monitor --simulate N``, with the
    participants registered but no straps assigned yet."""

    def __init__(self, tmp_path, n, *, assign=False, storage_notice=""):
        self.db = open_database(f"sqlite:///{tmp_path}/class.db")
        self.clock = SimulatedClock(start_utc=datetime.now(UTC), speed=SPEED)
        self.cue = SessionCue()
        self.events = queue.SimpleQueue()
        self.virtual = make_virtual_class(n, seed=5)
        for v in self.virtual:
            add_participant(self.db, v.study_code, v.display_name, hrmax_bpm=v.hrmax_bpm)
        self.hub = SimulatedStrapHub(self.virtual, self.clock, cue=self.cue,
                                     faults=FaultConfig(), seed=5)
        self.sensors = SensorThread()
        self.sensors.start()
        self.sensors.start_source(self.hub, self.events.put)
        self.setup = ClassSetup(list_participants(self.db), load_protocol("norwegian-4x4"),
                                today=self.clock.now_utc().date(),
                                started_mono_s=self.clock.monotonic())
        for entry in self.setup.entries:
            self.setup.set_attending(entry.study_code, True)
        if assign:
            for v, strap_id in self.hub.assignments.items():
                self.setup.assign(strap_id, v)
        self.plays = []
        bridge = SensorBridge(self.sensors.loop, self.hub, self.events, self.clock)
        self.window = ControlWindow(
            wiring=Wiring(self.setup, self.db, bridge, self.clock, self.start,
                          storage_notice),
            sound=AlarmSound(play=lambda: self.plays.append(time.monotonic())))
        self.timer = QTimer()
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.window.loop.tick)

    def start(self, plan):
        return RecordedSession.start(self.db, plan.protocol, plan.participants, self.clock,
                                     self.events, cue=self.cue, remember_straps=True)

    def close(self):
        self.timer.stop()
        self.window.close()
        self.sensors.stop()
        self.db.close()


@pytest.fixture
def make_app(tmp_path, qtbot):
    apps = []

    def make(n, **kwargs):
        app = App(tmp_path, n, **kwargs)
        qtbot.addWidget(app.window)
        with qtbot.waitExposed(app.window):
            app.window.show()
        app.timer.start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def session_rows(window):
    table = window.table
    return {table.item(r, 0).text(): dict(zip(COLUMNS, table.cell_texts(r), strict=True))
            for r in range(table.rowCount())}


def test_operator_pairs_starts_steers_acknowledges_and_stops_a_class(make_app, qtbot):
    app = make_app(3)
    window, page = app.window, app.window.setup_page
    assert not page.start_button.isEnabled()  # nobody has a strap yet

    # Pair: the straps are heard nearby; each one goes to a participant by button.
    qtbot.waitUntil(lambda: page.pairing.table.rowCount() == 3, timeout=10_000)
    for v, strap_id in app.hub.assignments.items():
        page.roster.select(v)
        page.pairing.table.selectRow(page.pairing.table.row_of(strap_id))
        qtbot.mouseClick(page.pairing.assign_button, Qt.MouseButton.LeftButton)
    assert [e.strap_id for e in app.setup.entries] == list(app.hub.assignments.values())
    # Assigned straps connect: their live heart rate shows in the pairing table.
    def all_beating():
        table = page.pairing.table
        return all(table.cell_texts(r)["bpm"].isdigit() for r in range(table.rowCount()))
    qtbot.waitUntil(all_beating, timeout=10_000)
    assert page.start_button.isEnabled()

    # Start: the session page shows every participant streaming.
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert window.in_session and window.recorded is not None
    names = [v.display_name for v in app.virtual]
    qtbot.waitUntil(lambda: set(session_rows(window)) == set(names)
                    and all(r["Signal"] == "live" for r in session_rows(window).values()),
                    timeout=10_000)
    assert window.header.phase.text().startswith("Warm-up")

    # Steer: N skips the warm-up; the hearts follow into the high interval.
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert window.header.phase.text() == "Interval 1/4 (high)"
    qtbot.waitUntil(lambda: any(r["Class"] == "high"
                                for r in session_rows(window).values()), timeout=20_000)

    # An alarm: one strap is taken off; signal lost is raised, sounds, and is acknowledged.
    lost_strap = app.setup.entries[0].strap_id
    lost_name = app.setup.entries[0].info.display_name
    app.sensors.call(app.hub.unwatch(lost_strap))
    qtbot.waitUntil(lambda: f"{lost_name}: signal lost" in window.banner.text(),
                    timeout=20_000)
    assert session_rows(window)[lost_name]["bpm"] == "—"
    assert window.session_panel.ack_button.isVisible()
    assert app.plays, "the alarm made no sound"
    qtbot.mouseClick(window.session_panel.ack_button, Qt.MouseButton.LeftButton)
    assert not window.session_panel.ack_button.isVisible()
    assert not window.session_panel.alarms.unacknowledged
    assert f"{lost_name}: signal lost" in window.banner.text()  # still on, only silenced

    # Notes, then stop with confirmation.
    window.session_panel.notes.session_note.setPlainText("Good energy today.")
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    assert window.header.phase.text() == "Session finished"
    assert window.recorded.finished is not None
    # The window waits only briefly for the writer; when it is done, it says so.
    qtbot.waitUntil(lambda: "is stored" in window.statusBar().currentMessage(),
                    timeout=15_000)

    # The database has the session, its samples, the operator's actions, the alarm and
    # its acknowledgement, the note, and today's straps remembered for next time.
    with app.db.session() as s:
        row = s.get(SessionRow, window.recorded.session_id)
        assert str(row.status) == "finished" and row.notes == "Good energy today."
        assert row.protocol_key == "norwegian-4x4"
        people = s.scalar(sa.select(sa.func.count()).select_from(SessionParticipantRow)
                          .where(SessionParticipantRow.session_id == row.id))
        assert people == 3
        samples = s.scalar(sa.select(sa.func.count()).select_from(SampleRow))
        assert samples > 3 * 30
        kinds = [str(k) for k in s.scalars(sa.select(EventRow.kind)
                                           .where(EventRow.session_id == row.id))]
        details = [d for d in s.scalars(sa.select(EventRow.detail))]
    assert "alarm-raised" in kinds and "alarm-acknowledged" in kinds
    assert {"action": "skip"}.items() <= next(d for d in details if d.get("action")).items()
    remembered = {p.study_code: p.strap_key for p in list_participants(app.db)}
    assert remembered == app.hub.assignments

    # A note written after Stop is stored too.
    window.session_panel.notes.session_note.setPlainText("Good energy today. Jan was dizzy.")
    window.session_panel.notes.save()  # what the notes' quiet-time timer does
    assert window.statusBar().currentMessage() == "Notes saved."
    with app.db.session() as s:
        assert s.get(SessionRow, row.id).notes == "Good energy today. Jan was dizzy."

    # The next class: back to the setup page with everyone still paired, and start again.
    first_id = window.recorded.session_id
    assert window.session_panel.new_button.isVisible()
    qtbot.mouseClick(window.session_panel.new_button, Qt.MouseButton.LeftButton)
    assert not window.in_session
    qtbot.waitUntil(page.start_button.isEnabled, timeout=10_000)
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert window.in_session and window.recorded.session_id == first_id + 1
    assert window.header.phase.text().startswith("Warm-up")
    assert window.session_panel.notes.notes() == ("", {})  # last session's notes stay there


def test_start_is_refused_with_the_reason_while_someone_has_no_strap(make_app):
    app = make_app(2)
    page = app.window.setup_page
    strap = next(iter(app.hub.assignments.values()))
    app.setup.assign(strap, app.virtual[0].study_code)
    app.window.loop.tick()
    assert not page.start_button.isEnabled()
    assert any(f"{app.virtual[1].display_name} has no strap" in page.problems.item(i).text()
               for i in range(page.problems.count()))
    app.window.start_session()
    assert not app.window.in_session
    assert not app.window.storage_notice.isVisible()  # the central database is fine


def test_window_keeps_turning_while_sixteen_straps_stream(make_app, qtbot):
    app = make_app(16, assign=True)
    window = app.window
    qtbot.waitUntil(lambda: app.window.setup_page.start_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(window.setup_page.start_button, Qt.MouseButton.LeftButton)
    gaps = []
    last = [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    pulse = QTimer()
    pulse.setInterval(20)
    pulse.timeout.connect(beat)
    pulse.start()
    qtbot.wait(3000)  # 60 simulated seconds of 16 straps
    pulse.stop()
    rows = session_rows(window)
    assert len(rows) == 16
    assert sum(r["Signal"] == "live" for r in rows.values()) >= 15
    # The event loop kept turning: a 20 ms timer fired steadily, never stalled for long.
    assert len(gaps) > 50
    assert max(gaps) < 1.0, f"the window froze for {max(gaps):.2f} s"


def test_recording_locally_instead_of_the_central_database_stays_in_view(make_app):
    app = make_app(1, storage_notice="Cannot reach trial-db. Recording on this computer.")
    label = app.window.storage_notice
    assert label.isVisible() and "Recording on this computer" in label.text()
