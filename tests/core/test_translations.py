"""Every sentence a user can see has its Danish translation."""

import ast
from pathlib import Path

import pytest

from hiaim_monitor import i18n

ROOT = Path(__file__).resolve().parents[2]


def translated_literals():
    """Every string literal passed straight to tr() in the app's code."""
    for package in ("hiaim_monitor", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "tr" and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    yield path.relative_to(ROOT), node.lineno, node.args[0].value


def test_the_code_has_translated_strings_to_check():
    assert len(list(translated_literals())) > 50


@pytest.mark.parametrize("language", ["da"])
def test_every_translated_string_has_a_danish_entry(language):
    catalog = i18n._catalog(language)
    missing = [f"{path}:{line}: {text!r}" for path, line, text in translated_literals()
               if text not in catalog]
    assert not missing, "no Danish for:\n" + "\n".join(missing)


def test_placeholders_survive_translation():
    catalog = i18n._catalog("da")
    import string

    fields = string.Formatter()
    for english, danish in catalog.items():
        want = {f for _, f, _, _ in fields.parse(english) if f}
        got = {f for _, f, _, _ in fields.parse(danish) if f}
        assert want == got, f"{english!r} → {danish!r}"
