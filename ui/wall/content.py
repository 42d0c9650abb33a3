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
    NO_RR_MARK,
    SIGNAL_WORD,
    BoutState,
    Cue,
    battery_low,
    bout_view,
    class_word,
    cue_for,
    cue_text,
    mmss,
    no_rr_mark,
    phase_after,
    station_of,
    whole_s,
)
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.snapshot import ParticipantView, SessionSnapshot, SignalState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import Block, Phase, Thresholds, TrainingProtocol, station_label
from ui.wall import palette

STALE_AGE: Final = "{age_s} s ago"  # the age of a stale value; {age_s} whole seconds
PEAK: Final = "peak {pct} %"  # the running block's peak so far; {pct} whole % HRmax


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
    peak: str  # the running block's peak so far, "PEAK 91 %"; "" outside a block
    battery_low: bool
    beta_blocker: bool
    no_rr: str  # the translated "no RR" mark while the data comes by broadcast, else ""
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
    if phase is not None and phase.block is not None and cue is not Cue.EASE_OFF:
        # In a block of short bouts the % lags the effort by more than a bout (20–60 s):
        # "push" would be on every tile at the start of every bout, "hold" would slow a
        # sprint. The header's GO / REST is the cue; the cue's row shows the block's peak
        # so far. Ease off (the band's top, the ceiling) still takes the row.
        cue = None

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
    # A peak is a number the participant reached: shown whatever the signal is now.
    peak = (tr(PEAK).format(pct=p.block_peak_pct).upper() if p.block_peak_pct is not None
            else "")
    return TileContent(
        name=p.display_name,
        number=number,
        number_is_message=is_message,
        pct=pct_text,
        word=word,
        cue=cue,
        cue_text=cue_text(cue),
        intervals=intervals,
        peak=peak,
        battery_low=battery_low(p),
        beta_blocker=p.beta_blocker,
        no_rr=no_rr_mark(p),
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
        "marks": ["β", f"{tr(NO_RR_MARK)}  β"],
        "peak": [tr(PEAK).format(pct=88).upper()],
        "peak3": [tr(PEAK).format(pct=188).upper()],  # three digits take a smaller type
    }


@dataclass(frozen=True, slots=True)
class HeaderContent:
    phase: str  # the phase's name and kind; during a block, the block's
    detail: str  # target band and what comes next
    clock: str
    countdown: str  # m:ss of the phase; during a block, whole seconds of the bout
    paused: bool
    progress: float  # 0–1 of the current phase; during a block, of the block
    station: str = ""  # where the class is, in the current language; "" for none
    state: BoutState | None = None  # GO or REST during a block; None: a long phase
    state_word: str = ""  # GO or REST in the current language
    bout: str = ""  # "7/15"
    ticks: tuple[float, ...] = ()  # 0–1 along the progress bar: where each bout starts

    @property
    def in_block(self) -> bool:
        return self.state is not None


def _phase_label(phase: Phase) -> str:
    return f"{phase.display_name} · {tr(phase.kind.value)}"


def _block_label(block: Block) -> str:
    return f"{block.display_name} · {tr(block.kind.value)}"


def _band(lo: float, hi: float | None, thresholds: Thresholds) -> str:
    top = hi if hi is not None else thresholds.ceiling_pct
    return f"{tr('target')} {lo:.0f}–{top:.0f} %"


def _next(nxt: Phase | None) -> str:
    return f"{tr('next')}: {nxt.display_name if nxt is not None else tr('end of session')}"


def _detail(phase: Phase, next_phase: Phase | None, thresholds: Thresholds) -> str:
    return f"{_band(phase.target_min_pct, phase.target_max_pct, thresholds)}   " \
        f"{_next(next_phase)}"


def _block_detail(protocol: TrainingProtocol, block: Block) -> str:
    """The block's target and what follows the block (not the next rest: GO and REST say
    that)."""
    band = _band(block.target_min_pct, block.target_max_pct, protocol.thresholds)
    return f"{band}   {_next(phase_after(protocol, block))}"


def header_content(snap: SessionSnapshot) -> HeaderContent:
    """Phase name and kind, target band and next phase, session time, countdown, station;
    during a block of short bouts GO or REST, the bout and its seconds instead."""
    pos = snap.position
    clock = f"{tr('session time')} {mmss(max(0.0, snap.elapsed_s))}"
    if snap.finished:
        return HeaderContent(tr("Session finished"), "", clock, "", False, 1.0)
    if pos is None:
        first = snap.protocol.phases[0]
        return HeaderContent(tr("Waiting to start"), f"{tr('next')}: {first.name}", clock,
                             mmss(-snap.elapsed_s), snap.paused, 0.0,
                             station=station_label(first.station))
    bout = bout_view(snap)
    if bout is not None:
        progress, ticks = _block_progress(snap, bout.block)
        return HeaderContent(
            phase=_block_label(bout.block),
            detail=_block_detail(snap.protocol, bout.block),
            clock=clock,
            countdown=str(bout.seconds_left),
            paused=snap.paused,
            progress=progress,
            station=station_of(pos),
            state=bout.state,
            state_word=bout.word,
            bout=bout.count,
            ticks=ticks,
        )
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
        station=station_of(pos),
    )


def _block_progress(snap: SessionSnapshot, block: Block) -> tuple[float, tuple[float, ...]]:
    """How much of ``block`` has run (whole seconds) and where each of its bouts starts, both
    0–1 along the block as the operator now plans it (snapshot.planned_run_s)."""
    pos = snap.position
    assert pos is not None
    run_s = snap.planned_run_s or tuple(p.duration_s for p in snap.protocol.phases)
    first, last = block.first_phase, block.last_phase
    total_s = sum(run_s[first:last + 1])
    if total_s <= 0:
        return 0.0, ()
    done_s = sum(run_s[first:pos.index]) + math.floor(pos.elapsed_s)
    ticks, start_s = [], 0.0
    for i in range(first, last + 1):
        if i > first and snap.protocol.phases[i].is_bout_work:
            ticks.append(start_s / total_s)
        start_s += run_s[i]
    return min(1.0, max(0.0, done_s / total_s)), tuple(ticks)


def header_samples(protocol: TrainingProtocol) -> dict[str, list[str]]:
    """Every text each header part can show in ``protocol`` (current language): the header
    fits its type to these once, so the type stays put from phase to phase. Keys are the
    parts of a long phase's header; ``block:<part>`` those of a block's."""
    phases = protocol.phases
    nexts = [*phases[1:], None]
    stations = sorted({station_label(p.station) for p in phases if p.station})
    blocks = protocol.blocks
    return {
        # A phase of a block never shows as a long phase: its block's header shows instead.
        "phase": [_phase_label(p) for p in phases if p.block is None]
        + [tr("Session finished"), tr("Waiting to start")],
        "detail": [_detail(p, n, protocol.thresholds)
                   for p, n in zip(phases, nexts, strict=True) if p.block is None],
        "clock": [f"{tr('session time')} 188:88"],
        "countdown": ["88:88"],
        "paused": [tr("PAUSED") + "  "],  # room for the badge's padding
        "station": stations,
        "block:phase": [_block_label(b) for b in blocks],
        "block:detail": [_block_detail(protocol, b) for b in blocks],
        "block:state": [tr(s.value) for s in BoutState],
        "block:bout": [f"{b.repeat}/{b.repeat}" for b in blocks],
        # Seconds of a bout: at least three digits fit (a bout the operator lengthened), by
        # ink the same height as two.
        "block:countdown": ["8" * max(3, *(len(str(whole_s(max(b.work_s, b.rest_s))))
                                          for b in blocks))] if blocks else ["888"],
    }
