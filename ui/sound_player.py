"""The app's short sounds (the alarm's chime, the sound cues): tones made as WAV files and
played by the platform's own player.

PySide6-Essentials has no QtMultimedia, so a sound is a WAV file in the temp folder played
by winsound on Windows, afplay on macOS, PipeWire / PulseAudio / ALSA on Linux (the first
found), falling back to the system bell. Playing never blocks the window.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, Protocol

import numpy as np
from PySide6.QtWidgets import QApplication

RATE_HZ: Final = 22050
PEAK: Final = 0.89  # of full scale (-1 dBFS): loud, with room so no player clips it
FADE_S: Final = 0.01  # in and out of every tone: no clicks
_LINUX_PLAYERS: Final = (("pw-play",), ("paplay",), ("aplay", "-q"))

Tone = tuple[float, float]  # (pitch Hz, length s)


class Player(Protocol):
    """One sound, ready to play."""

    def __call__(self) -> None:
        """Start it and return at once."""

    def stop(self) -> None:
        """Cut it short if it still sounds."""


PlayerFactory = Callable[[bytes, str], Player]  # (WAV file, a name for it) → its player


def tones_wav(tones: Sequence[Tone], peak: float = PEAK) -> bytes:
    """Sine tones one after the other, each faded in and out, as a 16-bit mono WAV file."""
    parts = []
    for pitch_hz, length_s in tones:
        t = np.arange(int(RATE_HZ * length_s)) / RATE_HZ
        envelope = np.minimum(1.0, np.minimum(t, length_s - t) / FADE_S)
        parts.append(peak * envelope * np.sin(2 * np.pi * pitch_hz * t))
    pcm = np.round(np.concatenate(parts) * 32767).astype("<i2")
    return wav_bytes(pcm)


def wav_bytes(pcm: np.ndarray) -> bytes:
    """16-bit mono samples at RATE_HZ as a WAV file."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
    return buf.getvalue()


def wav_samples(data: bytes) -> np.ndarray:
    """The 16-bit mono samples of a WAV file made by ``wav_bytes``."""
    with wave.open(io.BytesIO(data)) as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE_HZ):
            raise ValueError("not a 16-bit mono WAV file at the app's rate")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def platform_player(wav: bytes, name: str) -> Player:
    """``wav`` as a file ``hiaim-monitor-<name>.wav`` in the temp folder, and the platform's
    player for it (the system bell when there is none, or the file cannot be written)."""
    path = Path(tempfile.gettempdir()) / f"hiaim-monitor-{name}.wav"
    try:
        path.write_bytes(wav)
    except OSError:
        return _Bell()
    if sys.platform == "win32":
        return _WinSound(path)
    commands = [("afplay",)] if sys.platform == "darwin" else list(_LINUX_PLAYERS)
    for command in commands:
        exe = shutil.which(command[0])
        if exe is not None:
            return _Command([exe, *command[1:], str(path)])
    return _Bell()


class _Command:
    """A player program run once per play (afplay, pw-play, paplay, aplay)."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self._process: subprocess.Popen[bytes] | None = None

    def __call__(self) -> None:
        try:
            self._process = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL)
        except OSError:
            QApplication.beep()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()


class _WinSound:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> None:
        import winsound

        winsound.PlaySound(str(self.path), winsound.SND_FILENAME | winsound.SND_ASYNC)

    def stop(self) -> None:
        import winsound

        # winsound plays one sound at a time: this stops whatever this app is playing.
        winsound.PlaySound(None, 0)


class _Bell:
    def __call__(self) -> None:
        QApplication.beep()

    def stop(self) -> None:
        pass
