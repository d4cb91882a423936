"""The instrument file format: the built-in set loads, broken files are refused clearly."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from questionnaires.errors import InstrumentError
from questionnaires.registry import (
    builtin_dir,
    dump_instrument,
    load_instrument,
    load_instruments,
    load_registry,
    parse_instrument_text,
    version_key,
)
from questionnaires.schema import parse_instrument

from .conftest import minimal_instrument

EXPECTED_SCORES = {
    "employee_followup": {
        "alliance", "alliance_goal", "alliance_task", "alliance_bond", "klik",
        "capability_count", "capability_knowledge_use", "capability_knowledge_dev",
        "capability_income", "capability_relations", "capability_autonomy",
        "capability_contribution", "capability_esteem", "person_job_fit", "job_satisfaction",
        "wellbeing",
    },
    "jobcoach_followup": {"match_quality", "coach_klik", "coach_alliance"},
    "employer_followup": {
        "employer_satisfaction", "ontzorging", "reachability", "role_clarity",
        "employee_functioning",
    },
}  # fmt: skip


def test_builtin_set_has_the_contract_ids(instruments):
    for iid, score_ids in EXPECTED_SCORES.items():
        assert {s.id for s in instruments[iid].scores} == score_ids
    emp = instruments["employee_followup"]
    assert emp.respondent == "employee"
    assert [it.id for it in emp.section_items("alliance")] == [
        *(f"all_{i:02d}" for i in range(1, 13)),
        "klik_direct",
    ]
    ids = {it.id for it in emp.items}
    assert {f"all_{i:02d}" for i in range(1, 13)} <= ids
    assert {"klik_direct", "job_sat", "fit_01", "fit_02", "fit_03"} <= ids
    assert {"ws_employed", "ws_hours", "ws_sick_days", "ws_changed", "ws_coached"} <= ids
    assert len([i for i in ids if i.startswith("csw_")]) == 21
    coach = instruments["jobcoach_followup"]
    assert len(coach.item("activities").options) == 8
    assert {"cws_employed", "cws_hours", "cws_sick_days", "coach_klik"} <= {
        it.id for it in coach.items
    }
    assert instruments["employer_followup"].respondent == "employer"


def test_alliance_subscales_follow_goal_task_bond_structure(instruments):
    emp = instruments["employee_followup"]
    subs = [set(emp.score(s).items) for s in ("alliance_goal", "alliance_task", "alliance_bond")]
    assert all(len(s) == 4 for s in subs)
    assert set.union(*subs) == set(emp.score("alliance").items)
    assert len(set.union(*subs)) == 12


def test_every_text_is_translated_and_licence_noted(instruments):
    for inst in instruments.values():
        assert "own wording" in inst.licence
        assert inst.source
        for it in inst.items:
            assert it.text["nl"] and it.text["en"]
            assert it.text["nl"] != it.text["en"], it.id
            for o in it.options:
                assert o.label["nl"] and o.label["en"]


def test_dump_and_load_give_the_same_instrument(instruments):
    for inst in instruments.values():
        again = parse_instrument_text(dump_instrument(inst), "dumped")
        assert again == inst


def test_builtin_dir_holds_yaml_files():
    assert {p.stem for p in builtin_dir().glob("*.yaml")} >= set(EXPECTED_SCORES)


def _error(data: dict, origin: str = "bad.yaml") -> str:
    with pytest.raises(InstrumentError) as info:
        parse_instrument(data, origin)
    return str(info.value)


def test_minimal_instrument_is_valid():
    inst = parse_instrument(minimal_instrument(), "mini.yaml")
    assert inst.item("a2").reverse
    assert inst.score("a_mean").band(2.0).label["en"] == "high"
    assert inst.score("a_mean").band(3.0).label["en"] == "high"
    assert inst.score("a_mean").band(1.5).label["en"] == "low"


def test_duplicate_item_id_is_named():
    data = minimal_instrument()
    data["sections"][0]["items"].append(copy.deepcopy(data["sections"][0]["items"][0]))
    msg = _error(data)
    assert "bad.yaml" in msg and "'a1'" in msg and "duplicate item id" in msg


def test_reverse_keying_on_text_item_is_refused():
    data = minimal_instrument()
    data["sections"][0]["items"][3]["reverse"] = True
    msg = _error(data)
    assert "bad.yaml: item 'note'" in msg and "reverse keying" in msg


def test_subscale_naming_unknown_item_is_refused():
    data = minimal_instrument()
    data["scores"][0]["items"].append("a9")
    msg = _error(data)
    assert "score 'a_mean'" in msg and "unknown item 'a9'" in msg


def test_bands_with_gap_are_refused():
    data = minimal_instrument()
    data["scores"][0]["bands"][1]["from"] = 2.2
    msg = _error(data)
    assert "score 'a_mean'" in msg and "gap between 2 and 2.2" in msg


def test_bands_not_reaching_scale_end_are_refused():
    data = minimal_instrument()
    data["scores"][0]["bands"][1]["to"] = 2.5
    assert "nothing covers 2.5 to 3" in _error(data)


def test_overlapping_bands_are_refused():
    data = minimal_instrument()
    data["scores"][0]["bands"][1]["from"] = 1.5
    assert "overlap" in _error(data)


def test_missing_translation_is_named():
    data = minimal_instrument()
    del data["sections"][0]["items"][2]["text"]["en"]
    msg = _error(data)
    assert "item 'a3'" in msg and "missing translation" in msg and "'en'" in msg


def test_untranslated_plain_string_is_refused():
    data = minimal_instrument()
    data["sections"][0]["items"][2]["text"] = "Only one language"
    assert "item 'a3': text must be translated" in _error(data)


def test_declared_scale_must_match_rule():
    data = minimal_instrument()
    data["scores"][0]["scale"] = [0, 3]
    assert "implies, [1, 3]" in _error(data)


def test_scoring_non_numeric_item_is_refused():
    data = minimal_instrument()
    data["scores"][0]["items"].append("note")
    assert "item 'note' is not numeric" in _error(data)


def test_all_problems_reported_together():
    data = minimal_instrument()
    data["sections"][0]["items"][3]["reverse"] = True
    del data["sections"][0]["items"][2]["text"]["nl"]
    assert len(_error(data).splitlines()) == 2


def test_yaml_syntax_error_has_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nsections: [\n  - a: b\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"broken\.yaml: line \d+: not valid YAML"):
        load_instrument(path)


def test_error_is_value_error():
    assert issubclass(InstrumentError, ValueError)


def test_extra_directory_adds_instruments_and_versions(tmp_path: Path):
    data = minimal_instrument()
    (tmp_path / "mini.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    data["version"] = "1.10"
    (tmp_path / "mini2.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    data["version"] = "1.9"
    (tmp_path / "mini3.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    found = load_instruments([tmp_path])
    assert found["mini"].version == "1.10"
    assert "employee_followup" in found
    registry = load_registry([tmp_path])
    assert registry.versions("mini") == ["1", "1.9", "1.10"]
    assert registry.get("mini", "1").version == "1"


def test_same_id_and_version_twice_is_refused(tmp_path: Path):
    data = minimal_instrument()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InstrumentError, match="also defined"):
        load_instruments([tmp_path])


def test_version_key_orders_numerically():
    assert sorted(["1.10", "1.2", "1.9"], key=version_key) == ["1.2", "1.9", "1.10"]
