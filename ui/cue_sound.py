"""The sound cues in the room: the planner's calls (hiaim_monitor/sound_cues.py) played
through the same platform player as the alarm, and the control window's toggle for them.

The tones are loud, short and unlike the alarm's falling 880 → 660 Hz chime: a 1000 Hz pip
for each count of the 3-2-1, a rising 1000 → 1500 Hz pair when work starts ("go"), one low
440 Hz tone when rest starts. An alarm always wins: while one waits to be acknowledged no
cue plays, and a cue still sounding when it is raised is cut.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import tr
from hiaim_monitor.sound_cues import Cue, CueCall, CuePlanner
from ui.sound_player import Player, PlayerFactory, Tone, platform_player, tones_wav

CUE_TONES: Final[dict[Cue, tuple[Tone, ...]]] = {
    Cue.COUNT: ((1000.0, 0.12),),
    Cue.WORK: ((1000.0, 0.10), (1500.0, 0.30)),
    Cue.REST: ((440.0, 0.45),),
}
SETTING: Final = "sound_cues"  # in QSettings("hiaim-monitor", "control")


def cue_wav(cue: Cue) -> bytes:
    """The cue's sound as a 16-bit mono WAV file."""
    return tones_wav(CUE_TONES[cue])


def cue_length_s(cue: Cue) -> float:
    return sum(length_s for _, length_s in CUE_TONES[cue])


class CueSound:
    """Plays the cue due at each beat, while ``enabled`` and no alarm waits."""

    def __init__(self, make_player: PlayerFactory = platform_player) -> None:
        self.enabled = False
        self._make_player = make_player
        self._players: dict[Cue, Player] = {}
        self._planner = CuePlanner()
        self._sounding: tuple[Player, float] | None = None  # the last cue, and its end

    def reset(self) -> None:
        """A new session: its cues from its start."""
        self._planner = CuePlanner()

    def update(self, snap: SessionSnapshot, alarm_waiting: bool) -> CueCall | None:
        """One beat: play the cue due, if any, and return it."""
        # The planner sees every beat, so a cue that falls while the cues are off or an
        # alarm waits is dropped, never played late.
        call = self._planner.update(snap)
        if alarm_waiting:
            self._cut(snap.t_mono_s)
            return None
        if call is None or not self.enabled:
            return None
        player = self._players.get(call.cue)
        if player is None:
            player = self._players[call.cue] = self._make_player(cue_wav(call.cue),
                                                                 f"cue-{call.cue}")
        player()
        self._sounding = (player, snap.t_mono_s + cue_length_s(call.cue))
        return call

    def _cut(self, now_s: float) -> None:
        if self._sounding is not None:
            player, until_s = self._sounding
            self._sounding = None
            if now_s < until_s:
                player.stop()


class CueToggle(QCheckBox):
    """"Sound cues": follows the wall screen (on while it is shown) until the operator
    sets it; from then on their choice holds, and is remembered for the next start."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Sound cues"), parent)
        self.setToolTip(tr("A 3-2-1 countdown before each change of phase and a tone for "
                           "work and for rest. Alarms keep their own sound."))
        # Never takes the keyboard, so Space always means pause / resume.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        saved = QSettings("hiaim-monitor", "control").value(SETTING)
        self.chosen: bool | None = None if saved is None else _as_bool(saved)
        self.setChecked(bool(self.chosen))
        self.clicked.connect(self._choose)  # the operator's clicks only, not setChecked

    def follow_wall(self, shown: bool) -> None:
        """The wall screen is ``shown`` (or not): on with it, unless the operator chose."""
        if self.chosen is None and self.isChecked() != shown:
            self.setChecked(shown)

    def _choose(self, on: bool) -> None:
        self.chosen = on
        QSettings("hiaim-monitor", "control").setValue(SETTING, on)


def _as_bool(value: object) -> bool:
    # An ini file gives back "true" / "false"; the registry and plists give back a bool.
    return value.lower() == "true" if isinstance(value, str) else bool(value)
