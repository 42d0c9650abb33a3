"""Fault injection for virtual straps: what goes wrong with real chest straps in a class.

Every fault is off by default. Random faults are seeded and each kind draws from its own
generator, so switching one fault on does not change when the others happen. Scheduled
faults (``ScheduledFault``) fire at a given time for deterministic tests and demos.

Times are on the strap's clock (the hub's monotonic seconds).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from enum import StrEnum


class FaultKind(StrEnum):
    DROPOUT = "dropout"  # the strap stops notifying (radio, out of range, link lost)
    CONTACT_LOSS = "contact-loss"  # electrodes dry or shifted: contact NOT_DETECTED, no RR
    ECTOPIC = "ectopic"  # a premature beat: short RR, then a compensatory long one
    MISSED_BEAT = "missed-beat"  # a beat the strap did not detect: two RRs merged into one
    TRUNCATED = "truncated"  # a notification cut short: it cannot be decoded
    ODD_BYTE = "odd-byte"  # an odd trailing byte after the RR values
    # The link stays up but notifications stop until the central connects afresh (a strap
    # firmware stall, seen as a strap "streaming" nothing).
    STALL = "stall"

    @property
    def lasts(self) -> bool:
        """True for faults with a duration; the others happen once."""
        return self in (FaultKind.DROPOUT, FaultKind.CONTACT_LOSS)


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    kind: FaultKind
    at_s: float  # on the strap's clock
    duration_s: float = 0.0  # DROPOUT and CONTACT_LOSS only (a STALL lasts to a reconnect)
    target: str | None = None  # a strap_id or study_code; None = every strap


@dataclass(frozen=True, slots=True)
class FaultConfig:
    dropouts_per_h: float = 0.0  # per strap
    dropout_duration_s: tuple[float, float] = (2.0, 120.0)  # log-uniform: mostly short
    contact_losses_per_h: float = 0.0  # per strap
    contact_loss_duration_s: tuple[float, float] = (3.0, 45.0)  # log-uniform
    ectopic_per_beat: float = 0.0  # probability
    missed_beat_per_beat: float = 0.0  # probability
    malformed_per_notification: float = 0.0  # probability; truncated or odd byte, 50/50
    stalls_per_h: float = 0.0  # per strap; each lasts until the next connection
    battery_start_pct: tuple[int, int] = (100, 100)  # drawn per strap, inclusive
    battery_drain_pct_per_h: float = 0.0  # a coin cell loses well under 1 %/h; use 600 to test
    scheduled: tuple[ScheduledFault, ...] = field(default=())

    @classmethod
    def demo(cls) -> FaultConfig:
        """Mild, realistic rates: in a 60-minute class of 8 a few short drop-outs and
        contact losses, the odd ectopic beat, an occasional bad packet."""
        return cls(
            dropouts_per_h=0.5,
            contact_losses_per_h=1.0,
            ectopic_per_beat=0.002,
            missed_beat_per_beat=0.001,
            malformed_per_notification=0.001,
            battery_start_pct=(35, 100),
            battery_drain_pct_per_h=1.0,
        )

    def with_scheduled(self, *faults: ScheduledFault) -> FaultConfig:
        return replace(self, scheduled=self.scheduled + faults)


class _RandomEpisodes:
    """A Poisson process of episodes with log-uniform durations, generated lazily.

    Queries must come in time order, which is how a strap asks.
    """

    def __init__(
        self,
        rate_per_h: float,
        duration_s: tuple[float, float],
        rng: random.Random,
        start_t_s: float,
    ) -> None:
        self._rng = rng
        self._rate_per_s = rate_per_h / 3600.0
        self._log_lo, self._log_hi = (math.log(max(1e-3, d)) for d in duration_s)
        self._start_s = -math.inf
        self._end_s = -math.inf
        self._next_s = self._after(start_t_s)

    def _after(self, t_s: float) -> float:
        if self._rate_per_s <= 0:
            return math.inf
        return t_s + self._rng.expovariate(self._rate_per_s)

    def active(self, t_s: float) -> bool:
        while t_s >= self._next_s:
            self._start_s = self._next_s
            self._end_s = self._start_s + math.exp(self._rng.uniform(self._log_lo, self._log_hi))
            self._next_s = self._after(self._end_s)
        return self._start_s <= t_s < self._end_s


class FaultInjector:
    """The faults of one strap. The strap asks it, in time order, what to break."""

    def __init__(
        self, config: FaultConfig, *, keys: tuple[str, ...], start_t_s: float, seed: int
    ) -> None:
        self.config = config
        self._start_t_s = start_t_s

        def rng(what: str) -> random.Random:
            return random.Random(f"{seed}:{what}")

        self._dropouts = _RandomEpisodes(
            config.dropouts_per_h, config.dropout_duration_s, rng("dropout"), start_t_s
        )
        self._contact = _RandomEpisodes(
            config.contact_losses_per_h,
            config.contact_loss_duration_s,
            rng("contact"),
            start_t_s,
        )
        self._stall_rng = rng("stall")
        self._next_stall_s = self._stall_after(start_t_s)
        self._beat_rng = rng("beats")
        self._packet_rng = rng("packets")
        self._battery_start_pct = rng("battery").randint(*config.battery_start_pct)
        mine = [f for f in config.scheduled if f.target is None or f.target in keys]
        self._windows = [f for f in mine if f.kind.lasts]
        self._one_shots = sorted((f for f in mine if not f.kind.lasts), key=lambda f: f.at_s)

    def _scheduled_window(self, kind: FaultKind, t_s: float) -> bool:
        return any(f.kind is kind and f.at_s <= t_s < f.at_s + f.duration_s for f in self._windows)

    def _take_one_shot(self, kinds: tuple[FaultKind, ...], t_s: float) -> FaultKind | None:
        for f in self._one_shots:
            if f.at_s > t_s:
                break
            if f.kind in kinds:
                self._one_shots.remove(f)
                return f.kind
        return None

    def _stall_after(self, t_s: float) -> float:
        rate_per_s = self.config.stalls_per_h / 3600.0
        return t_s + self._stall_rng.expovariate(rate_per_s) if rate_per_s > 0 else math.inf

    def stall_starts(self, t_s: float) -> bool:
        """True when a stall began by ``t_s`` since the last call (asked in time order)."""
        started = self._take_one_shot((FaultKind.STALL,), t_s) is not None
        while t_s >= self._next_stall_s:
            started = True
            self._next_stall_s = self._stall_after(self._next_stall_s)
        return started

    def link_down(self, t_s: float) -> bool:
        """True while the strap is not getting notifications through."""
        return self._dropouts.active(t_s) or self._scheduled_window(FaultKind.DROPOUT, t_s)

    def contact_lost(self, t_s: float) -> bool:
        return self._contact.active(t_s) or self._scheduled_window(FaultKind.CONTACT_LOSS, t_s)

    def battery_pct(self, t_s: float) -> int:
        drained = self.config.battery_drain_pct_per_h * (t_s - self._start_t_s) / 3600.0
        return max(0, math.ceil(self._battery_start_pct - drained))

    def distort_rr(self, t_s: float, rr_ms: list[float]) -> list[float]:
        """Beat-detection artefacts on the RR intervals of one notification.

        Both artefacts act on a pair of beats and keep its sum, so beat times rebuilt from
        the RR values stay on time after them.
        """
        out: list[float] = []
        i = 0
        # A scheduled artefact waits for a packet with a pair of beats to act on.
        scheduled = None
        if len(rr_ms) >= 2:
            scheduled = self._take_one_shot((FaultKind.ECTOPIC, FaultKind.MISSED_BEAT), t_s)
        if scheduled is not None:
            out += self._artefact(scheduled, rr_ms[0], rr_ms[1])
            i = 2
        p_ectopic = self.config.ectopic_per_beat
        p_missed = self.config.missed_beat_per_beat
        while i < len(rr_ms):
            u = self._beat_rng.random() if p_ectopic + p_missed > 0 else 1.0
            if i + 1 < len(rr_ms) and u < p_ectopic + p_missed:
                kind = FaultKind.ECTOPIC if u < p_ectopic else FaultKind.MISSED_BEAT
                out += self._artefact(kind, rr_ms[i], rr_ms[i + 1])
                i += 2
            else:
                out.append(rr_ms[i])
                i += 1
        return out

    def _artefact(self, kind: FaultKind, a_ms: float, b_ms: float) -> list[float]:
        if kind is FaultKind.MISSED_BEAT:
            return [a_ms + b_ms]
        # A premature beat comes at 55–75 % of the cycle; the full compensatory pause
        # after it makes the pair last exactly two normal cycles.
        short_ms = a_ms * self._beat_rng.uniform(0.55, 0.75)
        return [short_ms, a_ms + b_ms - short_ms]

    def corrupt(self, t_s: float, data: bytes, max_len: int) -> bytes:
        """A notification as it arrives: usually ``data`` unchanged."""
        kind = self._take_one_shot((FaultKind.TRUNCATED, FaultKind.ODD_BYTE), t_s)
        p = self.config.malformed_per_notification
        if kind is None and p > 0 and self._packet_rng.random() < p:
            kind = self._packet_rng.choice((FaultKind.TRUNCATED, FaultKind.ODD_BYTE))
        if kind is FaultKind.TRUNCATED:
            # Cut before the heart-rate field: nothing in it can be decoded.
            return data[: self._packet_rng.randint(0, 1)]
        if kind is FaultKind.ODD_BYTE:
            if len(data) >= max_len:
                return data[:-1]  # a full packet loses half an RR value instead
            return data + bytes([self._packet_rng.randrange(256)])
        return data
