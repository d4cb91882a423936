"""REDCap data dictionaries: import as Klik instruments, export Klik instruments.

One REDCap form becomes one Klik instrument, on one page or a page per section header
(``pages``); section headers are headings above their field.
Calculated fields become ``calc`` items computed by the server (:mod:`questionnaires.logic`).
What Klik cannot represent (sql fields, file uploads, formulas that read other forms, date
bounds, branching logic that is not a simple comparison) is reported as a :class:`RedcapWarning`, field by field. A malformed
file raises :class:`InstrumentError` with the line number.

Labels go in as the dictionary's language only (``language``); add the other language to the
instrument files for a bilingual study.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from questionnaires.action_tags import tags_of
from questionnaires.errors import InstrumentError
from questionnaires.logic import LogicError
from questionnaires.logic import parse as parse_logic
from questionnaires.model import Instrument, Item, ShowIf
from questionnaires.schema import DEFAULT_YESNO, REQUIRED_LANGUAGES, parse_instrument
from questionnaires.text_types import (
    TIME_TYPES,
    Problem,
    date_order,
    is_text_type,
    read_date,
    read_time,
)

PageMode = Literal["form", "section"]
"""How a form is split into pages: one page, or a page per section header."""

REDCAP_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
"""The 18 columns of a REDCap data dictionary, in order."""

REDCAP_HEADER_LINE = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note",'
    '"Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max",'
    'Identifier?,"Branching Logic (Show field only if...)","Required Field?","Custom Alignment",'
    '"Question Number (surveys only)","Matrix Group Name","Matrix Ranking?","Field Annotation"'
)
"""The header line exactly as REDCap writes it."""

FIELD_TYPES = frozenset(
    {
        "text",
        "notes",
        "radio",
        "dropdown",
        "checkbox",
        "yesno",
        "truefalse",
        "slider",
        "calc",
        "descriptive",
        "sql",
        "file",
    }
)
UNREPRESENTABLE = {
    "sql": "a dynamic SQL field ({choices!r}) is not importable: it queries REDCap's own "
    "database; the field is left out",
    "file": "a file upload or signature field cannot be represented; the field is left out",
}
DATE_VALIDATIONS = frozenset({"date_ymd", "date_dmy", "date_mdy"})
NUMBER_VALIDATION = re.compile(r"^number(_\ddp)?(_comma_decimal)?$")
TRUEFALSE = (
    {"code": 1, "label": {"nl": "Waar", "en": "True"}},
    {"code": 0, "label": {"nl": "Onwaar", "en": "False"}},
)
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_CLAUSE = re.compile(
    r"""^\[(?P<field>[a-z][a-z0-9_]*)(?:\((?P<code>[A-Za-z0-9_\-]+)\))?\]\s*
        (?P<op><>|!=|<=|>=|=|<|>)\s*
        (?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<num>-?\d+(?:\.\d+)?))$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class RedcapWarning:
    """Something in a dictionary that Klik could not represent (or kept verbatim)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: field {self.field!r}: {self.message}"


@dataclass(frozen=True)
class RedcapImport:
    """The result of importing a dictionary: one instrument per form, plus warnings."""

    instruments: list[Instrument]
    warnings: list[RedcapWarning]


def import_redcap(
    path: str | Path,
    *,
    respondent: str = "employee",
    version: str = "1",
    pages: PageMode = "form",
    language: str = "nl",
) -> RedcapImport:
    """Import a REDCap data dictionary CSV file (a UTF-8 BOM is accepted).

    Parameters
    ----------
    path
        The dictionary file.
    respondent
        Respondent role given to every imported instrument.
    version
        Version given to every imported instrument.
    pages
        ``form``: each form is one page (REDCap's "all on one page"); ``section``: each
        section header starts a new page (REDCap's "one section per page"). Section headers
        are headings inside the page either way.
    language
        The language the dictionary is written in (``nl`` or ``en``): its texts go in as that
        language only.

    Raises
    ------
    InstrumentError
        When the file is not a REDCap data dictionary or a row is malformed; the message gives
        the file and line number.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InstrumentError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return parse_redcap(
        text, str(path), respondent=respondent, version=version, pages=pages, language=language
    )


def _humanise(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def _both(text: str) -> dict[str, str]:
    return {lang: text for lang in REQUIRED_LANGUAGES}


def _code(text: str) -> int | str:
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


@dataclass
class _Row:
    line: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells[column]


def _read_rows(text: str, origin: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InstrumentError(
            f"{origin}: line 1: empty file, not a REDCap data dictionary"
        ) from None
    except csv.Error as exc:
        raise InstrumentError(f"{origin}: line 1: cannot read CSV: {exc}") from None
    header = [h.lstrip("\ufeff").strip() for h in header]
    if tuple(header) != REDCAP_COLUMNS:
        found = ", ".join(repr(h) for h in header[:4])
        raise InstrumentError(
            f"{origin}: line 1: not a REDCap data dictionary: expected the 18-column header "
            f"starting with 'Variable / Field Name', 'Form Name', found {found}"
            + (", ..." if len(header) > 4 else "")
        )
    rows: list[_Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InstrumentError(f"{origin}: line {start}: cannot read CSV: {exc}") from None
        if any(c.strip() for c in cells):
            if len(cells) != len(REDCAP_COLUMNS):
                raise InstrumentError(
                    f"{origin}: line {start}: expected {len(REDCAP_COLUMNS)} columns, "
                    f"found {len(cells)}"
                )
            rows.append(_Row(start, dict(zip(REDCAP_COLUMNS, cells, strict=True))))
        start = reader.line_num + 1
    return rows


def _choices(raw: str, origin: str, line: int) -> list[dict[str, Any]]:
    options = []
    for part in raw.split("|"):
        part = part.strip()
        if not part:
            continue
        code, sep, label = part.partition(",")
        if not sep or not code.strip():
            raise InstrumentError(
                f"{origin}: line {line}: choice {part!r} is not 'code, label' "
                "(choices are written 'code, label | code, label')"
            )
        options.append({"code": _code(code.strip()), "label": _both(label.strip())})
    if not options:
        raise InstrumentError(f"{origin}: line {line}: a choice field needs choices")
    return options


def _translate_branching(
    logic: str, known: dict[str, str]
) -> dict[str, list[dict[str, str]]] | None:
    """A simple REDCap condition as a Klik ``show_if`` mapping, or None when not simple.

    ``known`` maps field names of the same form to their Klik item type.
    """
    text = " ".join(logic.split())
    lowered = f" {text.lower()} "
    has_and, has_or = " and " in lowered, " or " in lowered
    if has_and and has_or:
        return None
    mode = "any" if has_or else "all"
    parts = re.split(r"\s+(?:and|or)\s+", text, flags=re.IGNORECASE)
    conditions = []
    for part in parts:
        m = _CLAUSE.match(part.strip())
        if m is None or m["field"] not in known:
            return None
        value = next(v for v in (m["dq"], m["sq"], m["num"]) if v is not None)
        op = "!=" if m["op"] == "<>" else m["op"]
        if m["code"] is not None:
            if known[m["field"]] != "multiple" or op not in ("=", "!=") or value not in ("0", "1"):
                return None
            checked = (value == "1") == (op == "=")
            conditions.append(
                {"item": m["field"], "op": "has" if checked else "lacks", "value": m["code"]}
            )
        else:
            if known[m["field"]] == "multiple":
                return None
            conditions.append({"item": m["field"], "op": op, "value": value})
    return {mode: conditions}


def _logic_problem(logic: str, known: dict[str, str], form_of: dict[str, str]) -> str | None:
    """Why Klik cannot apply a branching condition, or None when it can."""
    kinds = {k: "checkbox" if v == "multiple" else v for k, v in known.items()}
    try:
        expr = parse_logic(logic)
        for event, name in expr.fields:
            if event is None and name not in kinds:
                where = f"of form {form_of[name]!r}" if name in form_of else "that does not exist"
                return f"it reads [{name}], a field {where} (Klik reads the own form's answers"
                " and earlier waves' as [event][field])"
        expr.check(
            {**kinds, **{n: "any" for e, n in expr.fields if e is not None and n not in kinds}}
        )
    except LogicError as exc:
        return str(exc)
    return None


def _usable_formulas(
    entries: list[tuple[_Row, dict[str, Any], str | None]],
    form: str,
    form_of: dict[str, str],
    warnings: list[RedcapWarning],
) -> list[tuple[_Row, dict[str, Any], str | None]]:
    """The form's fields without the calculated ones whose formula Klik cannot compute.

    A formula must parse and name fields of its own form (or of another event); each field
    left out is reported with the reason.
    """
    kinds = {
        item["id"]: "checkbox" if item["type"] == "multiple" else item["type"]
        for _, item, _ in entries
    }
    kept = []
    for row, item, header in entries:
        if item["type"] != "calc":
            kept.append((row, item, header))
            continue
        try:
            expr = parse_logic(item["calc"])
            for event, name in expr.fields:
                if event is None and name not in kinds and name in form_of:
                    raise LogicError(
                        f"[{name}] is a field of form {form_of[name]!r}; Klik computes a "
                        "formula from its own form's answers (and earlier waves')",
                        0,
                        name,
                    )
            expr.check(
                {**kinds, **{n: "any" for e, n in expr.fields if e is not None and n not in kinds}}
            )
        except LogicError as exc:
            warnings.append(
                RedcapWarning(
                    row.line,
                    item["id"],
                    f"calculated field {item['calc']!r} cannot be computed ({exc}); the field is "
                    "left out",
                )
            )
            continue
        kept.append((row, item, header))
    return kept


def _moment_bounds(
    item: dict[str, Any],
    lo_raw: str,
    hi_raw: str,
    validation: str,
    unusable: Any,
) -> None:
    """Date, date-time and time bounds as ``earliest``/``latest`` (Y-M-D, today or now)."""
    order = date_order(validation)
    for key, raw in (("earliest", lo_raw), ("latest", hi_raw)):
        if not raw:
            continue
        text = raw.strip()
        if text.lower() in ("today", "now"):
            item[key] = text.lower()
            continue
        date_part, _, time_part = text.partition(" ")
        try:
            if order is None:
                item[key] = read_time(text, validation)
                continue
            day = read_date(date_part, order).isoformat()
        except Problem:
            unusable(f"{text!r} is not a date in the field's order")
            continue
        item[key] = f"{day} {time_part.strip()}" if time_part.strip() else day


def _only(data: Any, language: str) -> Any:
    """The import's texts (made in both languages) in the dictionary's language alone."""
    if isinstance(data, dict):
        if set(data) == set(REQUIRED_LANGUAGES) and all(isinstance(v, str) for v in data.values()):
            return {language: data[language]}
        return {k: _only(v, language) for k, v in data.items()}
    if isinstance(data, list):
        return [_only(v, language) for v in data]
    return data


def _pages(items: list[dict[str, Any]], form: str, pages: PageMode) -> list[dict[str, Any]]:
    """The pages of one form: all on one page, or a new page at each section header.

    Section headers stay on their items (shown as headings inside the page); every page is
    titled with the form's name, so that no heading is invented.
    """
    title = _both(_humanise(form))
    groups: list[list[dict[str, Any]]] = []
    for item in items:
        if not groups or (pages == "section" and "header" in item):
            groups.append([])
        groups[-1].append(item)
    return [
        {"id": f"s{i + 1}", "title": dict(title), "items": group} for i, group in enumerate(groups)
    ]


def parse_redcap(
    text: str,
    origin: str = "<dictionary>",
    *,
    respondent: str = "employee",
    version: str = "1",
    pages: PageMode = "form",
    language: str = "nl",
) -> RedcapImport:
    """Import the text of a REDCap data dictionary (see :func:`import_redcap`)."""
    if pages not in ("form", "section"):
        raise InstrumentError(f"{origin}: pages must be 'form' or 'section', not {pages!r}")
    if language not in REQUIRED_LANGUAGES:
        raise InstrumentError(
            f"{origin}: language must be {' or '.join(REQUIRED_LANGUAGES)}, not {language!r}"
        )
    rows = _read_rows(text, origin)
    warnings: list[RedcapWarning] = []
    forms: dict[str, list[tuple[_Row, dict[str, Any], str | None]]] = {}
    seen: dict[str, int] = {}
    for row in rows:
        name, form = row["Variable / Field Name"].strip(), row["Form Name"].strip()
        ftype = row["Field Type"].strip()
        where = f"{origin}: line {row.line}"
        if not NAME_PATTERN.match(name):
            raise InstrumentError(
                f"{where}: field name {name!r} must be lower-case letters, digits and _"
            )
        if name in seen:
            raise InstrumentError(
                f"{where}: field {name!r} is already defined on line {seen[name]}"
            )
        seen[name] = row.line
        if not NAME_PATTERN.match(form):
            raise InstrumentError(
                f"{where}: field {name!r}: form name {form!r} must be lower-case letters, "
                "digits and _"
            )
        if ftype not in FIELD_TYPES:
            raise InstrumentError(f"{where}: field {name!r}: unknown field type {ftype!r}")
        if ftype in UNREPRESENTABLE:
            choices = row["Choices, Calculations, OR Slider Labels"].strip()
            warnings.append(
                RedcapWarning(row.line, name, UNREPRESENTABLE[ftype].format(choices=choices))
            )
            continue
        item = _item(row, ftype, origin, warnings)
        header = row["Section Header"]
        forms.setdefault(form, []).append((row, item, header if header.strip() else None))

    instruments: list[Instrument] = []
    first_field = rows[0]["Variable / Field Name"].strip() if rows else None
    form_of = {item["id"]: form for form, entries in forms.items() for _, item, _ in entries}
    for form in list(forms):
        forms[form] = _usable_formulas(forms[form], form, form_of, warnings)
        if not forms[form]:
            del forms[form]
    for form, entries in forms.items():
        known = {item["id"]: item["type"] for _, item, _ in entries}
        for row, item, _ in entries:
            logic = row["Branching Logic (Show field only if...)"].strip()
            if not logic:
                continue
            show_if = _translate_branching(logic, known)
            if show_if is not None:
                item["show_if"] = show_if
                continue
            problem = _logic_problem(logic, known, form_of)
            if problem is None:
                item["branching"] = " ".join(logic.split())
            else:
                item["inactive_branching"] = logic
                warnings.append(
                    RedcapWarning(
                        row.line,
                        item["id"],
                        f"branching logic {logic!r} is kept for export but not applied: {problem}",
                    )
                )
        for _, item, header in entries:
            if header is not None:
                item["header"] = _both(header)
        sections = _pages([item for _, item, _ in entries], form, pages)
        data = {
            "id": form,
            "version": version,
            "respondent": respondent,
            "title": _both(_humanise(form)),
            "languages": [language],
            "source": f"REDCap data dictionary, form {form!r}",
            "licence": "Imported from a REDCap data dictionary: check the licence of the "
            "original instrument before use. Labels are in the dictionary's language only.",
            "sections": sections,
        }
        if any(item["id"] == first_field for _, item, _ in entries):
            data["record_id"] = first_field
        instruments.append(parse_instrument(_only(data, language), f"{origin} (form {form!r})"))
    return RedcapImport(instruments, warnings)


def _item(row: _Row, ftype: str, origin: str, warnings: list[RedcapWarning]) -> dict[str, Any]:
    name = row["Variable / Field Name"].strip()
    label = row["Field Label"]
    if not label.strip():
        label = name
        warnings.append(RedcapWarning(row.line, name, "empty label: the field name is used"))
    item: dict[str, Any] = {"id": name, "text": _both(label)}
    choices = row["Choices, Calculations, OR Slider Labels"].strip()
    validation = row["Text Validation Type OR Show Slider Number"].strip()
    lo_raw, hi_raw = row["Text Validation Min"].strip(), row["Text Validation Max"].strip()
    lo, hi = _number(lo_raw) if lo_raw else None, _number(hi_raw) if hi_raw else None

    def bounds_unusable(why: str) -> None:
        if lo_raw or hi_raw:
            warnings.append(
                RedcapWarning(
                    row.line, name, f"min/max {lo_raw!r}/{hi_raw!r} cannot be represented ({why})"
                )
            )

    if ftype == "text":
        if validation == "integer":
            item["type"] = "integer"
            if (lo_raw and lo is None) or (hi_raw and hi is None):
                bounds_unusable("not numbers")
            else:
                item["min"], item["max"] = lo, hi
        elif NUMBER_VALIDATION.match(validation):
            item["type"] = "number"
            if validation != "number":
                item["validation"] = validation
            if (lo_raw and lo is None) or (hi_raw and hi is None):
                bounds_unusable("not numbers")
            else:
                item["min"], item["max"] = lo, hi
        elif validation in DATE_VALIDATIONS:
            item["type"] = "date"
            item["validation"] = validation
            _moment_bounds(item, lo_raw, hi_raw, validation, bounds_unusable)
        else:
            item["type"] = "text"
            if validation:
                item["validation"] = validation
                if not is_text_type(validation):
                    warnings.append(
                        RedcapWarning(
                            row.line,
                            name,
                            f"text validation {validation!r} is kept for export but Klik "
                            "accepts any text here",
                        )
                    )
            if validation and (date_order(validation) or validation in TIME_TYPES):
                _moment_bounds(item, lo_raw, hi_raw, validation, bounds_unusable)
            else:
                bounds_unusable("Klik has no bounds for this kind of text")
    elif ftype == "notes":
        item.update(type="text", widget="textarea")
    elif ftype in ("radio", "dropdown"):
        item.update(type="single", widget=ftype, options=_choices(choices, origin, row.line))
    elif ftype == "checkbox":
        item.update(type="multiple", options=_choices(choices, origin, row.line))
    elif ftype == "yesno":
        item["type"] = "yesno"
    elif ftype == "truefalse":
        item.update(type="yesno", widget="truefalse", options=[dict(o) for o in TRUEFALSE])
    elif ftype == "slider":
        item.update(type="integer", widget="slider")
        item["min"] = lo if lo is not None else 0.0
        item["max"] = hi if hi is not None else 100.0
        if validation:
            item["validation"] = validation
        anchors = [a.strip() for a in choices.split("|")] if choices else []
        if anchors:
            item["anchors"] = [_both(a) for a in anchors]
    elif ftype == "descriptive":
        item["type"] = "descriptive"
    elif ftype == "calc":
        item.update(type="calc", calc=" ".join(choices.split()))
        if (lo_raw and lo is None) or (hi_raw and hi is None):
            bounds_unusable("not numbers")
        else:
            item["min"], item["max"] = lo, hi
    for key in ("min", "max"):
        if key in item and item[key] is None:
            del item[key]
    note = row["Field Note"].strip()
    if note:
        item["help"] = _both(note)
    if row["Required Field?"].strip().lower() == "y" and ftype != "descriptive":
        item["required"] = True
    if row["Identifier?"].strip().lower() == "y":
        item["identifier"] = True
    matrix = row["Matrix Group Name"].strip()
    if matrix:
        item["matrix"] = matrix
    _layout_warnings(row, name, ftype, choices, validation, warnings)
    annotation = row["Field Annotation"].strip()
    if annotation:
        item["annotation"] = annotation
        tags = tags_of(annotation)
        for tag in tags.unsupported:
            warnings.append(
                RedcapWarning(
                    row.line,
                    name,
                    f"action tag {tag} is not supported by Klik: kept in the annotation for "
                    "export, not applied",
                )
            )
        for problem in tags.problems:
            warnings.append(RedcapWarning(row.line, name, f"action tag not applied: {problem}"))
    return item


def _layout_warnings(
    row: _Row,
    name: str,
    ftype: str,
    choices: str,
    validation: str,
    warnings: list[RedcapWarning],
) -> None:
    """What REDCap shows that a Klik form does not: named, never dropped in silence."""

    def warn(message: str) -> None:
        warnings.append(RedcapWarning(row.line, name, message))

    if ftype == "text" and choices.upper().startswith("BIOPORTAL:"):
        warn(f"ontology lookup {choices!r} is not supported: a plain text field")
    if ftype == "dropdown" and validation == "autocomplete":
        warn("autocomplete is not supported: a plain drop-down list")
    alignment = row["Custom Alignment"].strip()
    if alignment:
        warn(f"custom alignment {alignment!r} is not applied and not exported again")
    number = row["Question Number (surveys only)"].strip()
    if number:
        warn(f"question number {number!r} is not shown and not exported again")
    if row["Matrix Ranking?"].strip().lower() == "y":
        warn("matrix ranking (one answer per column) is not enforced")


# --- export ------------------------------------------------------------------------------------


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def _text(text: dict[str, str] | None, lang: str) -> str:
    if not text:
        return ""
    return text.get(lang) or text.get("nl") or next(iter(text.values()))


def _logic(show_if: ShowIf) -> str:
    parts = []
    for c in show_if.conditions:
        if c.op in ("has", "lacks"):
            parts.append(f'[{c.item}({c.value})] = "{1 if c.op == "has" else 0}"')
        else:
            op = "<>" if c.op == "!=" else c.op
            parts.append(f'[{c.item}] {op} "{c.value}"')
    return (" and " if show_if.mode == "all" else " or ").join(parts)


def _choices_out(item: Item, lang: str) -> str:
    return " | ".join(f"{o.code}, {_text(o.label, lang)}" for o in item.options)


def _row(item: Item, form: str, header: str, lang: str, logic: str) -> list[str]:
    ftype, choices, validation = "text", "", item.validation or ""
    lo, hi = _fmt(item.min), _fmt(item.max)
    if item.earliest is not None or item.latest is not None:
        lo, hi = item.earliest or "", item.latest or ""
    if item.type in ("likert", "single"):
        ftype = "dropdown" if item.widget == "dropdown" else "radio"
        choices = _choices_out(item, lang)
    elif item.type == "multiple":
        ftype, choices = "checkbox", _choices_out(item, lang)
    elif item.type == "yesno":
        if item.widget == "truefalse":
            ftype = "truefalse"
        elif item.options == DEFAULT_YESNO:
            ftype = "yesno"
        else:
            ftype, choices = "radio", _choices_out(item, lang)
    elif item.type == "integer" and item.widget == "slider":
        ftype = "slider"
        choices = " | ".join(_text(a, lang) for a in item.anchors)
    elif item.type == "integer":
        validation = "integer"
    elif item.type == "number":
        validation = item.validation or "number"
    elif item.type == "date":
        validation = item.validation or "date_ymd"
    elif item.type == "text" and item.widget == "textarea":
        ftype = "notes"
    elif item.type == "descriptive":
        ftype = "descriptive"
    elif item.type == "calc":
        ftype, choices = "calc", item.calc or ""
    return [
        item.id,
        form,
        header,
        ftype,
        _text(item.text, lang),
        choices,
        _text(item.help, lang),
        validation,
        lo,
        hi,
        "y" if item.identifier else "",
        logic,
        "y" if item.required else "",
        "",
        "",
        item.matrix or "",
        "",
        item.annotation or "",
    ]


MAX_FIELD_NAME = 100
"""REDCap's longest field name."""


def _unique_names(
    instruments: Sequence[Instrument],
) -> tuple[dict[tuple[str, str], str], list[str]]:
    """A REDCap field name per (instrument, item): unique across the whole project.

    A name already taken by an earlier instrument, or by a column REDCap adds itself
    (``<form>_complete``, ``<checkbox>___<code>``), becomes ``<instrument>_<item>`` (with a
    number when that is taken too).
    """
    forms = {inst.id for inst in instruments}
    reserved = {f"{form}_complete" for form in forms}
    taken: set[str] = set()
    names: dict[tuple[str, str], str] = {}
    notes: list[str] = []
    for inst in instruments:
        for item in inst.items:
            name = item.id
            if name in taken or name in reserved or "___" in name:
                base = f"{inst.id}_{item.id}".replace("___", "_")[:MAX_FIELD_NAME]
                name, n = base, 2
                while name in taken or name in reserved:
                    suffix = f"_{n}"
                    name = base[: MAX_FIELD_NAME - len(suffix)] + suffix
                    n += 1
                notes.append(
                    f"{inst.id}: field {item.id!r} exported as {name!r} (REDCap needs field "
                    "names that are unique in the project)"
                )
            taken.add(name)
            names[(inst.id, item.id)] = name
    for inst in instruments:
        for item in inst.items:
            if item.type == "multiple":
                for option in item.options:
                    column = f"{names[(inst.id, item.id)]}___{option.code}"
                    if column in taken:
                        raise InstrumentError(
                            f"{inst.id}: checkbox {item.id!r} option {option.code!r} becomes "
                            f"REDCap column {column!r}, which is also a field name"
                        )
    return names, notes


_FIELD_IN_LOGIC = re.compile(r"\[([a-z][a-z0-9_]*)(\([^()]*\))?\]")


def _renamed_logic(logic: str, renames: dict[str, str]) -> str:
    if not renames:
        return logic
    return _FIELD_IN_LOGIC.sub(lambda m: f"[{renames.get(m[1], m[1])}{m[2] or ''}]", logic)


def _headers(inst: Instrument, lang: str) -> dict[str, str]:
    """The section header above each item: its own, or (for an instrument written for Klik
    with several titled pages and no headers of its own) each page's title above its first
    item. A single page is the form itself and gets none."""
    own = {it.id: _text(it.header, lang) for it in inst.items if it.header}
    if own or len(inst.sections) < 2:
        return own
    return {s.item_ids[0]: _text(s.title, lang) for s in inst.sections if s.item_ids}


def export_redcap(
    instruments: Sequence[Instrument],
    lang: str = "nl",
    *,
    record_id: str | None = None,
) -> tuple[str, list[str]]:
    """Klik instruments as a REDCap data dictionary.

    Parameters
    ----------
    instruments
        Instruments to export, in any order; each becomes a form named by its id. The form
        that holds the record ID (:attr:`Instrument.record_id`) goes first, since REDCap takes
        the first field as the record ID; nothing is added when no instrument has one.
        Field names that are not unique in the project are renamed ``<instrument>_<item>``
        (and their branching logic with them); the notes list each.
    lang
        Language of labels and choices.
    record_id
        When no instrument holds a record ID: a text field of this name put first, in the
        first form (REDCap requires a text field there). Ignored when one holds it.

    Returns
    -------
    tuple[str, list[str]]
        The CSV text (REDCap's exact header, ``code, label | code, label`` choices) and notes on
        what was renamed and what REDCap cannot hold (scores, reverse keying, other languages).

    Raises
    ------
    InstrumentError
        When a checkbox column REDCap would add clashes with a field name.
    """
    ordered = sorted(instruments, key=lambda inst: inst.record_id is None)
    names, notes = _unique_names(ordered)
    buffer = io.StringIO()
    buffer.write(REDCAP_HEADER_LINE + "\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    if ordered and ordered[0].record_id is None:
        if record_id is not None:
            if not NAME_PATTERN.match(record_id) or record_id in names.values():
                raise InstrumentError(
                    f"record ID field {record_id!r} must be a new name of a-z, 0-9 and _"
                )
            writer.writerow([record_id, ordered[0].id, "", "text", "Record ID"] + [""] * 13)
            notes.append(
                f"no instrument holds a record ID: added text field {record_id!r} as the first "
                f"field of {ordered[0].id!r}"
            )
        else:
            first = names[(ordered[0].id, ordered[0].items[0].id)] if ordered[0].items else "?"
            notes.append(
                f"no instrument holds a record ID: REDCap takes the first field, {first!r}, "
                "as the record ID (it must be a text field)"
            )
    for inst in ordered:
        renames = {
            it.id: names[(inst.id, it.id)] for it in inst.items if names[(inst.id, it.id)] != it.id
        }
        headers = _headers(inst, lang)
        items = [inst.item(i) for s in inst.sections for i in s.item_ids]
        if inst.record_id is not None:
            # REDCap takes the first field as the record ID.
            items.sort(key=lambda it: it.id != inst.record_id)
        for item in items:
            logic = (
                _logic(item.show_if)
                if item.show_if is not None
                else item.branching or item.inactive_branching or ""
            )
            row = _row(
                item, inst.id, headers.get(item.id, ""), lang, _renamed_logic(logic, renames)
            )
            row[0] = names[(inst.id, item.id)]
            writer.writerow(row)
        for score in inst.scores:
            notes.append(
                f"{inst.id}: score {score.id!r} ({score.rule}) is not exported: REDCap cannot "
                "express Klik's scoring keys; score the exported data with Klik"
            )
        reversed_items = [it.id for it in inst.items if it.reverse]
        if reversed_items:
            notes.append(
                f"{inst.id}: reverse keying of {', '.join(reversed_items)} is not exported"
            )
        intros = [s.id for s in inst.sections if s.intro]
        if intros:
            notes.append(f"{inst.id}: section introductions ({', '.join(intros)}) are not exported")
        others = [lg for lg in inst.languages if lg != lang]
        if others:
            notes.append(f"{inst.id}: texts exported in {lang!r} only (not {', '.join(others)})")
    return buffer.getvalue(), notes


def write_redcap(
    instruments: Sequence[Instrument],
    path: str | Path,
    lang: str = "nl",
    *,
    record_id: str | None = None,
) -> list[str]:
    """Write :func:`export_redcap` output to ``path`` (UTF-8); returns the notes."""
    text, notes = export_redcap(instruments, lang, record_id=record_id)
    Path(path).write_text(text, encoding="utf-8", newline="")
    return notes
