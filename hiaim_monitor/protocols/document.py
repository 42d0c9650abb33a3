"""A protocol file as the protocol editor changes it: the file's own tables (top level,
``[thresholds]``, the ``[[steps]]`` in order: a phase, a repeated group of phases or a block
of short bouts), kept as written (a block stays one step; the expanded phases are never
saved), and written back as TOML.

There is no second set of rules here. ``validate`` writes the document and hands the text to
the file loader (``parse_protocol``), so the editor says exactly what a bad file would, and
``FieldError`` reads the step, phase and key back out of the loader's sentence for the field
that shows it. Keys the editor has no field for (``rest_name``, translations, a key written
by hand) travel along untouched. Comments are lost, except the lines that head the file
(where the presets cite their sources), which a copy keeps.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import tomli_w

from hiaim_monitor.i18n import SOURCE_LANGUAGE, available_languages, tr_in
from hiaim_monitor.protocols import (
    _BLOCK_KEYS,
    _GROUP_KEYS,
    _PHASE_KEYS,
    _THRESHOLD_KEYS,
    _TOP_KEYS,
    _TRANSLATED_KEYS,
    ProtocolError,
    TrainingProtocol,
    list_presets,
    parse_protocol,
    read_protocol,
    user_protocol_dir,
    user_protocol_path,
)

Value = str | int | float | bool  # what a TOML key of a protocol file holds
KEY_MAX_CHARS: Final = 40  # a user protocol's key (its file stem), made from its name
COPY_SUFFIX: Final = "{name} (copy)"  # a duplicate's name, in each language of the file


class StepKind(StrEnum):
    PHASE = "phase"
    GROUP = "group"  # repeat = N, phases = [...]
    BLOCK = "block"  # block = "...", repeat, work_s, rest_s


@dataclass
class Table:
    """One TOML table of the file: its keys in the order written. Setting a key to None or
    "" leaves it out of the file (an optional key takes its default, a required one is
    reported missing by the loader)."""

    values: dict[str, Value] = field(default_factory=dict)

    def get(self, key: str, default: Value | None = None) -> Value | None:
        return self.values.get(key, default)

    def set(self, key: str, value: Value | None) -> None:
        if value is None or value == "":
            self.values.pop(key, None)
        else:
            self.values[key] = value


@dataclass
class Step(Table):
    """One ``[[steps]]`` table. A group's own keys (repeat, trailing_rest) are in
    ``values`` and its phases in ``phases``."""

    kind: StepKind = StepKind.PHASE
    phases: list[Table] = field(default_factory=list)

    def set(self, key: str, value: Value | None) -> None:
        # The loader knows a block by its "block" key and a group by its "repeat": cleared,
        # they stay (as "") so the step keeps its kind and the loader names the field.
        marker = {StepKind.BLOCK: "block", StepKind.GROUP: "repeat"}.get(self.kind)
        if key == marker and (value is None or value == ""):
            self.values[key] = ""
        else:
            super().set(key, value)

    def as_toml(self) -> dict[str, Any]:
        if self.kind is StepKind.GROUP:
            return {**_ordered(self.values, _GROUP_KEYS),
                    "phases": [_ordered(p.values, _PHASE_KEYS) for p in self.phases]}
        known = _BLOCK_KEYS if self.kind is StepKind.BLOCK else _PHASE_KEYS
        return _ordered(self.values, known)


@dataclass
class ProtocolDocument:
    """A protocol file, editable. ``top``: the top level's keys (name, description, their
    translations, ramp_allowance_s, achieved_fraction, ...)."""

    top: Table = field(default_factory=Table)
    thresholds: Table = field(default_factory=Table)
    steps: list[Step] = field(default_factory=list)
    header: str = ""  # the comment lines heading the file, kept in a copy

    # -- reading and writing ------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, *, source: str) -> ProtocolDocument:
        """The document a protocol file's text holds. ProtocolError (one sentence naming
        ``source``) when it is not TOML or its steps are not tables; anything else wrong is
        the loader's to say, in the editor."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProtocolError(f"{source}: not valid TOML ({exc})") from None
        raw_steps = doc.pop("steps", [])
        thresholds = doc.pop("thresholds", {})
        if not isinstance(raw_steps, list):
            raise ProtocolError(f"{source}: top level, key 'steps': expected [[steps]] tables")
        if not isinstance(thresholds, dict):
            raise ProtocolError(f"{source}: top level, key 'thresholds': expected a table")
        steps = [_step(raw, f"{source}: step {i}")
                 for i, raw in enumerate(raw_steps, start=1)]
        return cls(Table(dict(doc)), Table(dict(thresholds)), steps, _header(text))

    @classmethod
    def load(cls, key_or_path: str | Path) -> ProtocolDocument:
        """The document of what ``load_protocol`` would load: a preset (by name), a user
        protocol (by key) or a file."""
        text, source, _ = read_protocol(key_or_path)
        return cls.from_text(text, source=source)

    def as_toml(self) -> dict[str, Any]:
        """The file as TOML tables, keys in the loader's order (unknown ones last)."""
        doc: dict[str, Any] = _ordered(self.top.values, _TOP_KEYS)
        if self.thresholds.values:
            doc["thresholds"] = _ordered(self.thresholds.values, _THRESHOLD_KEYS)
        doc["steps"] = [s.as_toml() for s in self.steps]
        return doc

    def to_text(self) -> str:
        return self.header + tomli_w.dumps(self.as_toml())

    def validate(self, key: str) -> TrainingProtocol | FieldError:
        """The protocol the file loader makes of this document saved as ``key``, or the
        loader's refusal, pointed at its field."""
        source = f"{key}.toml"
        try:
            return parse_protocol(self.to_text(), source=source, key=key)
        except ProtocolError as err:
            return FieldError.from_message(str(err), source)

    def duplicate(self) -> ProtocolDocument:
        """A copy to change: the same steps, named "<name> (copy)" in each language."""
        copy = ProtocolDocument.from_text(self.to_text(), source="copy")
        for lang in available_languages():
            name_key = "name" if lang == SOURCE_LANGUAGE else f"name_{lang}"
            name = copy.top.get(name_key)
            if isinstance(name, str) and name.strip():
                copy.top.set(name_key, tr_in(lang, COPY_SUFFIX).format(name=name.strip()))
        return copy


def _named(english: str, key: str = "name") -> dict[str, Value]:
    """``key`` = ``english`` and its translation in each shipped language."""
    out: dict[str, Value] = {key: english}
    for lang in available_languages():
        if lang != SOURCE_LANGUAGE and (text := tr_in(lang, english)) != english:
            out[f"{key}_{lang}"] = text
    return out


def new_document() -> ProtocolDocument:
    """Where a new protocol starts: the default class limits, a 5 min warm-up and a 5 min
    cool-down, and no name yet (the editor asks for one)."""
    return ProtocolDocument(
        Table({}),
        Table({"intermediate_pct": 70, "high_pct": 85, "ceiling_pct": 100}),
        [Step({**_named("Warm-up"), "kind": "warm-up", "duration_min": 5,
               "target_min_pct": 50, "target_max_pct": 70}),
         Step({**_named("Cool-down"), "kind": "cool-down", "duration_min": 5,
               "target_min_pct": 40, "target_max_pct": 65})])


def new_step(kind: StepKind) -> Step:
    """A step to add: a 4 min high phase, 4 rounds of 4 min interval / 3 min recovery, or
    10 x 20 s / 20 s; a phase or block still to be named."""
    if kind is StepKind.GROUP:
        return Step({"repeat": 4}, kind, [
            Table({**_named("Interval"), "kind": "high", "duration_min": 4,
                   "target_min_pct": 85, "target_max_pct": 95}),
            Table({**_named("Recovery"), "kind": "recovery", "duration_min": 3,
                   "target_min_pct": 50, "target_max_pct": 70})])
    if kind is StepKind.BLOCK:
        return Step({"block": "", "repeat": 10, "work_s": 20, "rest_s": 20,
                     "target_min_pct": 85}, kind)
    return Step({"name": "", "kind": "high", "duration_min": 4, "target_min_pct": 85}, kind)


def new_phase() -> Table:
    """A phase to add to a repeated group: 3 min of recovery, still to be named."""
    return Table({"name": "", "kind": "recovery", "duration_min": 3, "target_min_pct": 50,
                  "target_max_pct": 70})


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise ProtocolError(f"{where}, key 'steps': expected a table")
    if "block" in raw:
        return Step(dict(raw), StepKind.BLOCK)
    if "repeat" in raw:
        inner = raw.pop("phases", [])
        if not isinstance(inner, list) or not all(isinstance(p, dict) for p in inner):
            raise ProtocolError(f"{where}, key 'phases': expected a list of phase tables")
        return Step(dict(raw), StepKind.GROUP, [Table(dict(p)) for p in inner])
    return Step(dict(raw), StepKind.PHASE)


def _ordered(values: dict[str, Value], known: tuple[str, ...]) -> dict[str, Value]:
    """``values`` with the known keys first in ``known``'s order, each followed by its
    translations (name, name_da, ...), then anything else as written."""
    out: dict[str, Value] = {}
    for key in known:
        if key in values:
            out[key] = values[key]
        if key in _TRANSLATED_KEYS:
            out.update((k, v) for k, v in values.items() if k.startswith(f"{key}_")
                       and k.removeprefix(f"{key}_").isalpha() and k not in known)
    out.update((k, v) for k, v in values.items() if k not in out)
    return out


def _header(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines) + ("\n" if lines else "")


# -- the loader's sentence, pointed at a field ------------------------------------------
_WHERE = re.compile(r"^(?:(?P<top>top level)|(?P<thresholds>\[thresholds\])|step (?P<step>\d+)"
                    r"(?:, phase (?P<phase>\d+))?(?: \(.*?\))?), key '(?P<key>[^']*)': "
                    r"(?P<problem>.*)$", re.DOTALL)


class Place(StrEnum):
    TOP = "top"
    THRESHOLDS = "thresholds"
    STEP = "step"
    FILE = "file"  # the message names no field


@dataclass(frozen=True, slots=True)
class FieldError:
    """The loader's refusal of a document: its whole sentence and the field it names."""

    message: str  # the loader's one line, as a bad file would get it
    problem: str  # the part after the key: what to show beside the field
    place: Place
    key: str = ""  # the file's key ("" when none is named)
    step: int | None = None  # 0-based index into ProtocolDocument.steps
    phase: int | None = None  # 0-based index into a group's phases

    @classmethod
    def from_message(cls, message: str, source: str) -> FieldError:
        where = message.removeprefix(f"{source}: ")
        match = _WHERE.match(where)
        if match is None:
            return cls(message, where, Place.FILE)
        if match["top"]:
            place = Place.TOP
        elif match["thresholds"]:
            place = Place.THRESHOLDS
        else:
            place = Place.STEP
        step = int(match["step"]) - 1 if match["step"] else None
        phase = int(match["phase"]) - 1 if match["phase"] else None
        return cls(message, match["problem"], place, match["key"], step, phase)


# -- what the editor's fields hold ------------------------------------------------------
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def value_from_text(text: str) -> Value | None:
    """What a number field holds: an int or a float (a decimal comma is read as a point),
    None when empty, else the text as typed, so the loader refuses it in its own words
    ("expected a number, got 'abc'")."""
    text = text.strip()
    if not text:
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text.replace(",", "."))
    return text


def text_from_value(value: Value | None) -> str:
    """How a number field shows a file's value (5.0 as "5")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- the user's own protocols -----------------------------------------------------------
_FOLDED: Final = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss"})


def key_for(name: str, *, taken: Iterable[str] = ()) -> str:
    """A file stem made from a protocol's name ("Our 4x4" → "our-4x4"), different from every
    preset's and from ``taken`` (the user's other protocols)."""
    text = unicodedata.normalize("NFKD", name.lower().translate(_FOLDED))
    text = "".join(c for c in text if not unicodedata.combining(c))
    stem = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:KEY_MAX_CHARS].strip("-") or "protocol"
    used = set(list_presets()) | set(taken)
    key, n = stem, 1
    while key in used:
        n += 1
        key = f"{stem}-{n}"
    return key


def save_user_protocol(document: ProtocolDocument, key: str) -> Path:
    """Write ``document`` as the user's protocol ``key``; returns the file. ProtocolError
    when ``key`` is a preset's (presets are read-only: duplicate to change), when the
    document does not load (the loader's sentence) or the file cannot be written."""
    if not key or Path(key).name != key or key.startswith("."):
        raise ProtocolError(f"{key!r}: not a protocol's key; give a name without folders")
    if key in list_presets():
        raise ProtocolError(f"{key}: a preset's name; presets are read-only, save the copy "
                            "under another name")
    checked = document.validate(key)
    if isinstance(checked, FieldError):
        raise ProtocolError(checked.message)
    path = user_protocol_path(key)
    try:
        user_protocol_dir().mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(document.to_text(), encoding="utf-8")
        tmp.replace(path)  # a crash mid-write never leaves half a protocol
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot write protocol file ({exc.strerror})") from None
    return path
