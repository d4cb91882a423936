"""A longitudinal REDCap project as a Klik protocol plus instruments.

Sources: the project XML REDCap exports (CDISC ODM 1.3.2 with REDCap's extensions: fields,
events with day offsets and windows, the instrument–event mapping, survey page settings), or a
data dictionary with REDCap's events, arms and instrument–event mapping CSV files. The result
is a :class:`RedcapProject`: instruments (as :func:`questionnaires.redcap.parse_redcap` makes
them), waves (one per event: day offset, window, which instrument each respondent role
answers) and a report that says per field what was kept, changed or not supported.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from questionnaires.errors import InstrumentError
from questionnaires.model import Instrument
from questionnaires.redcap import REDCAP_COLUMNS, REDCAP_HEADER_LINE, RedcapWarning, parse_redcap

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
RC = "{https://projectredcap.org}"
ROLES = ("employee", "jobcoach", "employer")
DEFAULT_OPENS_DAYS_BEFORE = 7
DEFAULT_CLOSES_DAYS_AFTER = 28

# REDCap's own names for field types in the project XML, and the dictionary's.
_ODM_TYPES = {"textarea": "notes", "select": "dropdown"}
_ODM_VALIDATIONS = {"int": "integer", "float": "number"}


@dataclass(frozen=True)
class Event:
    """One REDCap event: an arm's visit with its day offset and window (days before, after)."""

    unique_name: str
    label: str
    arm: int
    day_offset: float = 0.0
    offset_min: float = 0.0
    offset_max: float = 0.0


@dataclass(frozen=True)
class Wave:
    """A Klik wave made from an event: code, day offset, window and instrument per role."""

    code: str
    label: str
    arm: int
    arm_name: str
    offset_days: int
    opens_days_before: int
    closes_days_after: int
    instruments: tuple[tuple[str, str], ...]
    """(respondent role, instrument id) pairs."""


@dataclass(frozen=True)
class ReportLine:
    """What the import did with one field (or event, or form): kept, changed, not supported."""

    where: str
    status: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.status}\t{self.where}\t{self.note}".rstrip()


def _dictionary_rows(dictionary: str) -> Iterator[dict[str, str]]:
    """The rows of a data dictionary by column, headers stripped as the import strips them."""
    reader = csv.DictReader(io.StringIO(dictionary.lstrip("\ufeff")))
    reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
    yield from reader


def field_report(
    dictionary: str, instruments: list[Instrument], warnings: list[RedcapWarning]
) -> list[ReportLine]:
    """Per field of a dictionary, in its order: kept, changed (with the warnings) or not
    supported (left out, with why)."""
    warned: dict[str, list[str]] = {}
    for w in warnings:
        warned.setdefault(w.field, []).append(w.message)
    kept = {it.id for inst in instruments for it in inst.items}
    report = []
    for row in _dictionary_rows(dictionary):
        name = row["Variable / Field Name"].strip()
        where = f"{row['Form Name']}.{name}"
        notes = warned.get(name, [])
        if name not in kept:
            report.append(ReportLine(where, "not supported", "; ".join(notes)))
        elif notes:
            report.append(ReportLine(where, "changed", "; ".join(notes)))
        else:
            report.append(ReportLine(where, "kept"))
    return report


@dataclass(frozen=True)
class RedcapProject:
    """Instruments, waves and the import report of one REDCap project."""

    instruments: list[Instrument]
    waves: list[Wave]
    report: list[ReportLine] = field(default_factory=list)

    def protocol(self) -> dict[str, Any]:
        """The waves as the mapping written to ``protocol.json``."""
        return {
            "source": "REDCap project",
            "waves": [
                {
                    "code": w.code,
                    "label": w.label,
                    "arm": w.arm,
                    "arm_name": w.arm_name,
                    "offset_days": w.offset_days,
                    "opens_days_before": w.opens_days_before,
                    "closes_days_after": w.closes_days_after,
                    "instruments": dict(w.instruments),
                }
                for w in self.waves
            ],
        }


def _csv_rows(text: str, origin: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise InstrumentError(
            f"{origin}: line 1: columns {', '.join(missing)} are missing "
            f"(found {', '.join(reader.fieldnames or []) or 'none'})"
        )
    return list(reader)


def _number(text: str | None, origin: str, line: int, column: str) -> float:
    if text is None or text.strip() == "":
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise InstrumentError(f"{origin}: line {line}: {column} {text!r} is not a number") from None


def read_events(text: str, origin: str = "events.csv") -> list[Event]:
    """REDCap's events CSV (``event_name, arm_num, unique_event_name`` and, when REDCap
    exports them, ``day_offset, offset_min, offset_max``)."""
    rows = _csv_rows(text, origin, ("event_name", "arm_num", "unique_event_name"))
    events = []
    for line, row in enumerate(rows, start=2):
        events.append(
            Event(
                unique_name=row["unique_event_name"].strip(),
                label=(row.get("custom_event_label") or "").strip() or row["event_name"].strip(),
                arm=int(_number(row["arm_num"], origin, line, "arm_num")),
                day_offset=_number(row.get("day_offset"), origin, line, "day_offset"),
                offset_min=_number(row.get("offset_min"), origin, line, "offset_min"),
                offset_max=_number(row.get("offset_max"), origin, line, "offset_max"),
            )
        )
    return events


def read_arms(text: str, origin: str = "arms.csv") -> dict[int, str]:
    """REDCap's arms CSV (``arm_num, name``)."""
    rows = _csv_rows(text, origin, ("arm_num", "name"))
    return {
        int(_number(r["arm_num"], origin, i, "arm_num")): r["name"].strip()
        for i, r in enumerate(rows, 2)
    }


def read_mapping(text: str, origin: str = "mapping.csv") -> list[tuple[int, str, str]]:
    """REDCap's instrument–event mapping CSV (``arm_num, unique_event_name, form``)."""
    rows = _csv_rows(text, origin, ("arm_num", "unique_event_name", "form"))
    return [
        (int(_number(r["arm_num"], origin, i, "arm_num")), r["unique_event_name"].strip(),
         r["form"].strip())
        for i, r in enumerate(rows, 2)
    ]  # fmt: skip


@dataclass
class _Odm:
    dictionary: str
    events: list[Event]
    arms: dict[int, str]
    mapping: list[tuple[int, str, str]]
    by_section: set[str]


def _text_of(element: ET.Element | None) -> str:
    if element is None:
        return ""
    translated = element.find(f"{ODM}TranslatedText")
    return (translated.text or "") if translated is not None else ""


def read_project_xml(text: str, origin: str = "project.xml") -> _Odm:
    """The parts of a REDCap project XML that Klik uses, as a dictionary and event lists."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InstrumentError(f"{origin}: line {exc.position[0]}: not well-formed XML") from None
    if root.tag != f"{ODM}ODM":
        raise InstrumentError(f"{origin}: line 1: not a CDISC ODM file (root {root.tag!r})")
    meta = root.find(f"{ODM}Study/{ODM}MetaDataVersion")
    if meta is None:
        raise InstrumentError(f"{origin}: no Study/MetaDataVersion element")
    items = {e.get("OID"): e for e in meta.iter(f"{ODM}ItemDef")}
    groups = {e.get("OID"): e for e in meta.iter(f"{ODM}ItemGroupDef")}
    code_lists = {e.get("OID"): e for e in meta.iter(f"{ODM}CodeList")}
    buffer = io.StringIO()
    buffer.write(REDCAP_HEADER_LINE + "\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    seen: set[str] = set()
    for form in meta.iter(f"{ODM}FormDef"):
        form_name = form.get(f"{RC}FormName") or ""
        for ref in form.iter(f"{ODM}ItemGroupRef"):
            group = groups.get(ref.get("ItemGroupOID"))
            if group is None:
                continue
            for item_ref in group.iter(f"{ODM}ItemRef"):
                item = items.get(item_ref.get("ItemOID"))
                if item is None:
                    continue
                name = item.get(f"{RC}Variable") or item.get("Name") or ""
                if name in seen or name == f"{form_name}_complete":
                    continue
                seen.add(name)
                writer.writerow(_dictionary_row(item, name, form_name, code_lists))
    events: list[Event] = []
    mapping: list[tuple[int, str, str]] = []
    arms: dict[int, str] = {}
    for event in meta.iter(f"{ODM}StudyEventDef"):
        unique = event.get(f"{RC}UniqueEventName") or ""
        arm = int(float(event.get(f"{RC}ArmNum") or 1))
        arms.setdefault(arm, event.get(f"{RC}ArmName") or f"Arm {arm}")
        events.append(
            Event(
                unique_name=unique,
                label=event.get(f"{RC}CustomEventLabel") or event.get(f"{RC}EventName")
                or event.get("Name") or unique,
                arm=arm,
                day_offset=float(event.get(f"{RC}DayOffset") or 0),
                offset_min=float(event.get(f"{RC}OffsetMin") or 0),
                offset_max=float(event.get(f"{RC}OffsetMax") or 0),
            )
        )  # fmt: skip
        for form_ref in event.iter(f"{ODM}FormRef"):
            form_name = form_ref.get(f"{RC}FormName") or ""
            mapping.append((arm, unique, form_name))
    by_section = {
        s.get("form_name") or ""
        for s in root.iter(f"{RC}Surveys")
        if (s.get("question_by_section") or "0") == "1"
    }
    return _Odm(buffer.getvalue(), events, arms, mapping, by_section)


def _dictionary_row(
    item: ET.Element, name: str, form: str, code_lists: Mapping[str | None, ET.Element]
) -> list[str]:
    ftype = item.get(f"{RC}FieldType") or "text"
    ftype = _ODM_TYPES.get(ftype, ftype)
    choices = item.get(f"{RC}Calculation") or item.get(f"{RC}SliderLabels") or ""
    ref = item.find(f"{ODM}CodeListRef")
    if ref is not None and ftype not in ("yesno", "truefalse") and not choices:
        code_list = code_lists.get(ref.get("CodeListOID"))
        if code_list is not None:
            choices = code_list.get(f"{RC}CheckboxChoices") or " | ".join(
                f"{c.get('CodedValue')}, {_text_of(c.find(f'{ODM}Decode'))}"
                for c in code_list.iter(f"{ODM}CodeListItem")
            )
    lo = hi = ""
    for check in item.iter(f"{ODM}RangeCheck"):
        value = _text_of(check) or (check.findtext(f"{ODM}CheckValue") or "")
        if check.get("Comparator") in ("GE", "GT"):
            lo = value
        elif check.get("Comparator") in ("LE", "LT"):
            hi = value
    lo = item.get(f"{RC}MinValue") or lo
    hi = item.get(f"{RC}MaxValue") or hi
    cells = {
        "Variable / Field Name": name,
        "Form Name": form,
        "Section Header": item.get(f"{RC}SectionHeader") or "",
        "Field Type": ftype,
        "Field Label": _text_of(item.find(f"{ODM}Question")),
        "Choices, Calculations, OR Slider Labels": choices,
        "Field Note": item.get(f"{RC}FieldNote") or "",
        "Text Validation Type OR Show Slider Number": _ODM_VALIDATIONS.get(
            item.get(f"{RC}TextValidationType") or "", item.get(f"{RC}TextValidationType") or ""
        ),
        "Text Validation Min": lo,
        "Text Validation Max": hi,
        "Identifier?": item.get(f"{RC}Identifier") or "",
        "Branching Logic (Show field only if...)": item.get(f"{RC}BranchingLogic") or "",
        "Required Field?": item.get(f"{RC}RequiredField") or "",
        "Custom Alignment": item.get(f"{RC}CustomAlignment") or "",
        "Question Number (surveys only)": item.get(f"{RC}QuestionNumber") or "",
        "Matrix Group Name": item.get(f"{RC}MatrixGroupName") or "",
        "Matrix Ranking?": item.get(f"{RC}MatrixRanking") or "",
        "Field Annotation": item.get(f"{RC}FieldAnnotation") or "",
    }
    return [cells[c] for c in REDCAP_COLUMNS]


def build_project(
    dictionary: str,
    events: list[Event],
    mapping: list[tuple[int, str, str]],
    *,
    arms: Mapping[int, str] | None = None,
    roles: Mapping[str, str] | None = None,
    respondent: str = "employee",
    language: str = "nl",
    version: str = "1",
    by_section: set[str] | None = None,
    origin: str = "<project>",
) -> RedcapProject:
    """Instruments, waves and report from a dictionary and the project's events.

    Parameters
    ----------
    dictionary
        The data dictionary text (from the CSV, or made from the project XML).
    events, mapping, arms
        The events, the (arm, event, form) mapping and the arms' names.
    roles
        Respondent role per form (``employee``, ``jobcoach``, ``employer``); forms not named
        go to ``respondent``.
    language
        The language the project is written in; texts go in as that language only.
    by_section
        Forms whose survey shows one section per page (the others: one page per form).

    Raises
    ------
    InstrumentError
        For an unknown role, a role given to a form that does not exist, or a mapping that
        names an event or form that does not exist.
    """
    roles = dict(roles or {})
    if respondent not in ROLES:
        raise InstrumentError(f"{origin}: respondent must be one of {', '.join(ROLES)}")
    for form, role in roles.items():
        if role not in ROLES:
            raise InstrumentError(
                f"{origin}: form {form!r}: role must be one of {', '.join(ROLES)}, not {role!r}"
            )
    by_section = by_section or set()
    report: list[ReportLine] = []
    instruments: list[Instrument] = []
    warnings: list[RedcapWarning] = []
    forms_in_order: list[str] = []
    for row in _dictionary_rows(dictionary):
        if row["Form Name"] not in forms_in_order:
            forms_in_order.append(row["Form Name"])
    unknown_roles = sorted(set(roles) - set(forms_in_order))
    if unknown_roles:
        raise InstrumentError(f"{origin}: --role names forms that do not exist: {unknown_roles}")
    for pages in ("form", "section"):
        result = parse_redcap(
            dictionary,
            origin,
            version=version,
            pages=pages,  # type: ignore[arg-type]
            language=language,
        )
        for inst in result.instruments:
            if (inst.id in by_section) == (pages == "section"):
                instruments.append(_with_respondent(inst, roles.get(inst.id, respondent)))
        if pages == "form":
            warnings = result.warnings
    order = {form: i for i, form in enumerate(forms_in_order)}
    instruments.sort(key=lambda inst: order.get(inst.id, len(order)))
    report += field_report(dictionary, instruments, warnings)
    waves = _waves(events, mapping, arms or {}, {i.id: i for i in instruments}, report, origin)
    return RedcapProject(instruments, waves, report)


def _with_respondent(inst: Instrument, respondent: str) -> Instrument:
    return dataclasses.replace(inst, respondent=respondent)  # type: ignore[arg-type]


def _waves(
    events: list[Event],
    mapping: list[tuple[int, str, str]],
    arms: Mapping[int, str],
    instruments: Mapping[str, Instrument],
    report: list[ReportLine],
    origin: str,
) -> list[Wave]:
    known = {e.unique_name for e in events}
    for _arm, event, form in mapping:
        if event not in known:
            raise InstrumentError(f"{origin}: mapping names unknown event {event!r}")
        if form not in instruments:
            report.append(
                ReportLine(f"{event}.{form}", "not supported", "the form has no field Klik keeps")
            )
    waves = []
    for event in sorted(events, key=lambda e: (e.arm, e.day_offset)):
        where = f"event {event.unique_name}"
        chosen: dict[str, str] = {}
        for _arm, name, form in mapping:
            if name != event.unique_name or form not in instruments:
                continue
            role = instruments[form].respondent
            if role in chosen:
                report.append(
                    ReportLine(
                        f"{event.unique_name}.{form}",
                        "not supported",
                        f"a Klik wave sends one form per role; {role} already answers "
                        f"{chosen[role]!r} here (give this form another role with --role)",
                    )
                )
                continue
            chosen[role] = form
        opens, closes = round(event.offset_min), round(event.offset_max)
        if opens == 0 and closes == 0 and event.day_offset >= 0:
            opens, closes = (
                (0 if event.day_offset == 0 else DEFAULT_OPENS_DAYS_BEFORE),
                (DEFAULT_CLOSES_DAYS_AFTER),
            )
            report.append(
                ReportLine(
                    where,
                    "changed",
                    f"no window in REDCap: opens {opens} days before, closes {closes} days after",
                )
            )
        else:
            report.append(ReportLine(where, "kept", f"window -{opens}/+{closes} days"))
        if not float(event.day_offset).is_integer():
            report.append(ReportLine(where, "changed", "day offset rounded to whole days"))
        waves.append(
            Wave(
                code=event.unique_name,
                label=event.label,
                arm=event.arm,
                arm_name=arms.get(event.arm, f"Arm {event.arm}"),
                offset_days=round(event.day_offset),
                opens_days_before=opens,
                closes_days_after=closes,
                instruments=tuple(sorted(chosen.items())),
            )
        )
    return waves


def import_project(
    *,
    dictionary: str | None = None,
    project_xml: str | None = None,
    events: str | None = None,
    arms: str | None = None,
    mapping: str | None = None,
    roles: Mapping[str, str] | None = None,
    respondent: str = "employee",
    language: str = "nl",
    version: str = "1",
    origin: str = "<project>",
) -> RedcapProject:
    """A REDCap project from its XML, or from a dictionary with events/arms/mapping CSV texts.

    Without events the project has one wave, ``event_1`` at day 0, answering every form.
    """
    if project_xml is not None:
        odm = read_project_xml(project_xml, origin)
        return build_project(
            odm.dictionary,
            odm.events,
            odm.mapping,
            arms=odm.arms,
            roles=roles,
            respondent=respondent,
            language=language,
            version=version,
            by_section=odm.by_section,
            origin=origin,
        )
    if dictionary is None:
        raise InstrumentError(f"{origin}: give a data dictionary or a project XML")
    event_list = read_events(events) if events is not None else [Event("event_1", "Event 1", 1)]
    arm_names = read_arms(arms) if arms is not None else {}
    if mapping is not None:
        pairs = read_mapping(mapping)
    else:
        forms = []
        for row in _dictionary_rows(dictionary):
            if row["Form Name"] not in forms:
                forms.append(row["Form Name"])
        pairs = [(e.arm, e.unique_name, f) for e in event_list for f in forms]
    return build_project(
        dictionary,
        event_list,
        pairs,
        arms=arm_names,
        roles=roles,
        respondent=respondent,
        language=language,
        version=version,
        origin=origin,
    )
