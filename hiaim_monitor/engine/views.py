"""What a participant's view says about their signal, and their recent trace: the parts of
a snapshot worked out from one person's state and ring buffer."""

from __future__ import annotations

import numpy as np

from hiaim_monitor import config
from hiaim_monitor.engine.classify import shown_pct
from hiaim_monitor.engine.codes import Level
from hiaim_monitor.engine.ringbuffer import RingTable
from hiaim_monitor.engine.snapshot import SignalState
from hiaim_monitor.engine.state import UNTRUSTED_BITS, EngineConfig, Person


def signal_of(person: Person, now: float, cfg: EngineConfig) -> tuple[SignalState, float | None]:
    """The signal state at session time ``now`` and the age (s) of what is shown."""
    if person.last_t is None:
        return SignalState.WAITING, None
    if now - person.last_t > cfg.lost_after_s:
        return SignalState.LOST, now - person.last_t
    if not person.contact_ok:
        return SignalState.NO_CONTACT, now - person.last_t
    if person.usable_t is not None and now - person.usable_t > cfg.lost_after_s:
        return SignalState.LOST, now - person.usable_t  # packets, but nothing usable
    if person.shown_t is None or now - person.shown_t > cfg.stale_after_s:
        shown = person.shown_t if person.shown_t is not None else person.last_t
        return SignalState.STALE, now - shown
    return SignalState.LIVE, now - person.shown_t


def shown_numbers(person: Person, cfg: EngineConfig) -> tuple[int, int, Level]:
    """The bpm and whole % a view shows, and their class: of the smoothed value the class was
    computed from. While the class lags that value at a class edge (hysteresis, dwell), the
    % stays at the edge of the class shown and the bpm is the one of that % (see
    ``classify.shown_pct``), so number, % and class always agree."""
    assert person.shown_bpm is not None and person.shown_pct is not None
    level = Level(person.shown_level)
    pct = shown_pct(person.shown_pct, level, person.classifier.edges)
    bpm = person.shown_bpm
    if pct != round(person.shown_pct):
        # intensity_pct is affine in bpm (% HRmax or % reserve): step back along it.
        slope = person.p.intensity_pct(bpm + 1.0, reserve=cfg.heart_rate_reserve) - \
            person.p.intensity_pct(bpm, reserve=cfg.heart_rate_reserve)
        bpm += (pct - person.shown_pct) / slope
    return round(bpm), pct, level


def recent_trace(ring: RingTable, person: Person, window_s: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The last ``window_s`` seconds up to the newest sample, read-only, with untrusted
    values as nan; rebuilt only when a sample arrived (most ticks bring none for most
    people)."""
    written = int(ring.written[person.row])
    if person.trace is not None and person.trace[0] == written:
        return person.trace[1], person.trace[2]
    n = min(written, ring.capacity, int(window_s * config.TRACE_MAX_RATE_HZ))
    end = written % ring.capacity + ring.capacity
    t = ring.columns["t_s"][person.row, end - n:end]
    first = end - n + (int(np.searchsorted(t, t[-1] - window_s)) if n else 0)
    out_t = ring.columns["t_s"][person.row, first:end].copy()
    pct = ring.columns["pct"][person.row, first:end].copy()
    pct[(ring.columns["flags"][person.row, first:end] & UNTRUSTED_BITS) != 0] = np.nan
    out_t.flags.writeable = False
    pct.flags.writeable = False
    person.trace = (written, out_t, pct)
    return out_t, pct
