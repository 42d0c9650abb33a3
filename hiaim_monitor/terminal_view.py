"""The headless live view: a rich table of every participant, redrawn from snapshots."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from hiaim_monitor.i18n import tr
from hiaim_monitor.session import IntensityClass, SessionSnapshot, SignalState

CLASS_STYLE = {
    IntensityClass.BELOW: "bold cyan",
    IntensityClass.INTERMEDIATE: "bold yellow",
    IntensityClass.HIGH: "bold red",
}
CLASS_WORD = {
    IntensityClass.BELOW: "below",
    IntensityClass.INTERMEDIATE: "intermediate",
    IntensityClass.HIGH: "high",
}
SIGNAL_WORD = {
    SignalState.WAITING: "waiting",
    SignalState.LIVE: "live",
    SignalState.STALE: "stale",
    SignalState.LOST: "signal lost",
    SignalState.NO_CONTACT: "check strap",
}
SIGNAL_STYLE = {
    SignalState.WAITING: "dim",
    SignalState.LIVE: "green",
    SignalState.STALE: "dim yellow",
    SignalState.LOST: "bold white on red",
    SignalState.NO_CONTACT: "bold black on yellow",
}


def mmss(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def header_text(snap: SessionSnapshot) -> Text:
    line = Text()
    line.append(f"{snap.protocol.name}  ", style="bold")
    if snap.finished:
        line.append(tr("Session finished"), style="bold green")
    elif snap.position is None:
        line.append(tr("Waiting to start"))
    else:
        pos = snap.position
        line.append(f"{pos.phase.name} ", style="bold magenta")
        line.append(f"({tr(pos.phase.kind.value)})  ")
        line.append(f"{mmss(pos.remaining_s)} {tr('left')}", style="bold")
        if pos.next_phase is not None:
            line.append(f"  {tr('next')}: {pos.next_phase.name}")
    line.append(f"   {tr('session time')} {mmss(max(0.0, snap.elapsed_s))}")
    return line


def render(snap: SessionSnapshot) -> Group:
    table = Table(expand=False, header_style="bold")
    table.add_column(tr("Name"))
    table.add_column(tr("bpm"), justify="right")
    table.add_column(tr("% HRmax"), justify="right")
    table.add_column(tr("Class"))
    table.add_column(tr("Signal"))
    table.add_column(tr("Battery"), justify="right")
    for p in snap.participants:
        dim = p.signal is not SignalState.LIVE
        bpm = "—" if p.bpm is None else str(p.bpm)
        pct = "—" if p.pct_hrmax is None else f"{p.pct_hrmax:.0f} %"
        cls = (
            Text(tr(CLASS_WORD[p.intensity]), style=CLASS_STYLE[p.intensity])
            if p.intensity is not None
            else Text("—", style="dim")
        )
        signal = tr(SIGNAL_WORD[p.signal])
        if p.signal is SignalState.STALE and p.age_s is not None:
            signal = f"{signal} ({p.age_s:.0f} s)"
        battery = "" if p.battery_pct is None else f"{p.battery_pct} %"
        table.add_row(
            p.display_name,
            Text(bpm, style="dim" if dim else "bold"),
            Text(pct, style="dim" if dim else ""),
            cls,
            Text(signal, style=SIGNAL_STYLE[p.signal]),
            Text(battery, style="bold red" if p.battery_pct is not None and p.battery_pct < 15
                 else ""),
        )
    return Group(header_text(snap), table)
