"""What the wall shows, decided from a snapshot without Qt: one ``TileContent`` per
participant and one ``HeaderContent``. Both are plain values, so a frame redraws a tile only
when its content compares unequal to what is on screen."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from hiaim_monitor.display import (
    CLASS_COLOUR,
    CLASS_WORD,
    SIGNAL_WORD,
    Cue,
    battery_low,
    class_word,
    cue_for,
    cue_text,
    mmss,
)
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import ParticipantView, SessionSnapshot, SignalState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import Phase, Thresholds, TrainingProtocol
from ui.wall import palette

STALE_AGE: Final = "{age_s} s ago"  # the age of a stale value; {age_s} whole seconds


@dataclass(frozen=True, slots=True)
class TileContent:
    name: str
    number: str  # bpm, or a message ("signal lost") in its place; "" for none
    number_is_message: bool
    pct: str  # "87 %" or ""
    word: str  # class word, or the age of a stale value
    cue: Cue | None
    cue_text: str  # arrow and translated cue word
    intervals: str  # "★ 2/3" or ""
    battery_low: bool
    beta_blocker: bool
    ceiling: bool  # the class is above the safety ceiling: framed
    background: str  # hex colour: the class's, dimmed when stale
    text: str  # hex colour of names, words and the trace
    number_colour: str
    signal: SignalState
    level: Level | None  # the class shown; None with no number


def tile_content(p: ParticipantView, phase: Phase | None) -> TileContent:
    """Everything one tile shows. Number, %, class word, colour and cue are one message: all
    come from the view's shown value and its class (hiaim_monitor.display). A lost or
    strap-off participant shows a message and never a number; a stale one shows the old
    number greyed, on its class colour dimmed, with its age and no cue."""
    signal = p.signal
    shown = signal in (SignalState.LIVE, SignalState.STALE) and p.bpm is not None \
        and p.level in CLASS_COLOUR
    level = p.level if shown else None
    pct = p.pct_hrmax if shown else None
    cue = cue_for(level, pct, phase) if signal is SignalState.LIVE else None

    number, is_message = (str(p.bpm), False) if shown else ("", True)
    word = ""
    if level is not None:
        background = CLASS_COLOUR[level]
        text = palette.text_on(background)
        number_colour = text
        if signal is SignalState.STALE:
            background = palette.blend(background, palette.WALL_BG, palette.STALE_DIM)
            text = palette.STALE_TEXT
            number_colour = palette.STALE_NUMBER
            age_s = 0 if p.age_s is None else math.floor(p.age_s)
            word = tr(STALE_AGE).format(age_s=age_s)
        else:
            word = class_word(level).upper()
    else:
        background = palette.NEUTRAL_BG
        text = palette.MESSAGE_TEXT
        number_colour = {
            SignalState.NO_CONTACT: palette.WARNING_TEXT,
            SignalState.WAITING: palette.WAITING_TEXT,
        }.get(signal, palette.MESSAGE_TEXT)
        # LIVE or STALE without a number (never seen one) reads as waiting.
        number = tr(SIGNAL_WORD[signal if signal in (SignalState.LOST, SignalState.NO_CONTACT)
                                else SignalState.WAITING])
    pct_text = f"{pct} %" if pct is not None else ""
    intervals = (f"★ {p.intervals_achieved}/{p.intervals_judged}"
                 if p.intervals_judged else "")
    return TileContent(
        name=p.display_name,
        number=number,
        number_is_message=is_message,
        pct=pct_text,
        word=word,
        cue=cue,
        cue_text=cue_text(cue),
        intervals=intervals,
        battery_low=battery_low(p),
        beta_blocker=p.beta_blocker,
        ceiling=level is Level.ABOVE_CEILING,
        background=background,
        text=text,
        number_colour=number_colour,
        signal=signal,
        level=level,
    )


def longest_texts() -> dict[str, list[str]]:
    """The widest text each tile part may have to hold, in the current language; fonts are
    sized once for these, so no value can overflow its part later."""
    messages = [tr(SIGNAL_WORD[s]) for s in (SignalState.LOST, SignalState.NO_CONTACT,
                                              SignalState.WAITING)]
    return {
        "number": ["888"],
        "message": messages,
        "pct": ["88 %"],
        "pct3": ["188 %"],  # at 100 % and above the % takes a smaller type
        "word": [class_word(lv).upper() for lv in CLASS_WORD]
        + [tr(STALE_AGE).format(age_s=88)],
        "cue": [cue_text(c) for c in Cue],
        "badges": ["★ 18/18"],
        "marks": ["β"],
    }


@dataclass(frozen=True, slots=True)
class HeaderContent:
    phase: str
    detail: str
    clock: str
    countdown: str
    paused: bool
    progress: float  # 0–1 of the current phase


def _phase_label(phase: Phase) -> str:
    return f"{phase.display_name} · {tr(phase.kind.value)}"


def _detail(phase: Phase, next_phase: Phase | None, thresholds: Thresholds) -> str:
    top = phase.target_max_pct if phase.target_max_pct is not None else thresholds.ceiling_pct
    band = f"{tr('target')} {phase.target_min_pct:.0f}–{top:.0f} %"
    nxt = next_phase.display_name if next_phase is not None else tr("end of session")
    return f"{band}   {tr('next')}: {nxt}"


def header_content(snap: SessionSnapshot) -> HeaderContent:
    """Phase name and kind, target band and next phase, session time, countdown."""
    pos = snap.position
    clock = f"{tr('session time')} {mmss(max(0.0, snap.elapsed_s))}"
    if snap.finished:
        return HeaderContent(tr("Session finished"), "", clock, "", False, 1.0)
    if pos is None:
        first = snap.protocol.phases[0].name
        return HeaderContent(tr("Waiting to start"), f"{tr('next')}: {first}", clock,
                             mmss(-snap.elapsed_s), snap.paused, 0.0)
    phase = pos.phase
    # Whole seconds, so the header changes once a second, not every frame.
    progress = math.floor(pos.elapsed_s) / phase.duration_s if phase.duration_s > 0 else 0.0
    return HeaderContent(
        phase=_phase_label(phase),
        detail=_detail(phase, pos.next_phase, snap.protocol.thresholds),
        clock=clock,
        countdown=mmss(pos.remaining_s),
        paused=snap.paused,
        progress=min(1.0, max(0.0, progress)),
    )


def header_samples(protocol: TrainingProtocol) -> dict[str, list[str]]:
    """Every text each header part can show in ``protocol`` (current language): the header
    fits its type to these once, so the type stays put from phase to phase."""
    phases = protocol.phases
    nexts = [*phases[1:], None]
    return {
        "phase": [_phase_label(p) for p in phases]
        + [tr("Session finished"), tr("Waiting to start")],
        "detail": [_detail(p, n, protocol.thresholds) for p, n in zip(phases, nexts,
                                                                      strict=True)],
        "clock": [f"{tr('session time')} 188:88"],
        "countdown": ["88:88"],
        "paused": [tr("PAUSED") + "  "],  # room for the badge's padding
    }
