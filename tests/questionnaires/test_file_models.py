"""The instrument file format as pydantic models: the published JSON Schema and its messages."""

from __future__ import annotations

import json

import pytest
import yaml

from questionnaires.errors import InstrumentError
from questionnaires.file_models import SCHEMA_PATH, InstrumentModel, json_schema
from questionnaires.registry import builtin_dir
from questionnaires.schema import parse_instrument

from .conftest import minimal_instrument


def test_published_schema_is_the_models():
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == json_schema(), (
        "questionnaires/instrument.schema.json is out of date: run "
        "python -c 'from questionnaires.file_models import write_json_schema; write_json_schema()'"
    )


def test_schema_describes_the_format():
    schema = json_schema()
    item = schema["$defs"]["ItemModel"]
    assert item["additionalProperties"] is False
    assert "calc" in item["properties"]["type"]["enum"]
    assert schema["properties"]["respondent"]["enum"] == ["employee", "jobcoach", "employer"]
    assert schema["$defs"]["BandModel"]["required"] == ["from", "to", "label"]


@pytest.mark.parametrize("path", sorted(builtin_dir().glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_instruments_fit_the_models(path):
    InstrumentModel.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _error(data) -> str:
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(data, "bad.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(colour="red"), "bad.yaml: unknown key 'colour'"),
        (lambda d: d.update(respondent="boss"), "respondent must be one of"),
        (lambda d: d.pop("licence"), "bad.yaml: licence is missing"),
        (lambda d: d.update(id="Mini"), "id 'Mini' must start with a lower-case letter"),
        (
            lambda d: d["sections"][0]["items"][0].update(type="slider"),
            "bad.yaml: item 'a1': type must be one of",
        ),
        (
            lambda d: d["sections"][0]["items"][1].update(required="yes"),
            "bad.yaml: item 'a2': required must be true or false, not 'yes'",
        ),
        (
            lambda d: d["sections"][0]["items"][3].update(hint="x"),
            "bad.yaml: item 'note': unknown key 'hint'",
        ),
        (lambda d: d["scores"][0].update(weight=2), "bad.yaml: score 'a_mean': unknown key"),
        (lambda d: d["sections"][0].update(items=[]), "section 'page'"),
    ],
)
def test_shape_errors_name_the_place(change, expected: str):
    data = minimal_instrument()
    change(data)
    assert expected in _error(data)
