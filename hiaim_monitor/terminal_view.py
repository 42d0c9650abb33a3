"""The headless live view: a rich table of every participant, redrawn from snapshots."""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from hiaim_monitor import config
from hiaim_monitor.display import (
    ALARM_WORD,
    CLASS_COLOUR,
    GO_COLOUR,
    NO_VALUE,
    SIGNAL_WORD,
    BoutState,
    block_result_text,
    bout_peaks_text,
    bout_view,
    class_word,
    mmss,
    station_of,
)
from hiaim_monitor.engine.blocks import block_label
from hiaim_monitor.engine.snapshot import SessionSnapshot, SignalState, StorageState
from hiaim_monitor.i18n import tr
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.session_loop import SessionLoop, Tickable

# The wall's and the control window's class colours, as the cell's background.
CLASS_STYLE = {level: f"bold black on {colour}" for level, colour in CLASS_COLOUR.items()}
# The wall's GO badge is filled and its REST badge hollow: here GO is reversed, REST plain.
BOUT_STYLE = {BoutState.GO: f"bold black on {GO_COLOUR}", BoutState.REST: "bold"}
SIGNAL_STYLE = {
    SignalState.WAITING: "dim",
    SignalState.LIVE: "green",
    SignalState.STALE: "dim yellow",
    SignalState.LOST: "bold white on red",
    SignalState.NO_CONTACT: "bold black on yellow",
}


def header_text(snap: SessionSnapshot) -> Text:
    line = Text()
    line.append(f"{snap.protocol.display_name}  ", style="bold")
    if snap.finished:
        line.append(tr("Session finished"), style="bold green")
    elif snap.position is None:
        line.append(tr("Waiting to start"))
    elif (bout := bout_view(snap)) is not None:
        block = bout.block
        line.append(f" {bout.word} {bout.count} ", style=BOUT_STYLE[bout.state])
        line.append(f" {bout.seconds_left} s", style="bold")
        line.append(f"  {block.display_name} ", style="bold magenta")
        line.append(f"({tr(block.kind.value)})")
        _station(line, snap)
        after = bout.after.display_name if bout.after is not None else tr("end of session")
        line.append(f"  {tr('next')}: {after}")
    else:
        pos = snap.position
        line.append(f"{pos.phase.display_name} ", style="bold magenta")
        line.append(f"({tr(pos.phase.kind.value)})")
        _station(line, snap)
        line.append(f"  {mmss(pos.remaining_s)} {tr('left')}", style="bold")
        if pos.next_phase is not None:
            line.append(f"  {tr('next')}: {pos.next_phase.display_name}")
    line.append(f"   {tr('session time')} {mmss(max(0.0, snap.elapsed_s))}")
    return line


def _station(line: Text, snap: SessionSnapshot) -> None:
    station = station_of(snap.position)
    if station:
        line.append(f" · {station}", style="bold")


def render(snap: SessionSnapshot) -> Group:
    table = Table(expand=False, header_style="bold")
    table.add_column(tr("Name"))
    table.add_column(tr("bpm"), justify="right")
    table.add_column(tr("% HRmax"), justify="right")
    table.add_column(tr("Class"))
    table.add_column(tr("Signal"))
    table.add_column(tr("In target"), justify="right")
    table.add_column(tr("Intervals"), justify="right")
    in_block = bout_view(snap) is not None
    if in_block:
        table.add_column(tr("Block peak"), justify="right")
    table.add_column(tr("Battery"), justify="right")
    table.add_column(tr("Alarms"))
    for p in snap.participants:
        dim = p.signal is not SignalState.LIVE
        bpm = NO_VALUE if p.bpm is None else str(p.bpm)
        pct = NO_VALUE if p.pct_hrmax is None else f"{p.pct_hrmax:.0f} %"
        cls = (
            Text(class_word(p.level), style=CLASS_STYLE[p.level] if not dim else "dim")
            if p.level in CLASS_STYLE and p.pct_hrmax is not None
            else Text(NO_VALUE, style="dim")
        )
        in_target = "" if p.target is None else mmss(p.in_target_s)
        intervals = f"{p.intervals_achieved}/{p.intervals_judged}" if p.intervals_judged else ""
        alarms = ", ".join(tr(ALARM_WORD[a]) for a in p.alarms)
        signal = tr(SIGNAL_WORD[p.signal])
        if p.signal is SignalState.STALE and p.age_s is not None:
            signal = f"{signal} ({p.age_s:.0f} s)"
        battery = "" if p.battery_pct is None else f"{p.battery_pct} %"
        peak = [] if not in_block else [
            NO_VALUE if p.block_peak_pct is None else f"{p.block_peak_pct} %"]
        table.add_row(
            p.display_name,
            Text(bpm, style="dim" if dim else "bold"),
            Text(pct, style="dim" if dim else ""),
            cls,
            Text(signal, style=SIGNAL_STYLE[p.signal]),
            in_target,
            intervals,
            *peak,
            Text(battery, style="bold red" if p.battery_pct is not None and p.battery_pct < 15
                 else ""),
            Text(alarms, style="bold red"),
        )
    parts = [header_text(snap), table]
    store = snap.storage
    if store is not None and (store.state is StorageState.FAILING or store.dropped_rows):
        line = f"{tr('Storage trouble')}: {store.reason} "
        line += f"({tr('waiting in memory')}: {store.backlog_fraction:.0%}"
        if store.dropped_rows:
            line += f", {tr('lost')}: {store.dropped_rows}"
        parts.insert(1, Text(line + ")", style="bold white on red"))
    return Group(*parts)


def run_in_terminal(session: Tickable) -> None:
    """Show the live table in the terminal until the session ends (Ctrl+C raises
    KeyboardInterrupt to the caller). ``session`` is what the loop ticks: the
    ``RecordedSession``, so that what the straps send is stored as well as shown."""
    from rich.console import Console
    from rich.live import Live

    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 120))  # a file has no width of its own
    loop = SessionLoop()
    if console.is_terminal:
        with Live(Text(""), console=console, auto_refresh=False) as live:
            drawn_at = -math.inf

            def draw(snap: SessionSnapshot) -> None:
                # The table redraws at HEADLESS_REDRAW_HZ however fast the loop beats.
                nonlocal drawn_at
                now = time.monotonic()
                if snap.finished or now - drawn_at >= 1 / config.HEADLESS_REDRAW_HZ:
                    live.update(render(snap), refresh=True)
                    drawn_at = now

            loop.show_on(draw)
            _beat_until_finished(loop, session)
        return
    # Output to a file or pipe: a table every NON_TTY_PRINT_EVERY_S of session time.
    print_at_s = 0.0

    def print_table(snap: SessionSnapshot) -> None:
        nonlocal print_at_s
        if snap.finished or snap.elapsed_s >= print_at_s:
            console.print(render(snap))
            print_at_s += config.NON_TTY_PRINT_EVERY_S

    loop.show_on(print_table)
    _beat_until_finished(loop, session)


def _beat_until_finished(loop: SessionLoop, session: Tickable) -> None:
    """The headless heartbeat: a beat every TICK_INTERVAL_S until a snapshot says the
    session is over."""
    snap: SessionSnapshot | None = loop.run(session)
    while snap is not None and not snap.finished:
        time.sleep(config.TICK_INTERVAL_S)
        snap = loop.tick()


def session_summary_lines(protocol: TrainingProtocol, summary: dict[str, Any]) -> list[str]:
    """The end of a session in the terminal, from ``LiveSession.summary()``: per participant
    the intervals achieved of those judged, and each block of short bouts, judged as a
    whole, as one line with its repeats."""
    lines = [tr("Intervals achieved")]
    for p in summary["participants"]:
        lines.append(tr("{name}: {achieved} of {judged} achieved").format(
            name=p["display_name"], achieved=p["intervals_achieved"],
            judged=p["intervals_judged"]))
        for a in p["adherence"]:
            if a.get("block_index") is None:
                continue
            index = a["block_index"]
            label = (block_label(protocol.blocks[index]) if index < len(protocol.blocks)
                     else a["phase_name"])
            lines.append("  " + block_result_text(label, a["peak_pct"],
                                                  a["seconds_in_target"], a["target_pct"],
                                                  a["outcome"]))
            lines.append("    " + tr("bout peaks: {peaks}").format(
                peaks=bout_peaks_text(a["bout_peaks_pct"])))
    return lines
