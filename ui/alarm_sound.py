"""The alarm's sound: a short two-tone chime, repeated while an alarm is unacknowledged.

PySide6-Essentials has no QtMultimedia, so the chime is a WAV file played by the platform's
own player (winsound on Windows, afplay on macOS, PipeWire / PulseAudio / ALSA on Linux),
falling back to the system bell. Playing never blocks the window.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np
from PySide6.QtWidgets import QApplication

from hiaim_monitor import config

RATE_HZ: Final = 22050
TONES: Final = ((880.0, 0.18), (660.0, 0.28))  # (pitch Hz, length s): falling, like a monitor
_LINUX_PLAYERS: Final = (("pw-play",), ("paplay",), ("aplay", "-q"))


def chime_wav() -> bytes:
    """The chime as a 16-bit mono WAV file."""
    parts = []
    for pitch_hz, length_s in TONES:
        t = np.arange(int(RATE_HZ * length_s)) / RATE_HZ
        envelope = np.minimum(1.0, np.minimum(t, length_s - t) / 0.01)  # no clicks
        parts.append(0.5 * envelope * np.sin(2 * np.pi * pitch_hz * t))
    pcm = (np.concatenate(parts) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def system_player() -> Callable[[], None]:
    """A function that starts the chime and returns at once."""
    path = Path(tempfile.gettempdir()) / "hiaim-monitor-alarm.wav"
    try:
        path.write_bytes(chime_wav())
    except OSError:
        return QApplication.beep
    if sys.platform == "win32":
        import winsound

        return lambda: winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC)
    commands = [("afplay",)] if sys.platform == "darwin" else list(_LINUX_PLAYERS)
    for command in commands:
        exe = shutil.which(command[0])
        if exe is not None:
            argv = [exe, *command[1:], str(path)]
            return lambda: _spawn(argv)
    return QApplication.beep


def _spawn(argv: list[str]) -> None:
    try:
        subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        QApplication.beep()


class AlarmSound:
    """Sounds at once when an alarm is raised, then every ALARM_REPEAT_EVERY_S until silenced."""

    def __init__(self, play: Callable[[], None] | None = None) -> None:
        self._play = play
        self.plays = 0
        self._last_s: float | None = None

    def update(self, unacknowledged: bool, raised_now: bool, now_s: float) -> None:
        """Called on every redraw with the wall-clock time (real seconds)."""
        if not unacknowledged:
            self._last_s = None
            return
        due = self._last_s is None or now_s - self._last_s >= config.ALARM_REPEAT_EVERY_S
        if raised_now or due:
            self._last_s = now_s
            self.plays += 1
            if self._play is None:
                self._play = system_player()
            self._play()
