"""The sound cues of the HI AIM block, recorded: the app's own path from the heartbeat to the
player, with a recording sink in place of the platform player.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/cue_sound.py [--out FILE] [--seed N]

The hi-aim preset's 15 × (20 s near-maximal / 20 s pause) block runs on a simulated clock
in a control window with the wall screen shown (so the cues are on by default, as in
class). The heartbeat beats at 10–30 Hz, and LATE_SHARE of its beats come up to LATE_S
late, as on a busy laptop. Every cue the window asks its player to play is mixed into one
WAV file of the block's timeline at the session time it was asked (file time 0 is session
time START_S, a few seconds before the block), with the same WAV bytes the platform
player would have been given; each cue's own WAV is written beside it.

Printed: the cues played per kind; how late each was asked for (beat time − its moment,
median and max); the onsets found in the recording against the moments the protocol
gives (3-2-1 and a tone at every change); each cue's length, peak and RMS level; the files
written. Measure the files with sox:

    sox /tmp/hiaim-cues-block.wav -n stat
    sox /tmp/hiaim-cue-count.wav -n stat -freq 2>&1 | tail   (and -work, -rest)
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.session import LiveSession
from hiaim_monitor.sound_cues import COUNTDOWN_S, Cue, tone_of
from ui.alarm_sound import AlarmSound
from ui.control_window import ControlWindow
from ui.cue_sound import CueSound, cue_wav
from ui.sound_player import RATE_HZ, Player, wav_bytes, wav_samples

LEAD_S = 6.0  # recorded before the block's first change and after its last
LATE_SHARE = 0.02  # of the beats, that come late
LATE_S = 0.3  # at most, on top of the beat's own gap
ONSET_LEVEL = 0.05  # of full scale: where a 5 ms frame counts as sounding
ONSET_GAP_S = 0.2  # of silence before a sound for it to count as a new onset


class Recording:
    """A sink in place of the platform player: each play mixes the sound into one long
    buffer at the session time it was asked."""

    def __init__(self, start_s: float, length_s: float, now_s: Callable[[], float]) -> None:
        self.start_s = start_s
        self.mix = np.zeros(int(length_s * RATE_HZ), dtype=np.float64)
        self.now_s = now_s
        self.plays: list[tuple[str, float]] = []  # (name, session s)

    def player(self, wav: bytes, name: str) -> Player:
        samples = wav_samples(wav).astype(np.float64) / 32767
        recording = self

        class Sink:
            def __call__(self) -> None:
                t_s = recording.now_s()
                recording.plays.append((name, t_s))
                at = round((t_s - recording.start_s) * RATE_HZ)
                if 0 <= at < recording.mix.size:
                    part = samples[:recording.mix.size - at]
                    recording.mix[at:at + part.size] += part

            def stop(self) -> None:
                pass

        return Sink()

    def wav(self) -> bytes:
        return wav_bytes(np.round(np.clip(self.mix, -1, 1) * 32767).astype("<i2"))


def onsets_s(mix: np.ndarray) -> np.ndarray:
    """File times where a sound starts after ONSET_GAP_S of silence."""
    n = int(0.005 * RATE_HZ)
    frames = mix[:mix.size // n * n].reshape(-1, n)
    loud = np.sqrt((frames ** 2).mean(axis=1)) > ONSET_LEVEL
    out, quiet = [], ONSET_GAP_S / 0.005
    for i, on in enumerate(loud):
        if on and quiet >= ONSET_GAP_S / 0.005:
            out.append(i * n / RATE_HZ)
        quiet = 0 if on else quiet + 1
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/hiaim-cues-block.wav"))
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    protocol = load_protocol("hi-aim")
    (block,) = protocol.blocks
    starts = np.concatenate([[0.0], np.cumsum([p.duration_s for p in protocol.phases])])
    first_s, end_s = float(starts[block.first_phase]), float(starts[block.last_phase + 1])
    start_s, stop_s = first_s - LEAD_S, end_s + LEAD_S
    # Each change the block's timeline holds (its first work through the cool-down's
    # start) with its tone, and every cue that the protocol puts on the recording.
    changes = [(float(starts[i]), tone_of(protocol.phases[i]))
               for i in range(block.first_phase, block.last_phase + 2)]
    moments = sorted([(t - s, Cue.COUNT) for t, _ in changes for s in COUNTDOWN_S]
                     + [(t, tone) for t, tone in changes])

    clock = SimulatedClock()
    # The session began so long ago that the first beat comes a second before START_S.
    session = LiveSession(protocol, [], clock, queue.SimpleQueue(),
                          start_mono_s=clock.monotonic() - (start_s - 1.0))

    def session_s() -> float:
        return clock.monotonic() - session.start_mono_s

    recording = Recording(start_s, stop_s - start_s, session_s)
    alarms: list[float] = []
    window = ControlWindow(session, cues=CueSound(make_player=recording.player),
                           sound=AlarmSound(play=lambda: alarms.append(session_s())))
    window.toggle_wall()  # the wall is shown: the cues are on by default
    assert window.session_panel.cue_toggle.isChecked()
    rng = np.random.default_rng(args.seed)
    beats = 0
    while session_s() < stop_s:
        gap_s = rng.uniform(1 / 30, 1 / 10) + (LATE_S * rng.random()
                                               if rng.random() < LATE_SHARE else 0.0)
        clock.advance(gap_s)
        window.loop.tick()
        beats += 1
        app.processEvents()
    session.stop()  # the cool-down is not recorded: closing asks nobody about a running class
    window.loop.tick()
    window.close()

    args.out.write_bytes(recording.wav())
    for cue in Cue:
        Path(args.out.parent, f"hiaim-cue-{cue}.wav").write_bytes(cue_wav(cue))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(f"hi-aim block: {block.repeat} × ({block.work_s:g} s / {block.rest_s:g} s), "
          f"session {first_s:g}–{end_s:g} s; recorded {start_s:g}–{stop_s:g} s; "
          f"{beats} beats (10–30 Hz, {LATE_SHARE:.0%} up to {LATE_S:g} s late); "
          f"alarms {len(alarms)}")
    played = [name for name, _ in recording.plays]
    print("played: " + ", ".join(f"{played.count(f'cue-{c}')} {c}" for c in Cue)
          + f" (the protocol puts {len(moments)} on this timeline: "
          + ", ".join(f"{sum(1 for _, m in moments if m is c)} {c}" for c in Cue) + ")")
    asked = np.array([t for _, t in recording.plays])
    want = np.array([t for t, _ in moments])
    in_order = played == [f"cue-{cue}" for _, cue in moments]
    print(f"in the protocol's order: {'yes' if in_order else 'NO'}")
    if in_order:
        late = asked - want
        print(f"asked after its moment: median {np.median(late) * 1000:.0f} ms, "
              f"max {late.max() * 1000:.0f} ms, min {late.min() * 1000:.0f} ms")
    found = onsets_s(recording.mix) + start_s
    if found.size == want.size:
        err = found - want
        print(f"onsets in the recording: {found.size}, each {err.min() * 1000:.0f} to "
              f"{err.max() * 1000:.0f} ms after its moment")
    else:
        print(f"onsets in the recording: {found.size}, expected {want.size}")
    for cue in Cue:
        pcm = wav_samples(cue_wav(cue)).astype(np.float64) / 32767
        print(f"{cue:>5}: {pcm.size / RATE_HZ:.2f} s, peak {20 * np.log10(np.abs(pcm).max()):.1f}"
              f" dBFS, RMS {20 * np.log10(np.sqrt((pcm ** 2).mean())):.1f} dBFS")
    print(f"wrote {args.out} ({len(recording.mix) / RATE_HZ:.1f} s) and "
          f"{args.out.parent}/hiaim-cue-{{count,work,rest}}.wav")


if __name__ == "__main__":
    main()
