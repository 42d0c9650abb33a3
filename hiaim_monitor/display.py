"""How every view shows a participant: one word and one colour per class, the cue toward the
current phase's band, the words for a signal and an alarm, the low-battery mark and how a
time reads. The wall, the control window, the set-up pages and the terminal all take them
from here, so they never disagree.

The cue is worked out from the class and the whole % the view shows beside it (the engine
makes the two agree: see ``classify.shown_pct``), never from a value of its own, so a tile's
number, word, colour and cue are one message.

During a block of short bouts every view shows the same three things from the snapshot's
position (``bout_view``): GO or REST, the bout (7/15) and the whole seconds left of it; and
the station of the phase or block (``station_of``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from hiaim_monitor import config, strap_ids
from hiaim_monitor.engine.adherence import outcome_of, target_of
from hiaim_monitor.engine.alarms import AlarmKind
from hiaim_monitor.engine.blocks import block_label, shown_peak_pct
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import ParticipantView, SessionSnapshot, SignalState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import Block, Phase, PhasePosition, TrainingProtocol, station_label

# English source words (translated on display); the wall shows them in capitals.
CLASS_WORD: Final = {
    Level.BELOW: "easy",
    Level.INTERMEDIATE: "intermediate",
    Level.HIGH: "high",
    Level.ABOVE_CEILING: "too high",
}

# Okabe & Ito's colour-blind-safe palette (2008), one colour per class: sky blue, yellow,
# vermilion, reddish purple. They differ in hue for red-green colour blindness and
# neighbouring classes also differ in lightness (about 0.41, 0.74, 0.22, 0.29 relative
# luminance), so they stay apart in greyscale; black text reads on every one of them.
CLASS_COLOUR: Final = {
    Level.BELOW: "#56B4E9",
    Level.INTERMEDIATE: "#F0E442",
    Level.HIGH: "#D55E00",
    Level.ABOVE_CEILING: "#CC79A7",
}


def class_word(level: Level | None) -> str:
    """The class in the current language ("" for none)."""
    return tr(CLASS_WORD[level]) if level in CLASS_WORD else ""


NO_VALUE: Final = "—"  # in place of a number nobody can trust or nothing measured yet

# English source words (translated on display).
SIGNAL_WORD: Final = {
    SignalState.WAITING: "waiting",
    SignalState.LIVE: "live",
    SignalState.STALE: "stale",
    SignalState.LOST: "signal lost",
    SignalState.NO_CONTACT: "check strap",
}
ALARM_WORD: Final = {
    AlarmKind.ABOVE_CEILING: "above ceiling",
    AlarmKind.SIGNAL_LOST: "signal lost",
    AlarmKind.NO_CONTACT: "no contact",
    AlarmKind.BATTERY_LOW: "battery low",
}


def radio_word(strap_id: str | None) -> str:
    """The radio a participant's data comes by (``ParticipantView.via_strap_id``), in the
    current language; "" before any came."""
    if strap_id is None:
        return ""
    radio = strap_id.partition(":")[0]
    words = {strap_ids.BLE: tr("Bluetooth"), strap_ids.ANT: tr("ANT+"),
             strap_ids.SIM: tr("simulated")}
    return words.get(radio, "")


def whole_s(seconds: float) -> int:
    """A duration rounded to the whole second, never negative: every countdown reads so."""
    return max(0, int(seconds + 0.5))


def mmss(seconds: float) -> str:
    """A duration as minutes:seconds ("4:05"), rounded to the second, never negative."""
    seconds = whole_s(seconds)
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def battery_low(p: ParticipantView) -> bool:
    """The low-battery mark of a session's view: shown exactly while the engine's
    battery-low alarm is raised, so mark and alarm agree (its hysteresis included)."""
    return AlarmKind.BATTERY_LOW in p.alarms


# A participant whose heart rate comes by broadcast (a Polar strap listened to, not
# connected): no RR intervals are recorded for it. The table and the tile show this mark.
NO_RR_MARK: Final = "no RR"


def no_rr_mark(p: ParticipantView) -> str:
    """The translated "no RR" mark while the participant's data carries no RR, else ""."""
    return tr(NO_RR_MARK) if p.no_rr else ""


def battery_pct_low(battery_pct: int | None) -> bool:
    """The low-battery mark before a session (no engine yet): below the level at which the
    session raises its alarm."""
    return battery_pct is not None and battery_pct < config.BATTERY_LOW_PCT


class BoutState(StrEnum):
    """The two states of a bout in a block of short bouts (English source words, translated
    on display; the wall also tells them apart by its badge, filled for GO)."""

    GO = "GO"
    REST = "REST"


# GO's colour (Okabe & Ito's bluish green, relative luminance 0.26): a filled badge on the
# wall and in the control window, reversed in the terminal; REST is the same badge hollow,
# so the two differ in word and lightness as well as in hue.
GO_COLOUR: Final = "#009E73"


@dataclass(frozen=True, slots=True)
class BoutView:
    """Where a block of short bouts stands at one snapshot."""

    block: Block
    state: BoutState
    bout: int  # 1-based; a bout's work and the rest after it share it
    seconds_left: int  # whole seconds left of this work or rest (as the operator steers it)
    after: Phase | None  # what follows the block; None at the end of the session

    @property
    def word(self) -> str:
        """GO or REST in the current language."""
        return tr(self.state.value)

    @property
    def count(self) -> str:
        """The bout of the block's bouts, "7/15"."""
        return f"{self.bout}/{self.block.repeat}"


def bout_view(snap: SessionSnapshot) -> BoutView | None:
    """GO or REST, bout k of N and the seconds left, while a block of short bouts runs; None
    during a long phase, before the start and after the end."""
    pos = snap.position
    if pos is None or snap.finished:
        return None
    block = snap.protocol.block_of(pos.index)
    if block is None:
        return None
    state = BoutState.GO if pos.phase.is_bout_work else BoutState.REST
    return BoutView(block, state, pos.phase.bout, whole_s(pos.remaining_s),
                    phase_after(snap.protocol, block))


def phase_after(protocol: TrainingProtocol, block: Block) -> Phase | None:
    """The phase that follows ``block``; None when the block ends the session."""
    nxt = block.last_phase + 1
    return protocol.phases[nxt] if nxt < len(protocol.phases) else None


def station_of(pos: PhasePosition | None) -> str:
    """The station of the running phase (or its block), in the current language; "" for
    none."""
    return station_label(pos.phase.station) if pos is not None else ""


class Cue(StrEnum):
    PUSH = "PUSH"
    HOLD = "HOLD"
    EASE_OFF = "EASE OFF"


CUE_ARROW: Final = {Cue.PUSH: "▲", Cue.HOLD: "●", Cue.EASE_OFF: "▼"}


def cue_text(cue: Cue | None) -> str:
    """Arrow and word, e.g. "▲ PUSH", in the current language ("" for no cue)."""
    return f"{CUE_ARROW[cue]} {tr(cue.value)}" if cue is not None else ""


def cue_for(level: Level | None, pct: float | None, phase: Phase | None) -> Cue | None:
    """Push, hold or ease off for a participant of class ``level`` showing ``pct`` % in
    ``phase``.

    A band is read like a class, from its lower edge up to below its upper one (70–85 % is
    intermediate; 85 % is high). Above the ceiling it is always "ease off". In a work phase:
    "push" below the target class or the band, "ease off" above the target class (a high
    class in an intermediate phase) or at the band's top, else "hold". Outside work phases
    (warm-up, recovery, cool-down) only "ease off" is said, at the band's top. No hysteresis
    of its own: equal numbers and classes in one phase always get the same cue, and the
    class's own hysteresis keeps it from flickering.
    """
    if level is None or level is Level.UNKNOWN or pct is None or phase is None:
        return None
    if level is Level.ABOVE_CEILING:
        return Cue.EASE_OFF
    top = phase.target_max_pct
    at_top = top is not None and pct >= top
    target = target_of(phase)
    if target is None:
        return Cue.EASE_OFF if at_top else None
    if at_top or (target is Level.INTERMEDIATE and level > target):
        return Cue.EASE_OFF
    if level < target or pct < phase.target_min_pct:
        return Cue.PUSH
    return Cue.HOLD


# The three outcomes of a judged interval (PhaseAdherence.outcome), as a person reads them.
OUTCOME_WORD: Final = {"achieved": "achieved", "not achieved": "not achieved",
                       "not judged": "not judged"}


def outcome_word(outcome: str) -> str:
    """An interval's outcome in the current language."""
    return tr(OUTCOME_WORD[outcome]) if outcome in OUTCOME_WORD else outcome


def block_result_text(label: str, peak_pct: float | None, seconds_at_or_above: float | None,
                      target_pct: float | None, outcome: str) -> str:
    """A block of short bouts judged as a whole, as one line with its repeats: "Sprints 15 ×
    20/20 s: peak 91 %, 4:10 at or above 85 %, achieved". The peak is rounded down, so a
    peak shown at the target has reached it."""
    peak = NO_VALUE if peak_pct is None else f"{shown_peak_pct(peak_pct)} %"
    return tr("{block}: peak {peak}, {time} at or above {target} %, {outcome}").format(
        block=label, peak=peak,
        time=NO_VALUE if seconds_at_or_above is None else mmss(seconds_at_or_above),
        target=NO_VALUE if target_pct is None else f"{target_pct:g}",
        outcome=outcome_word(outcome))


def bout_peaks_text(bout_peaks_pct: Sequence[float | None]) -> str:
    """Every bout's own peak, whole % rounded down as the block's is: "82, 88, —, 92 %"."""
    return ", ".join(NO_VALUE if p is None else str(shown_peak_pct(p))
                     for p in bout_peaks_pct) + " %"


class BlockResult(Protocol):
    """What a block's line is made from: an engine result (PhaseAdherence) or a stored row
    (PhaseAdherenceRow) alike."""

    block_index: int | None
    phase_name: str
    peak_pct: float | None
    seconds_in_target: float
    target_pct: float | None
    judged: bool
    achieved: bool


def block_line(protocol: TrainingProtocol | None, result: BlockResult) -> str:
    """``block_result_text`` of a block's result, named as the protocol names the block (in
    the current language), else as stored."""
    index = result.block_index
    known = protocol is not None and index is not None and 0 <= index < len(protocol.blocks)
    label = block_label(protocol.blocks[index]) if known else result.phase_name
    return block_result_text(label, result.peak_pct, result.seconds_in_target,
                             result.target_pct, outcome_of(result.judged, result.achieved))
