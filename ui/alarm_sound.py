"""The alarm's sound: a short two-tone chime, repeated while an alarm is unacknowledged,
through the platform's player (ui/sound_player.py). It is never quieter than a sound cue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hiaim_monitor import config
from ui.sound_player import Tone, platform_player, tones_wav

TONES: Final[tuple[Tone, ...]] = ((880.0, 0.18), (660.0, 0.28))  # falling, like a monitor


def chime_wav() -> bytes:
    """The chime as a 16-bit mono WAV file."""
    return tones_wav(TONES)


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
                self._play = platform_player(chime_wav(), "alarm")
            self._play()
