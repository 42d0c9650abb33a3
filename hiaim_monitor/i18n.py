"""Translation of what users read. English is the source language; each other language is a
TOML catalog ``hiaim_monitor/locale/<code>.toml`` mapping the English text to its
translation, plus any ``hiaim_monitor/locale/<code>/*.toml`` (one per part of the app, so
each part keeps its own strings). A missing entry falls back to English, never to an error.

The language comes from ``set_language`` (the ``--lang`` option), else ``HIAIM_LANG``, else
the system locale.
"""

from __future__ import annotations

import locale
import os
import tomllib
from functools import cache
from importlib import resources
from typing import Final

SOURCE_LANGUAGE: Final = "en"
_current: str | None = None


def available_languages() -> list[str]:
    files = resources.files("hiaim_monitor.locale").iterdir()
    return sorted([SOURCE_LANGUAGE] + [f.name[:-5] for f in files if f.name.endswith(".toml")])


def _system_language() -> str:
    for var in ("HIAIM_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.split("_")[0].split(".")[0].lower()
    code = locale.getlocale()[0] or SOURCE_LANGUAGE
    return code.split("_")[0].lower()


def set_language(code: str | None) -> str:
    """Choose the language (None: from the environment); returns the one in use."""
    global _current
    wanted = (code or _system_language()).lower()
    _current = wanted if wanted in available_languages() else SOURCE_LANGUAGE
    return _current


def language() -> str:
    return _current if _current is not None else set_language(None)


@cache
def _catalog(code: str) -> dict[str, str]:
    if code == SOURCE_LANGUAGE:
        return {}
    folder = resources.files("hiaim_monitor.locale")
    catalog = tomllib.loads(folder.joinpath(f"{code}.toml").read_text(encoding="utf-8"))
    parts = folder.joinpath(code)
    if parts.is_dir():
        for part in sorted(parts.iterdir(), key=lambda f: f.name):
            if part.name.endswith(".toml"):
                catalog.update(tomllib.loads(part.read_text(encoding="utf-8")))
    return catalog


def tr(text: str) -> str:
    """``text`` in the current language."""
    return tr_in(language(), text)


def tr_in(code: str, text: str) -> str:
    """``text`` in language ``code`` (for a file written for every language at once)."""
    return _catalog(code).get(text, text)
