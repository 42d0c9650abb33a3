import pytest

from hiaim_monitor import i18n
from hiaim_monitor.protocols import (
    AchievedRule,
    PhaseKind,
    ProtocolError,
    list_presets,
    load_protocol,
    parse_protocol,
    station_label,
)


def test_presets_ship_with_the_package():
    assert list_presets() == ["10x1min", "15-15", "7x30s", "hi-aim", "intermediate-high",
                              "norwegian-4x4", "novakovic-8x1", "tabata"]


def test_hi_aim_is_the_published_session_ending_in_15_sprints_of_20_s_on_the_bike():
    p = load_protocol("hi-aim")
    assert p.total_s == 40 * 60
    warm_up = [ph.station for ph in p.phases if ph.kind is PhaseKind.WARM_UP]
    assert warm_up == ["bike", "ski", "rower", "cross-trainer"]
    assert any(ph.station == "step-up" for ph in p.work_phases)
    (sprints,) = p.blocks
    assert (sprints.repeat, sprints.work_s, sprints.rest_s) == (15, 20, 20)
    assert sprints.station == "bike" and sprints.target_min_pct == 85
    assert sprints.achieved_by is AchievedRule.PEAK
    bouts = [p.phases[i] for i in sprints.phase_indices]
    assert len(bouts) == 30 and [ph.bout for ph in bouts[:4]] == [1, 1, 2, 2]
    assert [ph.kind for ph in bouts[:2]] == [PhaseKind.HIGH, PhaseKind.RECOVERY]
    assert all(ph.block == 0 for ph in bouts)
    assert p.block_of(sprints.first_phase) is sprints and p.block_of(0) is None
    assert p.phases[-1].kind is PhaseKind.COOL_DOWN


def test_the_first_hi_aim_preset_keeps_its_structure_as_intermediate_high():
    p = load_protocol("intermediate-high")
    assert p.total_s == 60 * 60
    assert p.phases[0].kind is PhaseKind.WARM_UP and p.phases[0].duration_s == 600
    assert p.phases[-1].kind is PhaseKind.COOL_DOWN
    work = [ph.kind for ph in p.work_phases]
    assert work == [PhaseKind.INTERMEDIATE, PhaseKind.HIGH] * 4
    assert p.thresholds.intermediate_pct == 70 and p.thresholds.high_pct == 85
    inter = p.work_phases[0]
    assert (inter.target_min_pct, inter.target_max_pct) == (70, 85)


def test_norwegian_4x4_has_four_intervals_three_recoveries_and_lasts_38_minutes():
    p = load_protocol("norwegian-4x4")
    assert p.total_s == 38 * 60
    kinds = [ph.kind for ph in p.phases]
    assert kinds.count(PhaseKind.HIGH) == 4
    assert kinds.count(PhaseKind.RECOVERY) == 3
    assert all((ph.target_min_pct, ph.target_max_pct) == (85, 95) for ph in p.work_phases)
    assert [ph.name for ph in p.work_phases] == [f"Interval {i}/4" for i in range(1, 5)]


def test_7x30s_is_one_block_of_seven_30_second_bouts_at_85_percent():
    p = load_protocol("7x30s")
    assert [ph.duration_s for ph in p.work_phases] == [30] * 7
    assert all(ph.target_min_pct == 85 and ph.target_max_pct is None for ph in p.work_phases)
    (block,) = p.blocks
    assert block.repeat == 7 and p.phases[block.last_phase].kind is PhaseKind.HIGH


@pytest.mark.parametrize(("key", "repeat", "work_s", "rest_s"), [
    ("tabata", 8, 20, 10), ("10x1min", 10, 60, 60)])
def test_short_interval_presets_are_blocks(key, repeat, work_s, rest_s):
    (block,) = load_protocol(key).blocks
    assert (block.repeat, block.work_s, block.rest_s) == (repeat, work_s, rest_s)


def test_15_15_has_two_series_of_twenty_bouts():
    p = load_protocol("15-15")
    assert [(b.repeat, b.work_s, b.rest_s) for b in p.blocks] == [(20, 15, 15)] * 2
    assert p.phases[p.blocks[1].first_phase].block == 1


BLOCK = """name = "Short"
[[steps]]
block = "Sprints"
block_da = "Spurter"
repeat = 3
work_s = 20
rest_s = 20
target_min_pct = 85
station = "bike"
"""


def test_a_block_expands_into_numbered_bouts_with_translated_rests():
    p = parse_protocol(BLOCK, source="short.toml", key="short")
    assert [ph.name for ph in p.phases] == ["Sprints 1/3", "Rest 1/3", "Sprints 2/3",
                                            "Rest 2/3", "Sprints 3/3", "Rest 3/3"]
    assert p.total_s == 120 and all(ph.station == "bike" for ph in p.phases)
    i18n.set_language("da")
    try:
        assert p.phases[1].display_name == "Pause 1/3"
        assert p.blocks[0].display_name == "Spurter"
        assert station_label("bike") == "Motionscykel"
        assert station_label("Wall bars") == "Wall bars"
    finally:
        i18n.set_language("en")


@pytest.mark.parametrize(("line", "message"), [
    ("work_s = 0", "step 1 (Sprints), key 'work_s': 0 s: must be above 0"),
    ("rest_s = -5", "key 'rest_s': -5 s: must be above 0"),
    ("repeat = 0", "key 'repeat': expected a whole number 1–100, got 0"),
    ("target_min_pct = 100", "key 'target_min_pct': 100 is not below the safety ceiling"),
    ("station = '" + "x" * 200 + "'", "key 'station': 200 characters is too long"),
    ("achieved_by = 'mean'", "key 'achieved_by': 'mean' is not one of peak, time, bouts"),
    ("duration_s = 20", "key 'duration_s': not used here"),
])
def test_a_bad_block_names_the_file_the_step_and_the_key(line, message):
    key = line.split(" = ")[0]
    lines = [ln for ln in BLOCK.splitlines() if not ln.startswith(key + " ")]
    with pytest.raises(ProtocolError) as err:
        parse_protocol("\n".join([*lines, line]), source="short.toml", key="short")
    assert str(err.value).startswith("short.toml: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_phase_target_above_the_ceiling_is_refused():
    text = ('name = "X"\n[thresholds]\nceiling_pct = 95\n[[steps]]\nname = "Go"\n'
            'kind = "high"\nduration_s = 60\ntarget_min_pct = 85\ntarget_max_pct = 98\n')
    with pytest.raises(ProtocolError, match="98 is above the safety ceiling ceiling_pct 95"):
        parse_protocol(text, source="x.toml", key="x")


def test_novakovic_alternates_one_minute_at_80_with_three_minutes_at_60():
    p = load_protocol("novakovic-8x1")
    assert [ph.duration_s for ph in p.work_phases] == [60] * 8
    easy = [ph for ph in p.phases if ph.kind is PhaseKind.RECOVERY]
    assert len(easy) == 8 and all(ph.duration_s == 180 for ph in easy)
    assert p.phases[0].duration_s == 300 and p.phases[-1].duration_s == 300


def test_phase_at_gives_phase_countdown_and_next_phase():
    p = load_protocol("norwegian-4x4")
    pos = p.phase_at(600 + 30)
    assert pos.phase.name == "Interval 1/4"
    assert pos.elapsed_s == 30 and pos.remaining_s == 210
    assert pos.next_phase.name == "Active recovery 1/4"
    assert p.phase_at(0).phase.kind is PhaseKind.WARM_UP
    assert p.phase_at(p.total_s - 0.1).next_phase is None
    assert p.phase_at(p.total_s) is None


def test_protocol_file_by_path(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(
        'name = "Mine"\n[[steps]]\nname = "Go"\nkind = "high"\nduration_s = 90\n'
        "target_min_pct = 88\n"
    )
    p = load_protocol(str(f))
    assert p.key == "mine" and p.total_s == 90 and p.phases[0].target_min_pct == 88


def test_unknown_protocol_name_lists_the_presets():
    with pytest.raises(ProtocolError) as err:
        load_protocol("zumba")
    assert "unknown protocol 'zumba'" in str(err.value)
    for name in list_presets():
        assert name in str(err.value)


def test_bad_phase_kind_names_file_phase_and_key():
    text = 'name = "X"\n[[steps]]\nname = "Sprint"\nkind = "fast"\nduration_s = 30\n'
    text += "target_min_pct = 85\n"
    with pytest.raises(ProtocolError) as err:
        parse_protocol(text, source="x.toml", key="x")
    msg = str(err.value)
    assert msg.startswith("x.toml: step 1 (Sprint), key 'kind':")
    assert "'fast' is not one of warm-up, intermediate, high, recovery, cool-down" in msg


def test_missing_duration_in_repeated_group_names_the_inner_phase():
    text = (
        'name = "X"\n[[steps]]\nrepeat = 3\n'
        'phases = [{ name = "A", kind = "high", target_min_pct = 85 }]\n'
    )
    with pytest.raises(ProtocolError, match=r"step 1, phase 1 \(A\), key 'duration_s'"):
        parse_protocol(text, source="x.toml", key="x")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("name = 'X'\n", "key 'steps': missing"),
        ("[[steps]]\n", "key 'name': missing"),
        ("name = 'X'\n[[steps]]\nname='A'\nkind='high'\nduration_s='long'\ntarget_min_pct=1",
         "key 'duration_s': expected a number, got 'long'"),
        ("name = 'X'\n[[steps]]\nname='A'\nkind='high'\nduration_s=60\ntarget_min_pct=90\n"
         "target_max_pct=80", "key 'target_max_pct': 80 is not above target_min_pct 90"),
        ("name = 'X'\n[thresholds]\nhigh_pct=60\n[[steps]]\nname='A'\nkind='high'\n"
         "duration_s=60\ntarget_min_pct=90", "need intermediate_pct < high_pct"),
        ("name = 'X'\n[[steps]]\nrepeat=0\nphases=[]", "key 'repeat': expected a whole number"),
        ("name = [", "not valid TOML"),
    ],
)
def test_bad_protocol_files_get_one_clear_message(body, needle):
    with pytest.raises(ProtocolError) as err:
        parse_protocol(body, source="bad.toml", key="bad")
    assert str(err.value).startswith("bad.toml: ")
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_unreadable_protocol_path_names_the_file(tmp_path):
    with pytest.raises(ProtocolError, match=r"missing\.toml: cannot read protocol file"):
        load_protocol(tmp_path / "missing.toml")


# -- a misspelt key is an error, never a default left in force ----------------------------
ONE_PHASE = "[[steps]]\nname = 'Go'\nkind = 'high'\nduration_s = 60\ntarget_min_pct = 85\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # The three examples: the ceiling, a band's top and a duration.
        ("name = 'X'\n[thresholds]\nceling_pct = 90\n" + ONE_PHASE,
         "x.toml: [thresholds], key 'celing_pct': unknown key; did you mean 'ceiling_pct'?"),
        ("name = 'X'\n[[steps]]\nname = 'Easy'\nkind = 'intermediate'\nduration_s = 60\n"
         "target_min_pct = 70\ntarget_max_pc = 84\n",
         "x.toml: step 1 (Easy), key 'target_max_pc': unknown key; "
         "did you mean 'target_max_pct'?"),
        ("name = 'X'\n[[steps]]\nrepeat = 2\nphases = [{ name = 'Hard', kind = 'high', "
         "duraton_min = 2, target_min_pct = 85 }]\n",
         "x.toml: step 1, phase 1 (Hard), key 'duraton_min': unknown key; "
         "did you mean 'duration_min'?"),
        ("name = 'X'\nramp_alowance_s = 30\n" + ONE_PHASE,
         "x.toml: top level, key 'ramp_alowance_s': unknown key; "
         "did you mean 'ramp_allowance_s'?"),
        ("name = 'X'\n[[steps]]\nrepet = 2\nphases = []\n",
         "x.toml: step 1, key 'repet': unknown key; did you mean 'repeat'?"),
        ("name = 'X'\n[[steps]]\nrepeat = 2\ntrailing_rests = false\n"
         "phases = [{ name = 'A', kind = 'high', duration_s = 30, target_min_pct = 85 }]\n",
         "x.toml: step 1, key 'trailing_rests': unknown key; did you mean 'trailing_rest'?"),
        ("name = 'X'\nname_xx = 'Y'\n" + ONE_PHASE,
         "x.toml: top level, key 'name_xx': unknown key; the app has no language 'xx' "
         "(translations: name_da)"),
        ("name = 'X'\ncolour = 'red'\n" + ONE_PHASE,
         "x.toml: top level, key 'colour': unknown key; known keys are name, description"),
    ],
)
def test_an_unknown_key_is_refused_naming_it_and_the_nearest_known_key(body, message):
    with pytest.raises(ProtocolError) as err:
        parse_protocol(body, source="x.toml", key="x")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name = 'X'\nceiling_pct = 90\n" + ONE_PHASE,
         "x.toml: top level, key 'ceiling_pct': not used here; put it under [thresholds]"),
        ("name = 'X'\n[[steps]]\nrepeat = 2\nname = 'Block'\n"
         "phases = [{ name = 'A', kind = 'high', duration_s = 30, target_min_pct = 85 }]\n",
         "x.toml: step 1, key 'name': not used here; put it in each of the group's phases"),
        ("name = 'X'\n" + ONE_PHASE + "trailing_rest = false\n",
         "x.toml: step 1 (Go), key 'trailing_rest': not used here; put it in a step with "
         "repeat = N"),
    ],
)
def test_a_known_key_in_the_wrong_table_says_where_it_belongs(body, message):
    with pytest.raises(ProtocolError) as err:
        parse_protocol(body, source="x.toml", key="x")
    assert str(err.value) == message


def test_every_preset_loads_with_only_known_keys():
    for name in list_presets():
        protocol = load_protocol(name)
        assert protocol.phases and protocol.thresholds.ceiling_pct == 100


# -- what participants read comes in their language ----------------------------------------
@pytest.fixture
def danish():
    i18n.set_language("da")
    try:
        yield
    finally:
        i18n.set_language("en")


def test_phase_and_protocol_names_come_in_danish_and_fall_back_to_english(danish):
    text = ("name = 'Mine'\nname_da = 'Min'\ndescription = 'Two phases'\n"
            "description_da = 'To faser'\n[[steps]]\nrepeat = 2\nphases = [\n"
            "  { name = 'Hard', name_da = 'Hårdt', kind = 'high', duration_s = 60, "
            "target_min_pct = 85 },\n"
            "  { name = 'Rest', kind = 'recovery', duration_s = 60, target_min_pct = 50 }]\n")
    p = parse_protocol(text, source="mine.toml", key="mine")
    assert (p.display_name, p.display_description) == ("Min", "To faser")
    assert [ph.display_name for ph in p.phases] == ["Hårdt 1/2", "Rest 1/2", "Hårdt 2/2",
                                                     "Rest 2/2"]
    assert p.phases[0].name == "Hard 1/2"  # the stored, English name stays
    i18n.set_language("en")
    assert p.display_name == "Mine" and p.phases[0].display_name == "Hard 1/2"


def test_every_preset_names_its_phases_and_describes_itself_in_danish(danish):
    for name in list_presets():
        p = load_protocol(name)
        assert p.display_description != p.description, name
        english_words = {"Warm-up", "Cool-down", "High", "Recovery", "Active", "Easy"}
        for phase in p.phases:
            assert not english_words & set(phase.display_name.split()), phase.display_name
    hi_aim = load_protocol("intermediate-high")
    assert [ph.display_name for ph in hi_aim.phases[:3]] == [
        "Opvarmning", "Moderat 1/4", "Høj 1/4"]


def test_a_translation_must_be_a_text():
    with pytest.raises(ProtocolError, match=r"step 1 \(Go\), key 'name_da': expected a text"):
        parse_protocol("name = 'X'\n" + ONE_PHASE + "name_da = 3\n", source="x.toml", key="x")
