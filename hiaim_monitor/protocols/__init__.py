"""Training protocols: ordered phases with target bands in % HRmax, loaded from TOML.

Presets ship as ``hiaim_monitor/protocols/*.toml``; ``load_protocol`` takes a preset name or
a path. A file is a list of ``[[steps]]``: each step is either one phase (``name``, ``kind``,
``duration_s`` or ``duration_min``, ``target_min_pct``, optional ``target_max_pct``) or a
repeated group (``repeat`` and an array ``phases`` of such tables; ``trailing_rest = false``
drops the group's last phase from its last round), or a block of short bouts (``block``:
its name, ``repeat`` N, ``work_s`` and ``rest_s``, ``target_min_pct``, optional
``target_max_pct``, ``station``, ``achieved_by`` and ``rest_name``): N × (work / rest),
expanded into phases that keep a reference to their block, since a block is judged as a
whole (heart rate lags effort by 20–60 s and never settles within a 20 s bout). Any phase or
block may name its ``station`` (bike, rower, ski, cross-trainer, step-up, or free text).

The user's own protocols (written by the protocol editor) are files in
``user_protocol_dir()``; ``load_protocol`` finds one by its key (the file stem) after the
presets, so a preset's key always means the preset.

Every table checks its keys: a misspelt key (``celing_pct``) is an error that names it and
the nearest known key, never a silently used default. What participants read has a
translation per shipped language beside it: ``name_da``, ``description_da`` (generally
``name_<lang>``); ``display_name`` gives it in the current language, else the English.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

import platformdirs

from hiaim_monitor import config
from hiaim_monitor.i18n import SOURCE_LANGUAGE, available_languages, language

DEFAULT_PROTOCOL: Final = "hi-aim"
# A work phase cut short (skipped or stopped) is judged only if its countdown ran at least
# this share of its prescribed length. Below half, most of what would be judged is the
# heart-rate ramp (HR lags the workload by 20–60 s), and the participant was not given the
# dose: "achieved" on 8 s of a 180 s phase, or "missed" on a phase the operator ended, says
# nothing about adherence. Half matches achieved_fraction's "half of the phase" reading.
MIN_JUDGED_FRACTION: Final = 0.5

Translations = tuple[tuple[str, str], ...]  # (language code, text); hashable, unlike a dict


def _in_language(english: str, translations: Translations) -> str:
    wanted = language()
    return next((text for code, text in translations if code == wanted), english)


class ProtocolError(ValueError):
    """A protocol file that cannot be used; the message names file, phase and key."""


# Stations a phase or block may name by key; any other text (up to STATION_MAX_CHARS) is shown
# as written. The English words are translated where they are shown (``station_label``).
STATIONS: Final = {
    "bike": "Exercise bike",
    "rower": "Rower",
    "ski": "Ski machine",
    "cross-trainer": "Cross-trainer",
    "step-up": "Step-up bench",
}
STATION_MAX_CHARS: Final = 40  # fits the wall header beside the phase name


def station_label(station: str) -> str:
    """What a view shows for ``station``: a known station's word in the current language,
    else the text as written ("" for none)."""
    from hiaim_monitor.i18n import tr
    return tr(STATIONS[station]) if station in STATIONS else station


class AchievedRule(StrEnum):
    """How a block of short bouts counts as achieved (``achieved_by`` in the file)."""

    PEAK = "peak"  # the block's peak % HRmax reached target_min_pct
    TIME = "time"  # time at or above target over the block >= achieved_fraction of it
    BOUTS = "bouts"  # bouts whose own peak reached target >= achieved_fraction of them


class PhaseKind(StrEnum):
    WARM_UP = "warm-up"
    INTERMEDIATE = "intermediate"
    HIGH = "high"
    RECOVERY = "recovery"
    COOL_DOWN = "cool-down"

    @property
    def is_work(self) -> bool:
        return self in (PhaseKind.INTERMEDIATE, PhaseKind.HIGH)


@dataclass(frozen=True, slots=True)
class Phase:
    name: str  # English
    kind: PhaseKind
    duration_s: float
    target_min_pct: float  # % HRmax
    target_max_pct: float | None  # % HRmax; None = up to the safety ceiling
    names: Translations = ()  # the name in other languages (name_da, ...)
    station: str = ""  # a STATIONS key or free text; "" for none
    block: int | None = None  # index into TrainingProtocol.blocks when part of a block
    bout: int = 0  # 1-based bout number within its block (its work and its rest share it)

    @property
    def display_name(self) -> str:
        """The name in the current language, else the English one."""
        return _in_language(self.name, self.names)

    @property
    def is_bout_work(self) -> bool:
        """The work part of a bout in a block of short bouts."""
        return self.block is not None and self.kind.is_work


@dataclass(frozen=True, slots=True)
class Block:
    """N × (work s / rest s) at one target, judged as a whole. Its phases are
    ``TrainingProtocol.phases[first_phase:last_phase + 1]``: work, rest, work, ... (the last
    rest is left out with ``trailing_rest = false``)."""

    index: int  # into TrainingProtocol.blocks
    name: str  # English
    kind: PhaseKind  # of the work bouts: intermediate or high
    repeat: int
    work_s: float
    rest_s: float
    target_min_pct: float  # % HRmax
    target_max_pct: float | None  # % HRmax; None = up to the safety ceiling
    achieved_by: AchievedRule
    achieved_fraction: float  # for achieved_by "time" and "bouts"
    first_phase: int
    last_phase: int  # inclusive
    station: str = ""
    names: Translations = ()

    @property
    def display_name(self) -> str:
        """The name in the current language, else the English one."""
        return _in_language(self.name, self.names)

    @property
    def phase_indices(self) -> range:
        return range(self.first_phase, self.last_phase + 1)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Class boundaries in % HRmax."""

    intermediate_pct: float = 70.0
    high_pct: float = 85.0
    ceiling_pct: float = 100.0


@dataclass(frozen=True, slots=True)
class PhasePosition:
    index: int
    phase: Phase
    elapsed_s: float  # into this phase
    remaining_s: float
    next_phase: Phase | None


@dataclass(frozen=True, slots=True)
class TrainingProtocol:
    key: str  # preset name or file stem
    name: str  # English
    description: str  # English
    phases: tuple[Phase, ...]
    thresholds: Thresholds
    ramp_allowance_s: float = 60.0  # heart rate lags the workload
    achieved_fraction: float = 0.5  # of post-ramp time in target for an interval to count
    min_judged_fraction: float = MIN_JUDGED_FRACTION  # of a phase that must run to judge it
    names: Translations = ()
    descriptions: Translations = ()
    blocks: tuple[Block, ...] = ()  # blocks of short bouts, in order

    @property
    def display_name(self) -> str:
        """The name in the current language, else the English one."""
        return _in_language(self.name, self.names)

    def block_of(self, phase_index: int) -> Block | None:
        """The block phase ``phase_index`` belongs to; None for a long phase."""
        if not 0 <= phase_index < len(self.phases):
            return None
        b = self.phases[phase_index].block
        return None if b is None else self.blocks[b]

    @property
    def display_description(self) -> str:
        """The description in the current language, else the English one."""
        return _in_language(self.description, self.descriptions)

    @property
    def total_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    @property
    def work_phases(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.kind.is_work)

    def phase_at(self, elapsed_s: float) -> PhasePosition | None:
        """Where ``elapsed_s`` seconds into the session falls; None once it is over."""
        if elapsed_s < 0:
            elapsed_s = 0.0
        start = 0.0
        for i, phase in enumerate(self.phases):
            end = start + phase.duration_s
            if elapsed_s < end:
                nxt = self.phases[i + 1] if i + 1 < len(self.phases) else None
                return PhasePosition(i, phase, elapsed_s - start, end - elapsed_s, nxt)
            start = end
        return None


def list_presets() -> list[str]:
    """Names of the protocols shipped with the app."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def user_protocol_dir() -> Path:
    """The folder of the user's own protocols (the protocol editor saves there): beside the
    session store, in the user data directory."""
    return Path(platformdirs.user_data_dir(config.APP_NAME)) / "protocols"


def list_user_protocols() -> list[str]:
    """Keys (file stems) of the user's own protocols; a file named like a preset is left
    out, since the preset's key finds the preset."""
    folder = user_protocol_dir()
    if not folder.is_dir():
        return []
    presets = set(list_presets())
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file() and p.stem not in presets)


def user_protocol_path(key: str) -> Path:
    """Where the user's protocol ``key`` is (or would be) saved."""
    return user_protocol_dir() / f"{key}.toml"


def load_protocol(name_or_path: str | Path) -> TrainingProtocol:
    """Load a preset by name, else one of the user's own protocols by key, else a TOML file
    by path."""
    text, source, key = read_protocol(name_or_path)
    return parse_protocol(text, source=source, key=key)


def read_protocol(name_or_path: str | Path) -> tuple[str, str, str]:
    """The text of what ``load_protocol`` would load, the source its messages name, and
    its key."""
    text_path = str(name_or_path)
    if text_path in list_presets():
        res = resources.files(__name__).joinpath(f"{text_path}.toml")
        return res.read_text(encoding="utf-8"), f"{text_path}.toml", text_path
    path = Path(name_or_path)
    if text_path in list_user_protocols():
        path = user_protocol_path(text_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProtocolError(f"{path}: cannot read protocol file ({exc.strerror})") from None
        return text, str(path), path.stem
    own = list_user_protocols()
    mine = f"; your own are {', '.join(own)}" if own else ""
    raise ProtocolError(
        f"unknown protocol {text_path!r}: presets are {', '.join(list_presets())}{mine}, "
        "or give the path of a .toml file"
    )


def parse_protocol(text: str, *, source: str, key: str) -> TrainingProtocol:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{source}: not valid TOML ({exc})") from None
    return _Parser(source).protocol(doc, key)


_TOP_KEYS: Final = ("name", "description", "ramp_allowance_s", "achieved_fraction",
                    "min_judged_fraction", "thresholds", "steps")
_THRESHOLD_KEYS: Final = ("intermediate_pct", "high_pct", "ceiling_pct")
_PHASE_KEYS: Final = ("name", "kind", "duration_s", "duration_min", "target_min_pct",
                      "target_max_pct", "station")
_GROUP_KEYS: Final = ("repeat", "phases", "trailing_rest")
_BLOCK_KEYS: Final = ("block", "kind", "repeat", "work_s", "rest_s", "target_min_pct",
                      "target_max_pct", "station", "achieved_by", "achieved_fraction",
                      "rest_name", "trailing_rest")
# each may have a <key>_<lang> twin
_TRANSLATED_KEYS: Final = ("name", "description", "block", "rest_name")


def _translated(keys: tuple[str, ...]) -> tuple[str, ...]:
    """``keys`` and the ``<key>_<lang>`` translation of each translatable one."""
    langs = [code for code in available_languages() if code != SOURCE_LANGUAGE]
    return keys + tuple(f"{k}_{code}" for k in keys if k in _TRANSLATED_KEYS for code in langs)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, key: str, problem: str) -> ProtocolError:
        return ProtocolError(f"{self.source}: {where}, key '{key}': {problem}")

    def known_keys(self, table: dict[str, Any], known: tuple[str, ...], where: str, *,
                   also_suggest: tuple[str, ...] = (),
                   elsewhere: tuple[tuple[tuple[str, ...], str], ...] = ()) -> None:
        """Refuse a key this table does not use: a typo must not leave a default (the
        safety ceiling, a target band) silently in force. ``elsewhere`` pairs keys that
        belong to another table with where to put them."""
        allowed = _translated(known)
        for key in table:
            if key in allowed:
                continue
            for keys, place in elsewhere:
                if key in keys:
                    raise self.fail(where, key, f"not used here; put it {place}")
            stem, _, code = key.rpartition("_")
            if stem in _TRANSLATED_KEYS and stem in known and code.isalpha():
                langs = ", ".join(f"{stem}_{c}" for c in available_languages()
                                  if c != SOURCE_LANGUAGE)
                raise self.fail(where, key, f"unknown key; the app has no language {code!r} "
                                f"(translations: {langs})")
            close = difflib.get_close_matches(key, allowed + also_suggest, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"known keys are {', '.join(allowed)}")
            raise self.fail(where, key, f"unknown key; {hint}")

    def translations(self, table: dict[str, Any], key: str, where: str) -> Translations:
        out = []
        for code in available_languages():
            text = table.get(f"{key}_{code}")
            if text is None or code == SOURCE_LANGUAGE:
                continue
            if not isinstance(text, str) or not text.strip():
                raise self.fail(where, f"{key}_{code}", "expected a text")
            out.append((code, text.strip()))
        return tuple(out)

    def number(self, table: dict[str, Any], key: str, where: str, *, default: Any = None,
               lo: float | None = None, hi: float | None = None) -> float:
        if key not in table:
            if default is None:
                raise self.fail(where, key, "missing")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, key, f"expected a number, got {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(where, key, f"{value} is outside {lo:g}–{hi:g}")
        return float(value)

    def protocol(self, doc: dict[str, Any], key: str) -> TrainingProtocol:
        self.known_keys(doc, _TOP_KEYS, "top level", elsewhere=(
            (_THRESHOLD_KEYS, "under [thresholds]"),
            (_PHASE_KEYS + _GROUP_KEYS, "in a [[steps]] table")))
        name = doc.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail("top level", "name", "missing or not a text")
        th = doc.get("thresholds", {})
        if not isinstance(th, dict):
            raise self.fail("top level", "thresholds", "expected a table")
        self.known_keys(th, _THRESHOLD_KEYS, "[thresholds]")
        thresholds = Thresholds(
            intermediate_pct=self.number(th, "intermediate_pct", "[thresholds]",
                                         default=70.0, lo=30, hi=120),
            high_pct=self.number(th, "high_pct", "[thresholds]", default=85.0, lo=30, hi=120),
            ceiling_pct=self.number(th, "ceiling_pct", "[thresholds]",
                                    default=100.0, lo=30, hi=130),
        )
        if not (thresholds.intermediate_pct < thresholds.high_pct <= thresholds.ceiling_pct):
            raise self.fail("[thresholds]", "high_pct",
                            "need intermediate_pct < high_pct ≤ ceiling_pct")
        steps = doc.get("steps")
        if not isinstance(steps, list) or not steps:
            raise self.fail("top level", "steps", "missing: a protocol needs [[steps]]")
        self.thresholds = thresholds
        phases: list[Phase] = []
        blocks: list[Block] = []
        for i, step in enumerate(steps, start=1):
            where = f"step {i}"
            if not isinstance(step, dict):
                raise self.fail(where, "steps", "expected a table")
            if "block" in step:
                block, bouts = self.block(step, where, len(blocks), len(phases),
                                          doc.get("achieved_fraction", 0.5))
                blocks.append(block)
                phases += bouts
            elif "repeat" in step:
                phases += self.group(step, where)
            else:
                phases.append(self.phase(step, where, also_suggest=("repeat", "block")))
        description = doc.get("description", "")
        if not isinstance(description, str):
            raise self.fail("top level", "description", "expected a text")
        return TrainingProtocol(
            key=key,
            name=name.strip(),
            description=description.strip(),
            phases=tuple(phases),
            thresholds=thresholds,
            ramp_allowance_s=self.number(doc, "ramp_allowance_s", "top level",
                                         default=60.0, lo=0, hi=600),
            achieved_fraction=self.number(doc, "achieved_fraction", "top level",
                                          default=0.5, lo=0, hi=1),
            min_judged_fraction=self.number(doc, "min_judged_fraction", "top level",
                                            default=MIN_JUDGED_FRACTION, lo=0, hi=1),
            names=self.translations(doc, "name", "top level"),
            descriptions=self.translations(doc, "description", "top level"),
            blocks=tuple(blocks),
        )

    def station(self, table: dict[str, Any], where: str) -> str:
        value = table.get("station", "")
        if not isinstance(value, str):
            raise self.fail(where, "station", f"expected a text, got {value!r}")
        value = value.strip()
        if len(value) > STATION_MAX_CHARS:
            raise self.fail(where, "station", f"{len(value)} characters is too long (at most "
                            f"{STATION_MAX_CHARS}; known stations are {', '.join(STATIONS)})")
        return value

    def targets(self, table: dict[str, Any], where: str) -> tuple[float, float | None]:
        """target_min_pct and the optional target_max_pct, checked against each other and
        against the safety ceiling (a target the ceiling alarm would sound inside of is a
        prescription no one can follow)."""
        ceiling = self.thresholds.ceiling_pct
        lo = self.number(table, "target_min_pct", where, lo=0, hi=130)
        if lo >= ceiling:
            raise self.fail(where, "target_min_pct",
                            f"{lo:g} is not below the safety ceiling ceiling_pct {ceiling:g}")
        hi = None
        if "target_max_pct" in table:
            hi = self.number(table, "target_max_pct", where, lo=0, hi=130)
            if hi <= lo:
                raise self.fail(where, "target_max_pct",
                                f"{hi:g} is not above target_min_pct {lo:g}")
            if hi > ceiling:
                raise self.fail(where, "target_max_pct",
                                f"{hi:g} is above the safety ceiling ceiling_pct {ceiling:g}")
        return lo, hi

    def positive_s(self, table: dict[str, Any], key: str, where: str) -> float:
        value = self.number(table, key, where, lo=-math.inf, hi=3600)
        if value <= 0:
            raise self.fail(where, key, f"{value:g} s: must be above 0")
        return value

    def block(self, step: dict[str, Any], where: str, index: int, first_phase: int,
              default_fraction: Any) -> tuple[Block, list[Phase]]:
        name = step.get("block")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(where, "block", "expected the block's name as a text")
        where = f"{where} ({name.strip()})"
        self.known_keys(step, _BLOCK_KEYS, where, elsewhere=(
            (("phases", "duration_s", "duration_min"),
             "in a step with repeat = N and phases (a block has work_s and rest_s)"),
            (_THRESHOLD_KEYS, "under [thresholds]")))
        repeat = step.get("repeat")
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 100:
            raise self.fail(where, "repeat", f"expected a whole number 1–100, got {repeat!r}")
        kind_text = step.get("kind", PhaseKind.HIGH.value)
        try:
            kind = PhaseKind(kind_text)
        except ValueError:
            kind = None
        if kind is None or not kind.is_work:
            raise self.fail(where, "kind", f"{kind_text!r} is not one of intermediate, high")
        work_s = self.positive_s(step, "work_s", where)
        rest_s = self.positive_s(step, "rest_s", where)
        lo, hi = self.targets(step, where)
        rule_text = step.get("achieved_by", AchievedRule.PEAK.value)
        try:
            rule = AchievedRule(rule_text)
        except ValueError:
            rules = ", ".join(r.value for r in AchievedRule)
            raise self.fail(where, "achieved_by", f"{rule_text!r} is not one of {rules}") from None
        # The protocol's own achieved_fraction is checked where the top level is.
        ok = isinstance(default_fraction, int | float) and 0 <= default_fraction <= 1
        fraction = self.number(step, "achieved_fraction", where,
                               default=float(default_fraction) if ok else 0.5, lo=0, hi=1)
        trailing_rest = step.get("trailing_rest", True)
        if not isinstance(trailing_rest, bool):
            raise self.fail(where, "trailing_rest", "expected true or false")
        station = self.station(step, where)
        rest_name = step.get("rest_name", "Rest")
        if not isinstance(rest_name, str) or not rest_name.strip():
            raise self.fail(where, "rest_name", "expected a text")
        names = self.translations(step, "block", where)
        rest_names = self.translations(step, "rest_name", where)
        if "rest_name" not in step:
            rest_names = _REST_NAMES
        phases: list[Phase] = []
        for bout in range(1, repeat + 1):
            suffix = f" {bout}/{repeat}" if repeat > 1 else ""
            phases.append(Phase(name.strip() + suffix, kind, work_s, lo, hi,
                                tuple((c, t + suffix) for c, t in names), station, index, bout))
            if bout < repeat or trailing_rest:
                phases.append(Phase(rest_name.strip() + suffix, PhaseKind.RECOVERY, rest_s, 0.0,
                                    None, tuple((c, t + suffix) for c, t in rest_names),
                                    station, index, bout))
        block = Block(index, name.strip(), kind, repeat, work_s, rest_s, lo, hi, rule, fraction,
                      first_phase, first_phase + len(phases) - 1, station, names)
        return block, phases

    def group(self, step: dict[str, Any], where: str) -> list[Phase]:
        self.known_keys(step, _GROUP_KEYS, where, elsewhere=(
            (_translated(_PHASE_KEYS), "in each of the group's phases"),))
        repeat = step["repeat"]
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 100:
            raise self.fail(where, "repeat", f"expected a whole number 1–100, got {repeat!r}")
        inner = step.get("phases")
        if not isinstance(inner, list) or not inner:
            raise self.fail(where, "phases", "a repeated step needs a list of phases")
        trailing_rest = step.get("trailing_rest", True)
        if not isinstance(trailing_rest, bool):
            raise self.fail(where, "trailing_rest", "expected true or false")
        one_round = [self.phase(p, f"{where}, phase {j}") for j, p in enumerate(inner, start=1)]
        out: list[Phase] = []
        for r in range(repeat):
            last = r == repeat - 1
            round_phases = one_round[:-1] if last and not trailing_rest else one_round
            out += [_numbered(p, r + 1, repeat) for p in round_phases]
        return out

    def phase(self, table: Any, where: str, *, also_suggest: tuple[str, ...] = ()) -> Phase:
        if not isinstance(table, dict):
            raise self.fail(where, "phases", "expected a table")
        name = table.get("name")
        named = f"{where} ({name.strip()})" if isinstance(name, str) and name.strip() else where
        self.known_keys(table, _PHASE_KEYS, named, also_suggest=also_suggest, elsewhere=(
            (_GROUP_KEYS, "in a step with repeat = N"),
            (_THRESHOLD_KEYS, "under [thresholds]")))
        if not isinstance(name, str) or not name.strip():
            raise self.fail(where, "name", "missing or not a text")
        where = named
        kind_text = table.get("kind")
        try:
            kind = PhaseKind(kind_text)
        except ValueError:
            kinds = ", ".join(k.value for k in PhaseKind)
            raise self.fail(where, "kind", f"{kind_text!r} is not one of {kinds}") from None
        if "duration_s" in table:
            duration_s = self.number(table, "duration_s", where, lo=1, hi=4 * 3600)
        elif "duration_min" in table:
            duration_s = 60 * self.number(table, "duration_min", where, lo=1 / 60, hi=240)
        else:
            raise self.fail(where, "duration_s", "missing (or give duration_min)")
        lo, hi = self.targets(table, where)
        return Phase(name.strip(), kind, duration_s, lo, hi,
                     self.translations(table, "name", where), self.station(table, where))


def _numbered(phase: Phase, round_no: int, rounds: int) -> Phase:
    if rounds == 1:
        return phase
    suffix = f" {round_no}/{rounds}"
    return dataclasses.replace(
        phase, name=phase.name + suffix,
        names=tuple((code, text + suffix) for code, text in phase.names))


# The rest phases' name in a block that gives no rest_name of its own.
_REST_NAMES: Final = (("da", "Pause"),)
