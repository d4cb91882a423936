"""The instrument file format as pydantic models, and its published JSON Schema.

These models say what an instrument file may hold: its keys, their types, the id pattern, the
item types, respondents, widgets and scoring rules. :func:`questionnaires.schema.parse_instrument`
checks a file against them first and then the rules that need the whole instrument (ids that
refer to each other, translations in every declared language, scales, bands). Editors can use
``questionnaires/instrument.schema.json`` (written by :func:`write_json_schema`, held equal to
the models by a test) to check a file while it is typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

ID = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,99}$")]
Number = float | StrictInt
Text = dict[Literal["nl", "en"], str]

SCHEMA_PATH = Path(__file__).with_name("instrument.schema.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class OptionModel(_Strict):
    """A response option."""

    code: StrictInt | str
    label: Text | str


class ConditionModel(_Strict):
    """One clause of ``show_if``."""

    item: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "has", "lacks"]
    value: str | StrictInt | float


class ShowIfModel(_Strict):
    """``{all: [...]}`` or ``{any: [...]}``."""

    all: list[ConditionModel] | None = Field(default=None, min_length=1)
    any: list[ConditionModel] | None = Field(default=None, min_length=1)


class ItemModel(_Strict):
    """One item of a section."""

    id: ID
    type: Literal[
        "likert",
        "single",
        "multiple",
        "integer",
        "number",
        "text",
        "yesno",
        "date",
        "descriptive",
        "calc",
    ]
    text: Text | str
    options: str | list[OptionModel] | None = None
    min: Number | None = None
    max: Number | None = None
    required: StrictBool = False
    reverse: StrictBool = False
    help: Text | str | None = None
    widget: Literal["radio", "dropdown", "slider", "truefalse", "textarea"] | None = None
    validation: str | None = None
    matrix: str | None = None
    show_if: ShowIfModel | None = None
    branching: str | None = None
    inactive_branching: str | None = None
    identifier: StrictBool = False
    annotation: str | None = None
    anchors: list[Text | str] | None = None
    header: Text | str | None = None
    calc: str | None = None
    earliest: str | None = None
    latest: str | None = None


class SectionModel(_Strict):
    """A page of the form."""

    id: ID
    title: Text | str
    intro: Text | str | None = None
    items: list[ItemModel] = Field(min_length=1)


class BandModel(_Strict):
    """A labelled interval of a score (``from <= score < to``)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    lo: Number = Field(alias="from")
    hi: Number = Field(alias="to")
    label: Text | str


class ScoreModel(_Strict):
    """A scoring key."""

    id: ID
    label: Text | str
    rule: Literal["mean", "sum", "capability_count", "capability_flag", "item"]
    items: list[str] = Field(min_length=1)
    max_missing: StrictInt = Field(default=0, ge=0)
    scale: list[Number] = Field(min_length=2, max_length=2)
    bands: list[BandModel] | None = None
    multiplier: Number = 1.0
    threshold: Number = 4.0


class InstrumentModel(_Strict):
    """An instrument file."""

    id: ID
    version: str | StrictInt | float
    respondent: Literal["employee", "jobcoach", "employer"]
    title: Text | str
    description: Text | str | None = None
    languages: list[Literal["nl", "en"]] | None = Field(default=None, min_length=1)
    source: str
    licence: str
    record_id: str | None = None
    option_sets: dict[str, list[OptionModel]] | None = None
    sections: list[SectionModel] = Field(min_length=1)
    scores: list[ScoreModel] | None = None


def structure_problems(data: Any) -> list[tuple[str, str]]:
    """What in a parsed file does not fit the models: ``(where, problem)`` pairs.

    ``where`` names the section, item or score the way the loader's messages do
    (``section 'work' item 'ws_hours'``); ``problem`` says what is wrong with which key.
    Translated texts written as plain strings are left to the loader, which names the
    languages missing.
    """
    try:
        InstrumentModel.model_validate(data)
    except ValidationError as exc:
        out = []
        for error in exc.errors():
            loc = error["loc"]
            if _text_key(loc):
                continue  # the loader names the languages a text lacks or has too many of
            out.append((_where(data, loc), _problem(loc, error)))
        return _dedupe(out)
    return []


def _text_key(loc: tuple[Any, ...]) -> bool:
    return any(k in ("text", "title", "label", "help", "intro", "header") for k in loc)


def _dedupe(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            out.append(pair)
    return out


def _name(container: Any, index: Any) -> str:
    try:
        value = container[index]
    except (IndexError, KeyError, TypeError):
        return f"{index + 1}" if isinstance(index, int) else str(index)
    if isinstance(value, dict) and "id" in value:
        return repr(str(value["id"]))
    return f"{index + 1}" if isinstance(index, int) else str(index)


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    node = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if key in ("sections", "items", "scores") and i + 1 < len(loc):
            label = {"sections": "section", "items": "item", "scores": "score"}[key]
            container = node.get(key) if isinstance(node, dict) else None
            index = loc[i + 1]
            parts.append(f"{label} {_name(container, index)}")
            try:
                node = container[index]  # type: ignore[index]
            except (IndexError, KeyError, TypeError):
                node = None
            i += 2
            continue
        break
    # the loader names items by id alone; keep its habit where the item has one
    if len(parts) >= 2 and parts[-1].startswith("item '"):
        return parts[-1]
    return " ".join(parts)


def _problem(loc: tuple[Any, ...], error: Any) -> str:
    tail = [str(k) for k in loc if not isinstance(k, int)]
    for skip in ("sections", "items", "scores"):
        while skip in tail[:-1]:
            tail.remove(skip)
    key = ".".join(tail) if tail else "the file"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {tail[-1]!r}" if tail else "unknown key"
    if kind == "missing":
        return f"{key} is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{key} must be one of {expected}, not {error.get('input')!r}"
    if kind == "string_pattern_mismatch":
        return (
            f"{key} {error.get('input')!r} must start with a lower-case letter and hold only "
            "a-z, 0-9 and _"
        )
    if kind in ("bool_type", "bool_parsing"):
        return f"{key} must be true or false, not {error.get('input')!r}"
    return f"{key}: {error['msg']}"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an instrument file."""
    schema = InstrumentModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://klik.local/schemas/instrument.schema.json"
    schema["title"] = "Klik instrument file"
    return schema


def write_json_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write :func:`json_schema` to ``path`` (the published copy by default)."""
    path.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
