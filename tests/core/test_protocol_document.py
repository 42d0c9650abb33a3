"""The protocol editor's document: a protocol file kept as written, written back as TOML,
checked by the file loader itself, and saved among the user's own protocols."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hiaim_monitor.protocols import (
    STATION_MAX_CHARS,
    ProtocolError,
    list_presets,
    list_user_protocols,
    load_protocol,
    parse_protocol,
    user_protocol_dir,
    user_protocol_path,
)
from hiaim_monitor.protocols.document import (
    FieldError,
    Place,
    ProtocolDocument,
    StepKind,
    key_for,
    new_document,
    new_step,
    save_user_protocol,
    text_from_value,
    value_from_text,
)


@pytest.fixture(autouse=True)
def own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's protocol folder of this test alone (platformdirs reads XDG_DATA_HOME)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return user_protocol_dir()


def refusal(text: str, source: str) -> str:
    """What the file loader says about ``text``."""
    with pytest.raises(ProtocolError) as err:
        parse_protocol(text, source=source, key="k")
    return str(err.value)


@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_written_back_loads_as_the_same_protocol(preset):
    document = ProtocolDocument.load(preset)
    text = document.to_text()
    assert parse_protocol(text, source=f"{preset}.toml", key=preset) == load_protocol(preset)
    # The structure is the file's, not the expanded phases: a block stays one step.
    written = tomllib.loads(text)
    original = tomllib.loads(Path(f"hiaim_monitor/protocols/{preset}.toml")
                             .read_text(encoding="utf-8"))
    assert written == original
    assert document.validate(preset) == load_protocol(preset)


def test_a_written_file_keeps_its_heading_comment_and_translations():
    text = ProtocolDocument.load("hi-aim").to_text()
    assert text.startswith("# HI AIM (NCT04263467, Herlev Hospital)")
    assert 'block_da = "Spurter"' in text and 'name_da = "Opvarmning: cykel"' in text
    assert "Sprints 1/15" not in text and text.count("[[steps]]") == 7


def test_a_duplicate_is_named_a_copy_in_each_language_it_has():
    copy = ProtocolDocument.load("norwegian-4x4").duplicate()
    assert (copy.top.get("name"), copy.top.get("name_da")) == ("Norwegian 4x4 (copy)",
                                                                "Norsk 4x4 (kopi)")
    assert copy.validate("mine").phases == load_protocol("norwegian-4x4").phases
    assert ProtocolDocument.load("hi-aim").duplicate().top.get("name_da") is None


def test_a_new_protocol_asks_for_its_name_first():
    document = new_document()
    error = document.validate("new")
    assert error == FieldError("new.toml: top level, key 'name': missing or not a text",
                               "missing or not a text", Place.TOP, "name")
    document.top.set("name", "Mine")
    protocol = document.validate("new")
    assert [p.name for p in protocol.phases] == ["Warm-up", "Cool-down"]
    assert protocol.phases[0].display_name == "Warm-up"


def block_document(**block: object) -> ProtocolDocument:
    document = new_document()
    document.top.set("name", "Sprints")
    step = new_step(StepKind.BLOCK)
    step.set("block", "Sprints")
    for key, value in block.items():
        step.set(key, value)  # type: ignore[arg-type]
    document.steps.insert(1, step)
    return document


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("work_s", 0, "0 s: must be above 0"),
    ("rest_s", -5, "-5 s: must be above 0"),
    ("repeat", 0, "expected a whole number 1–100, got 0"),
    ("station", "x" * 200, f"200 characters is too long (at most {STATION_MAX_CHARS}; known "
                           "stations are bike, rower, ski, cross-trainer, step-up)"),
    ("target_max_pct", 105, "105 is above the safety ceiling ceiling_pct 100"),
    ("target_min_pct", "eighty", "expected a number, got 'eighty'"),
])
def test_a_bad_block_value_gets_the_loaders_own_sentence_pointed_at_its_key(key, value,
                                                                             problem):
    document = block_document(**{key: value})
    error = document.validate("sprints")
    assert isinstance(error, FieldError)
    assert error.message == refusal(document.to_text(), "sprints.toml")
    assert (error.place, error.step, error.phase, error.key, error.problem) == (
        Place.STEP, 1, None, key, problem)


def test_an_error_in_a_groups_phase_names_the_step_and_the_phase():
    document = ProtocolDocument.load("norwegian-4x4")
    document.steps[1].phases[1].set("target_min_pct", 100)
    error = document.validate("n")
    assert error.message == ("n.toml: step 2, phase 2 (Active recovery), key "
                             "'target_min_pct': 100 is not below the safety ceiling "
                             "ceiling_pct 100")
    assert (error.step, error.phase, error.key) == (1, 1, "target_min_pct")


def test_class_limits_and_top_level_errors_name_their_table():
    document = ProtocolDocument.load("tabata")
    document.thresholds.set("high_pct", 60)
    error = document.validate("t")
    assert (error.place, error.key) == (Place.THRESHOLDS, "high_pct")
    document.thresholds.set("high_pct", 85)
    document.top.set("ramp_allowance_s", 900)
    error = document.validate("t")
    assert (error.place, error.key, error.problem) == (Place.TOP, "ramp_allowance_s",
                                                       "900 is outside 0–600")


def test_clearing_a_blocks_name_or_a_groups_rounds_keeps_the_steps_kind():
    document = block_document()
    document.steps[1].set("block", "")
    assert document.validate("b").key == "block"
    group = new_step(StepKind.GROUP)
    group.set("repeat", None)
    document = new_document()
    document.top.set("name", "G")
    document.steps.insert(1, group)
    error = document.validate("g")
    assert (error.key, error.problem) == ("repeat", "expected a whole number 1–100, got ''")


def test_number_fields_read_numbers_and_leave_the_rest_to_the_loader():
    assert [value_from_text(t) for t in ("15", " 7,5 ", "0.5", "", "abc", "1e2")] == \
        [15, 7.5, 0.5, None, "abc", 100.0]
    assert [text_from_value(v) for v in (5.0, 0.25, 15, None)] == ["5", "0.25", "15", ""]


def test_a_key_is_made_from_the_name_and_never_a_presets():
    assert key_for("Our 4x4") == "our-4x4"
    assert key_for("Hård træning på øen") == "haard-traening-paa-oeen"
    assert key_for("HI AIM") == "hi-aim-2"
    assert key_for("Our 4x4", taken=["our-4x4"]) == "our-4x4-2"
    assert key_for("!!!") == "protocol"


def test_a_saved_protocol_is_found_by_its_key_after_the_presets(own_folder):
    document = block_document(repeat=15, station="bike")
    path = save_user_protocol(document, "sprints")
    assert path == own_folder / "sprints.toml" == user_protocol_path("sprints")
    assert list_user_protocols() == ["sprints"]
    protocol = load_protocol("sprints")
    assert protocol.key == "sprints" and protocol.blocks[0].repeat == 15
    assert protocol == document.validate("sprints")
    assert ProtocolDocument.load("sprints").as_toml() == document.as_toml()


def test_a_preset_cannot_be_overwritten_nor_shadowed(own_folder):
    with pytest.raises(ProtocolError, match="hi-aim: a preset's name; presets are read-only"):
        save_user_protocol(ProtocolDocument.load("hi-aim"), "hi-aim")
    own_folder.mkdir(parents=True)
    (own_folder / "tabata.toml").write_text(
        ProtocolDocument.load("norwegian-4x4").to_text(), encoding="utf-8")
    assert list_user_protocols() == []
    assert load_protocol("tabata").name == "Tabata"


def test_a_document_that_does_not_load_is_not_saved(own_folder):
    with pytest.raises(ProtocolError, match=r"^x\.toml: step 2 \(Sprints\), key 'work_s'"):
        save_user_protocol(block_document(work_s=0), "x")
    assert not (own_folder / "x.toml").exists()


def test_an_unknown_key_lists_the_users_own_protocols(own_folder):
    save_user_protocol(block_document(), "sprints")
    with pytest.raises(ProtocolError, match="your own are sprints, or give the path"):
        load_protocol("sprint")


def test_a_file_that_is_no_toml_is_refused_in_one_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"broken\.toml: not valid TOML"):
        ProtocolDocument.load(path)


def test_a_key_with_a_folder_in_it_is_refused(own_folder):
    with pytest.raises(ProtocolError, match="not a protocol's key"):
        save_user_protocol(block_document(), "../sprints")
    assert not own_folder.exists() or list(own_folder.iterdir()) == []
