"""Why a strap is in its state: a stable code the drivers send with a ``StrapStatus``
(``StrapNote``), and the one sentence the operator reads for it.

The sentences live here, not in the drivers, so each is written once and translated whole:
``english()`` is what is stored and logged, ``translated()`` what a window shows. A sentence
that names a number or an adapter is a template with a named placeholder, never English
glued around a value, so a translation can put the value where its grammar wants it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from hiaim_monitor import i18n


class StrapReason(Enum):
    """The codes; the values a sentence names are listed after each."""

    LINK_DROPPED = "link_dropped"  # the stack said the link is gone
    LINK_SILENT = "link_silent"  # connected, but no heart rate for a while
    NOT_ADVERTISING = "not_advertising"  # unreachable for a while: not worn, or held by a phone
    NOT_A_HEART_RATE_STRAP = "not_a_heart_rate_strap"  # connected, but no 0x2A37
    NO_FREE_CONNECTION = "no_free_connection"  # adapters, straps (their capacity)
    NO_ADAPTER = "no_adapter"  # adapter ("" when the stack names none)
    BLUETOOTH_OFF = "bluetooth_off"  # adapter ("" when the stack names none)
    BLUETOOTH_DENIED = "bluetooth_denied"
    BLUETOOTH_UNAVAILABLE = "bluetooth_unavailable"
    NOT_SIMULATED = "not_simulated"  # a strap id the simulated class has not got
    BATTERY_EMPTY = "battery_empty"
    NO_DATA = "no_data"  # seconds without data (simulated straps)
    SIMULATION_FAILED = "simulation_failed"  # error: the exception's own text
    BROADCAST_ONLY = "broadcast_only"  # heard by its advertisements: heart rate, no RR
    LISTENING = "listening"  # waiting to hear a Polar strap's advertised heart rate
    UNCHANGING_BROADCAST = "unchanging_broadcast"  # bpm, seconds: one value, likely unworn
    NO_ANT_STICK = "no_ant_stick"  # no ANT USB stick (of those asked for) plugged in
    ANT_STICK_LOST = "ant_stick_lost"  # stick (its serial number): unplugged or failing
    ANT_STICK_DENIED = "ant_stick_denied"  # stick: the system refused access to it
    ANT_SILENT = "ant_silent"  # seconds without a page from a watched ANT+ strap


Value = str | int | float


@dataclass(frozen=True, slots=True)
class StrapNote:
    reason: StrapReason
    values: tuple[tuple[str, Value], ...] = ()  # what the sentence's placeholders name

    @classmethod
    def of(cls, reason: StrapReason, **values: Value) -> StrapNote:
        return cls(reason, tuple(sorted(values.items())))

    def english(self) -> str:
        """The sentence in English: what storage keeps and logs print."""
        return _sentence(self.reason, dict(self.values), _as_written)

    def translated(self) -> str:
        """The sentence in the current language (``hiaim_monitor.i18n``)."""
        return _sentence(self.reason, dict(self.values), i18n.tr)


def shown_detail(note: StrapNote | None, detail: str) -> str:
    """What the operator reads about a strap: the note in the current language; without one,
    the plain sentence, translated when the catalogs have it."""
    if note is not None:
        return note.translated()
    return i18n.tr(detail) if detail else ""


def _as_written(text: str) -> str:
    return text


def _sentence(reason: StrapReason, values: Mapping[str, Value],
              tr: Callable[[str], str]) -> str:
    # ``tr`` is i18n.tr, or the identity for English; its name lets the catalog check
    # (tests/core/test_translations.py) find every template below.
    return _template(reason, values, tr).format(**values)


def _template(reason: StrapReason, values: Mapping[str, Value],
              tr: Callable[[str], str]) -> str:
    match reason:
        case StrapReason.LINK_DROPPED:
            return tr("Connection lost: reconnecting.")
        case StrapReason.LINK_SILENT:
            return tr("Connected, but the strap sent no heart rate: reconnecting.")
        case StrapReason.NOT_ADVERTISING:
            return tr("Strap not advertising — is it worn, and not held by a phone? "
                      "(a Polar H10 allows a second connection only when enabled in "
                      "Polar's app)")
        case StrapReason.NOT_A_HEART_RATE_STRAP:
            return tr("This device sends no heart rate: pair a heart-rate strap instead.")
        case StrapReason.NO_FREE_CONNECTION:
            if values["adapters"] == 1:
                return tr("No free Bluetooth connection for this strap: 1 Bluetooth adapter "
                          "holds at most {straps} straps, so plug in another adapter and "
                          "add it.")
            return tr("No free Bluetooth connection for this strap: {adapters} Bluetooth "
                      "adapters hold at most {straps} straps, so plug in another adapter "
                      "and add it.")
        case StrapReason.NO_ADAPTER:
            if values.get("adapter"):
                return tr("No Bluetooth adapter {adapter}: plug one in, or check that the "
                          "Bluetooth service is running.")
            return tr("No Bluetooth adapter: plug one in, or check that the Bluetooth "
                      "service is running.")
        case StrapReason.BLUETOOTH_OFF:
            if values.get("adapter"):
                return tr("Bluetooth is off on {adapter}: turn it on in the system settings.")
            return tr("Bluetooth is off: turn it on in the system settings.")
        case StrapReason.BLUETOOTH_DENIED:
            return tr("Bluetooth access was denied: allow this program to use Bluetooth.")
        case StrapReason.BLUETOOTH_UNAVAILABLE:
            return tr("Bluetooth is not available: check that it is on and usable.")
        case StrapReason.NOT_SIMULATED:
            return tr("This strap is not one of the simulated class's straps: pick one from "
                      "the nearby list.")
        case StrapReason.BATTERY_EMPTY:
            return tr("The strap's battery is empty: replace it.")
        case StrapReason.NO_DATA:
            return tr("No data for {seconds:g} s: reconnecting.")
        case StrapReason.SIMULATION_FAILED:
            return tr("Simulation failed: {error}")
        case StrapReason.BROADCAST_ONLY:
            return tr("No free Bluetooth connection: heard by its broadcast, heart rate only "
                      "(no RR); it connects when a connection frees up.")
        case StrapReason.LISTENING:
            return tr("No free Bluetooth connection: listening for the strap's broadcast "
                      "heart rate.")
        case StrapReason.UNCHANGING_BROADCAST:
            return tr("The strap has broadcast {bpm} bpm without a change for {seconds:g} s: "
                      "it is probably not worn.")
        case StrapReason.NO_ANT_STICK:
            return tr("No ANT USB stick found: plug in an ANTUSB2 or ANTUSB-m stick (on "
                      "Windows install the WinUSB driver for it with Zadig; on Linux add the "
                      "udev rule in the README).")
        case StrapReason.ANT_STICK_LOST:
            return tr("The ANT USB stick {stick} was unplugged or stopped answering: plug it "
                      "back in; its straps come back by themselves.")
        case StrapReason.ANT_STICK_DENIED:
            return tr("The ANT USB stick {stick} may not be opened: on Linux add the udev "
                      "rule in the README, on Windows install the WinUSB driver with Zadig.")
        case StrapReason.ANT_SILENT:
            return tr("No ANT+ page from this strap for {seconds:g} s: is it worn, and near "
                      "the ANT stick?")
    raise AssertionError(f"no sentence for {reason}")
