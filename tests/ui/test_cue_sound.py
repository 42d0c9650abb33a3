"""Sound cues as the room hears them: the tones themselves (short, loud, unclipped, unlike
the alarm), the toggle in the control window (on with the wall, remembered), and a block
run through the window's heartbeat into a fake platform player, with an alarm winning."""

import dataclasses
import queue

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.alarms import AlarmKind
from hiaim_monitor.hrm import encode_heart_rate_measurement
from hiaim_monitor.protocols import parse_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.session import LiveSession
from hiaim_monitor.sound_cues import Cue
from tests.conftest import people
from ui.alarm_sound import AlarmSound, chime_wav
from ui.control_window import ControlWindow
from ui.cue_sound import CueSound, cue_wav
from ui.sound_player import RATE_HZ, wav_samples

SCREENSHOT = "/tmp/cues-control.png"
# Warm-up 10 s, 3 × (20 s work / 20 s rest), cool-down 10 s: 140 s.
PROTOCOL = parse_protocol("""
name = "Short block"
[[steps]]
name = "Warm-up"
kind = "warm-up"
duration_s = 10
target_min_pct = 50
[[steps]]
block = "Sprints"
repeat = 3
work_s = 20
rest_s = 20
target_min_pct = 85
station = "bike"
[[steps]]
name = "Cool-down"
kind = "cool-down"
duration_s = 10
target_min_pct = 40
""", source="short.toml", key="short")
END_S = 140.0


def pitches_hz(data, window_s=0.05):
    """The strongest frequency of each ``window_s`` slice of a WAV file, rounded to 10 Hz."""
    pcm = wav_samples(data).astype(float)
    n = int(window_s * RATE_HZ)
    out = []
    for i in range(0, pcm.size - n + 1, n):
        spectrum = np.abs(np.fft.rfft(pcm[i:i + n] * np.hanning(n), 8 * n))
        out.append(round(np.argmax(spectrum) * RATE_HZ / (8 * n), -1))
    return out


@pytest.mark.parametrize("cue", list(Cue))
def test_each_cue_is_short_loud_and_does_not_clip(cue):
    pcm = wav_samples(cue_wav(cue))
    assert 0.1 <= pcm.size / RATE_HZ <= 0.5
    peak = np.abs(pcm).max() / 32767
    assert 0.85 <= peak < 1.0  # near full scale, never clipped
    assert abs(int(pcm[0])) < 200 and abs(int(pcm[-1])) < 200  # faded: no click


def test_the_cues_sound_unlike_each_other_and_unlike_the_alarm():
    count, work, rest, alarm = (pitches_hz(w) for w in (
        cue_wav(Cue.COUNT), cue_wav(Cue.WORK), cue_wav(Cue.REST), chime_wav()))
    assert set(count) == {1000}  # one pip
    assert work[0] == 1000 and work[-1] == 1500  # rising: go
    assert set(rest) == {440}  # one low tone
    assert alarm[0] == 880 and alarm[-1] == 660  # the alarm's falling chime, as it was
    assert not {880, 660} & set(count + work + rest)


class FakePlayer:
    """What the platform player would have played, with the session time it was asked."""

    def __init__(self, log, name, now):
        self.log, self.name, self.now = log, name, now

    def __call__(self):
        self.log.append((self.name, round(self.now(), 2)))

    def stop(self):
        self.log.append((f"stop {self.name}", round(self.now(), 2)))


class Gym:
    """One participant on the short block, on a clock the test steps; the cues and the
    alarm go to fake players."""

    def __init__(self, qtbot):
        self.clock = SimulatedClock()
        self.events = queue.SimpleQueue()
        self.session = LiveSession(PROTOCOL, people(180), self.clock, self.events)
        self.heard = []
        self.alarms = []

        def make_player(wav, name):
            assert wav_samples(wav).size > 0
            return FakePlayer(self.heard, name, self.session_s)

        self.window = ControlWindow(
            self.session, cues=CueSound(make_player=make_player),
            sound=AlarmSound(play=lambda: self.alarms.append(self.session_s())))
        qtbot.addWidget(self.window)
        self.window.loop.tick()
        self.window.show()

    def session_s(self):
        return self.clock.monotonic() - self.session.start_mono_s

    def run_to(self, t_s, *, sending=True, seed=3):
        """Beats of the heartbeat every 33–100 ms up to session time ``t_s``; the strap
        sends once a second while ``sending``."""
        rng = np.random.default_rng(seed)
        while self.session_s() < t_s:
            step_s = rng.uniform(1 / 30, 1 / 10)
            before = self.session_s()
            self.clock.advance(step_s)
            if sending and int(self.session_s()) > int(before):
                data = encode_heart_rate_measurement(150, rr_raw=[410])
                self.events.put(sample_from_notification("A", data, self.clock))
            self.window.loop.tick()

    @property
    def toggle(self):
        return self.window.session_panel.cue_toggle


@pytest.fixture
def gym(qtbot):
    return Gym(qtbot)


def expected(changes):
    out = [("cue-rest", 0.0)]
    for t_s, tone in changes:
        out += [("cue-count", t_s - 3), ("cue-count", t_s - 2), ("cue-count", t_s - 1),
                (f"cue-{tone}", t_s)]
    return out


BLOCK_CHANGES = [(10, "work"), (30, "rest"), (50, "work"), (70, "rest"), (90, "work"),
                 (110, "rest"), (130, "rest"), (END_S, "rest")]


def test_the_toggle_sits_with_the_session_controls_and_starts_off_without_a_wall(gym):
    assert gym.toggle.isVisible() and gym.toggle.text() == "Sound cues"
    assert not gym.toggle.isChecked()
    assert gym.toggle.parent() is gym.window.pause_button.parent()
    gym.window.grab().save(SCREENSHOT)


def test_showing_the_wall_turns_the_cues_on_until_the_operator_chooses(gym, qtbot):
    qtbot.keyClick(gym.window, Qt.Key.Key_W)
    assert gym.toggle.isChecked()
    qtbot.keyClick(gym.window, Qt.Key.Key_W)  # hidden: off again, nobody chose
    assert not gym.toggle.isChecked()
    qtbot.keyClick(gym.window, Qt.Key.Key_W)
    qtbot.mouseClick(gym.toggle, Qt.MouseButton.LeftButton)  # the operator: off
    assert not gym.toggle.isChecked()
    gym.window.loop.tick()
    assert not gym.toggle.isChecked()  # the wall is shown, the choice holds
    assert QSettings("hiaim-monitor", "control").value("sound_cues") in (False, "false")


def test_the_choice_is_remembered_when_the_window_opens_again(gym, qtbot):
    qtbot.mouseClick(gym.toggle, Qt.MouseButton.LeftButton)  # on, without a wall
    assert gym.toggle.isChecked()
    gym.window.close()
    again = ControlWindow(gym.session)
    qtbot.addWidget(again)
    assert again.session_panel.cue_toggle.isChecked()
    qtbot.mouseClick(again.session_panel.cue_toggle, Qt.MouseButton.LeftButton)
    again.close()
    third = ControlWindow(gym.session)
    qtbot.addWidget(third)
    third.toggle_wall()  # shown: the operator's "off" still holds
    assert not third.session_panel.cue_toggle.isChecked()


def test_a_block_plays_its_countdowns_and_tones_at_the_right_session_times(gym, qtbot):
    qtbot.keyClick(gym.window, Qt.Key.Key_W)  # the wall is shown: cues on
    gym.run_to(END_S + 5)
    # Everything after the warm-up's start tone (which came with the window, before the
    # wall was shown).
    want = expected(BLOCK_CHANGES)[1:]
    assert [name for name, _ in gym.heard] == [name for name, _ in want]
    for (_, heard_s), (_, due_s) in zip(gym.heard, want, strict=True):
        assert due_s <= heard_s <= due_s + 0.1 + 1e-6  # the first beat after its moment
    assert gym.alarms == []


def test_no_cues_while_the_toggle_is_off(gym):
    gym.run_to(40)
    assert gym.heard == []


def test_an_unacknowledged_alarm_silences_the_cues_until_it_is_acknowledged(gym, qtbot):
    qtbot.mouseClick(gym.toggle, Qt.MouseButton.LeftButton)  # cues on
    gym.run_to(12)
    gym.run_to(45, sending=False)  # the strap goes quiet: signal lost from about 22 s
    assert gym.alarms, "the alarm did not sound"
    lost_s = gym.alarms[0]
    assert [name for name, _ in gym.heard] == ["cue-count"] * 3 + ["cue-work"]  # at 7–10 s
    assert all(t_s < lost_s for _, t_s in gym.heard)  # not one cue under the alarm
    qtbot.mouseClick(gym.window.session_panel.ack_button, Qt.MouseButton.LeftButton)
    gym.run_to(51)
    assert [name for name, t_s in gym.heard if t_s > 45] == [
        "cue-count", "cue-count", "cue-count", "cue-work"]  # the second work bout, at 50 s


def test_an_alarm_raised_while_a_cue_sounds_cuts_the_cue(gym, qtbot):
    qtbot.mouseClick(gym.toggle, Qt.MouseButton.LeftButton)
    gym.run_to(9.9)
    gym.run_to(10.05)  # the work tone (0.4 s) has just started
    assert gym.heard[-1][0] == "cue-work"
    panel = gym.window.session_panel
    # The strap's battery alarm arrives in the very next beat, while the tone still sounds.
    snap = gym.session.tick()
    alarmed = dataclasses.replace(snap.participants[0], alarms=(AlarmKind.BATTERY_LOW,))
    panel.show_snapshot(dataclasses.replace(snap, participants=(alarmed,)))
    assert gym.heard[-1][0] == "stop cue-work"
    assert gym.alarms
