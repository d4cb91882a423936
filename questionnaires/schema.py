"""Instrument files as data: parse a YAML mapping into an :class:`Instrument`, and back.

The format is described in ``questionnaires/FORMAT.md`` and, as a JSON Schema made from the
pydantic models of :mod:`questionnaires.file_models`, in ``questionnaires/instrument.schema.json``.
:func:`parse_instrument` checks a file's shape against those models, then every rule that needs
the whole instrument, and raises one :class:`InstrumentError` listing all problems, each naming
the file, the item (or score, or section) and the problem.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from typing import Any, get_args

from questionnaires.errors import InstrumentError
from questionnaires.file_models import structure_problems
from questionnaires.logic import Expression, LogicError
from questionnaires.logic import parse as parse_logic
from questionnaires.model import (
    CHOICE_TYPES,
    Band,
    Condition,
    Instrument,
    Item,
    ItemType,
    Option,
    Respondent,
    Score,
    ScoreRule,
    Section,
    ShowIf,
    Text,
    Widget,
)

REQUIRED_LANGUAGES: tuple[str, ...] = ("nl", "en")
_BOUND = re.compile(
    r"^(today|now|\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?|\d{1,2}:\d{2}(:\d{2})?)$"
)
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
CONDITION_OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=", "has", "lacks")
DEFAULT_YESNO: tuple[Option, ...] = (
    Option(1, {"nl": "Ja", "en": "Yes"}),
    Option(0, {"nl": "Nee", "en": "No"}),
)
_WIDGETS: dict[str, frozenset[str]] = {
    "radio": frozenset({"likert", "single"}),
    "dropdown": frozenset({"likert", "single"}),
    "slider": frozenset({"integer", "number"}),
    "truefalse": frozenset({"yesno"}),
    "textarea": frozenset({"text"}),
}


class _Problems:
    """Collects problems so that one error lists them all."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.messages: list[str] = []

    def add(self, where: str, problem: str) -> None:
        prefix = f"{self.origin}: {where}: " if where else f"{self.origin}: "
        self.messages.append(prefix + problem)

    def raise_if_any(self) -> None:
        if self.messages:
            raise InstrumentError("\n".join(self.messages))


def parse_instrument(data: Any, origin: str = "<instrument>") -> Instrument:
    """Build an instrument from a parsed YAML mapping, checking every rule.

    Parameters
    ----------
    data
        The mapping read from an instrument file.
    origin
        The file name (or other origin) used in error messages.

    Raises
    ------
    InstrumentError
        Listing every problem found, each naming the file, the item and the problem.
    """
    p = _Problems(origin)
    if not isinstance(data, Mapping):
        p.add("", "an instrument file must be a mapping (id, version, sections, ...)")
        p.raise_if_any()
    # The file's shape (keys, types, ids, literals) is the published models' to check; the
    # rules below need the whole instrument.
    for where, problem in structure_problems(dict(data)):
        p.add(where, problem)
    p.raise_if_any()
    inst_id = _ident(data.get("id"), p, "instrument id")
    version = data.get("version")
    if version is None or str(version).strip() == "":
        p.add("", "version is missing")
    version = str(version or "").strip()
    respondent = data.get("respondent")
    if respondent not in get_args(Respondent):
        p.add(
            "", f"respondent must be one of {', '.join(get_args(Respondent))}, not {respondent!r}"
        )
    languages = tuple(data.get("languages") or REQUIRED_LANGUAGES)
    # An imported instrument may hold one language (a dictionary is written in one); the
    # form then shows that text whatever language the respondent chose.
    for lang in languages:
        if lang not in REQUIRED_LANGUAGES:
            p.add("", f"languages may hold {' and '.join(REQUIRED_LANGUAGES)}, not {lang!r}")
    title = _text(data.get("title"), languages, p, "instrument", "title")
    description = (
        _text(data["description"], languages, p, "instrument", "description")
        if data.get("description") is not None
        else None
    )
    source, licence = str(data.get("source") or "").strip(), str(data.get("licence") or "").strip()
    if not source:
        p.add("", "source is missing (which instrument the structure follows, or 'own')")
    if not licence:
        p.add("", "licence is missing (say whose wording this is and under which licence)")

    option_sets: dict[str, tuple[Option, ...]] = {}
    raw_sets = data.get("option_sets") or {}
    if not isinstance(raw_sets, Mapping):
        p.add("", "option_sets must be a mapping of name to a list of options")
        raw_sets = {}
    for name, raw in raw_sets.items():
        option_sets[str(name)] = _options(raw, languages, p, f"option set {name!r}")

    sections: list[Section] = []
    items: list[Item] = []
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        p.add("", "sections must be a non-empty list")
        raw_sections = []
    seen_sections: set[str] = set()
    seen_items: set[str] = set()
    for s_index, raw_sec in enumerate(raw_sections):
        if not isinstance(raw_sec, Mapping):
            p.add(f"section {s_index + 1}", "must be a mapping with id, title and items")
            continue
        sec_id = _ident(raw_sec.get("id"), p, f"section {s_index + 1} id")
        where = f"section {sec_id!r}"
        if sec_id in seen_sections:
            p.add(where, "duplicate section id")
        seen_sections.add(sec_id)
        sec_title = _text(raw_sec.get("title"), languages, p, where, "title")
        intro = (
            _text(raw_sec["intro"], languages, p, where, "intro")
            if raw_sec.get("intro") is not None
            else None
        )
        raw_items = raw_sec.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            p.add(where, "items must be a non-empty list")
            raw_items = []
        ids: list[str] = []
        for i_index, raw_item in enumerate(raw_items):
            item = _item(raw_item, sec_id, languages, option_sets, p, f"{where} item {i_index + 1}")
            if item is None:
                continue
            if item.id in seen_items:
                p.add(f"item {item.id!r}", "duplicate item id")
                continue
            seen_items.add(item.id)
            items.append(item)
            ids.append(item.id)
        sections.append(Section(sec_id, sec_title, tuple(ids), intro))

    by_id = {it.id: it for it in items}
    _check_formulas(items, p)
    for it in items:
        if it.show_if is not None:
            for c in it.show_if.conditions:
                if c.item not in by_id:
                    p.add(f"item {it.id!r}", f"show_if names unknown item {c.item!r}")

    record_id = _opt_str(data.get("record_id"))
    if record_id is not None and record_id not in by_id:
        p.add("", f"record_id names unknown item {record_id!r}")

    scores: list[Score] = []
    raw_scores = data.get("scores") or []
    if not isinstance(raw_scores, list):
        p.add("", "scores must be a list")
        raw_scores = []
    seen_scores: set[str] = set()
    for sc_index, raw_sc in enumerate(raw_scores):
        sc = _score(raw_sc, by_id, languages, p, f"score {sc_index + 1}")
        if sc is None:
            continue
        if sc.id in seen_scores:
            p.add(f"score {sc.id!r}", "duplicate score id")
        seen_scores.add(sc.id)
        scores.append(sc)

    p.raise_if_any()
    return Instrument(
        id=inst_id,
        version=version,
        respondent=respondent,
        title=title,
        sections=tuple(sections),
        items=tuple(items),
        scores=tuple(scores),
        source=source,
        licence=licence,
        languages=languages,
        description=description,
        record_id=record_id,
        origin=origin,
    )


def _ident(value: Any, p: _Problems, what: str) -> str:
    text = "" if value is None else str(value)
    if not ID_PATTERN.match(text):
        p.add(
            "",
            f"{what} {value!r} must start with a lower-case letter and hold only a-z, 0-9 and _",
        )
    return text


def _text(value: Any, languages: tuple[str, ...], p: _Problems, where: str, what: str) -> Text:
    if isinstance(value, str) or not isinstance(value, Mapping):
        p.add(where, f"{what} must be translated: a mapping with {', '.join(languages)}")
        return {}
    out: Text = {}
    for lang in languages:
        text = value.get(lang)
        if text is None or str(text).strip() == "":
            p.add(where, f"missing translation: {what} has no {lang!r} text")
        else:
            out[lang] = str(text)
    for lang in value:
        if lang not in languages:
            p.add(where, f"{what} has text in {lang!r}, which is not in languages")
    return out


def _options(raw: Any, languages: tuple[str, ...], p: _Problems, where: str) -> tuple[Option, ...]:
    if not isinstance(raw, list):
        p.add(where, "options must be a list of {code, label}")
        return ()
    out: list[Option] = []
    seen: set[str] = set()
    for i, o in enumerate(raw):
        if not isinstance(o, Mapping) or "code" not in o:
            p.add(where, f"option {i + 1} must be a mapping with code and label")
            continue
        code = o["code"]
        if isinstance(code, bool) or not isinstance(code, int | str):
            p.add(where, f"option code {code!r} must be a whole number or a word")
            continue
        if str(code) in seen:
            p.add(where, f"duplicate option code {code!r}")
        seen.add(str(code))
        out.append(Option(code, _text(o.get("label"), languages, p, where, f"option {code!r}")))
    return tuple(out)


def _item(
    raw: Any,
    section: str,
    languages: tuple[str, ...],
    option_sets: Mapping[str, tuple[Option, ...]],
    p: _Problems,
    fallback_where: str,
) -> Item | None:
    if not isinstance(raw, Mapping):
        p.add(fallback_where, "must be a mapping with id, type and text")
        return None
    item_id = str(raw.get("id", ""))
    if not ID_PATTERN.match(item_id):
        p.add(
            fallback_where,
            f"item id {raw.get('id')!r} must start with a lower-case letter "
            "and hold only a-z, 0-9 and _",
        )
        return None
    where = f"item {item_id!r}"
    item_type = raw.get("type")
    if item_type not in get_args(ItemType):
        p.add(where, f"type must be one of {', '.join(get_args(ItemType))}, not {item_type!r}")
        return None
    text = _text(raw.get("text"), languages, p, where, "text")
    help_text = (
        _text(raw["help"], languages, p, where, "help") if raw.get("help") is not None else None
    )

    raw_options = raw.get("options")
    options: tuple[Option, ...] = ()
    if isinstance(raw_options, str):
        if raw_options not in option_sets:
            p.add(where, f"options name unknown option set {raw_options!r}")
        options = option_sets.get(raw_options, ())
    elif raw_options is not None:
        options = _options(raw_options, languages, p, where)
    if item_type in CHOICE_TYPES:
        if item_type == "yesno" and not options:
            options = DEFAULT_YESNO
        if not options:
            p.add(where, f"a {item_type} item needs options")
        if item_type == "likert":
            if len(options) < 2:
                p.add(where, "a likert item needs at least two options")
            if not all(isinstance(o.code, int) for o in options):
                p.add(where, "likert option codes must be whole numbers")
        if item_type == "yesno" and sorted(str(o.code) for o in options) != ["0", "1"]:
            p.add(where, "yesno options must have codes 1 (yes) and 0 (no)")
    elif raw_options is not None:
        p.add(where, f"a {item_type} item takes no options")

    lo, hi = _number(raw.get("min"), p, where, "min"), _number(raw.get("max"), p, where, "max")
    if (lo is not None or hi is not None) and item_type not in ("integer", "number", "calc"):
        p.add(where, f"min/max apply to integer and number items, not {item_type}")
    if lo is not None and hi is not None and lo > hi:
        p.add(where, f"min {lo} is larger than max {hi}")
    if item_type == "integer":
        for name, bound in (("min", lo), ("max", hi)):
            if bound is not None and bound != int(bound):
                p.add(where, f"{name} of an integer item must be a whole number")

    reverse = _flag(raw.get("reverse"), p, where, "reverse")
    widget = raw.get("widget")
    if widget is not None and (widget not in _WIDGETS or item_type not in _WIDGETS[widget]):
        p.add(where, f"widget {widget!r} does not fit a {item_type} item")
    show_if = _show_if(raw.get("show_if"), p, where) if raw.get("show_if") is not None else None
    anchors_raw = raw.get("anchors") or []
    if not isinstance(anchors_raw, list):
        p.add(where, "anchors must be a list of translated texts")
        anchors_raw = []
    anchors = tuple(_text(a, languages, p, where, "anchor") for a in anchors_raw)
    header = (
        _text(raw["header"], languages, p, where, "header")
        if raw.get("header") is not None
        else None
    )
    item = Item(
        id=item_id,
        type=item_type,
        text=text,
        section=section,
        options=options,
        min=lo,
        max=hi,
        required=_flag(raw.get("required"), p, where, "required"),
        reverse=reverse,
        help=help_text,
        widget=widget,
        validation=_opt_str(raw.get("validation")),
        matrix=_opt_str(raw.get("matrix")),
        show_if=show_if,
        branching=_opt_str(raw.get("branching")),
        identifier=_flag(raw.get("identifier"), p, where, "identifier"),
        annotation=_opt_str(raw.get("annotation")),
        anchors=anchors,
        header=header,
        calc=_opt_str(raw.get("calc")),
        inactive_branching=_opt_str(raw.get("inactive_branching")),
        earliest=_opt_str(raw.get("earliest")),
        latest=_opt_str(raw.get("latest")),
    )
    for key in ("earliest", "latest"):
        bound_text = getattr(item, key)
        if bound_text is None:
            continue
        if item_type not in ("date", "text"):
            p.add(where, f"{key} applies to date, date-time and time items, not {item_type}")
        elif not _BOUND.match(bound_text):
            p.add(where, f"{key} {bound_text!r} must be today, now, YYYY-MM-DD or YYYY-MM-DD HH:MM")
    if item_type == "calc" and item.calc is None:
        p.add(where, "a calc item needs a calc formula")
    if item_type != "calc" and item.calc is not None:
        p.add(where, f"a {item_type} item takes no calc formula")
    if reverse and (not item.numeric or item.value_range is None):
        p.add(
            where,
            "reverse keying needs a numeric item with a known range "
            "(likert, or integer/number with min and max)",
        )
    if item_type == "descriptive" and item.required:
        p.add(where, "a descriptive item cannot be required")
    return item


def logic_kinds(items: list[Item] | tuple[Item, ...]) -> dict[str, str]:
    """Item ids and their kind for :meth:`questionnaires.logic.Expression.check`."""
    return {it.id: "checkbox" if it.type == "multiple" else it.type for it in items}


def _check_formulas(items: list[Item], p: _Problems) -> None:
    kinds = logic_kinds(items)
    for it in items:
        if it.branching is not None:
            try:
                expr = parse_logic(it.branching)
                expr.check(_current_only(kinds, expr))
            except LogicError as exc:
                p.add(f"item {it.id!r}", f"branching {it.branching!r}: {exc}")
            if it.show_if is not None:
                p.add(f"item {it.id!r}", "give show_if or branching, not both")
        if it.calc is None:
            continue
        try:
            expr = parse_logic(it.calc)
            expr.check(_current_only(kinds, expr))
        except LogicError as exc:
            p.add(f"item {it.id!r}", f"calc formula {it.calc!r}: {exc}")
            continue
        if (None, it.id) in expr.fields:
            p.add(f"item {it.id!r}", "calc formula refers to the item itself")


def _current_only(kinds: Mapping[str, str], expr: Expression) -> dict[str, str]:
    """The known fields, plus any field read from another event (wave): those are checked
    when the protocol is known, not here."""
    out = dict(kinds)
    for event, name in expr.fields:
        if event is not None and name not in out:
            out[name] = "any"
    return out


def _number(value: Any, p: _Problems, where: str, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        p.add(where, f"{what} must be a number, not {value!r}")
        return None
    if not math.isfinite(value):
        p.add(where, f"{what} must be finite")
        return None
    return float(value)


def _flag(value: Any, p: _Problems, where: str, what: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        p.add(where, f"{what} must be true or false, not {value!r}")
        return False
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None or str(value) == "" else str(value)


def _show_if(raw: Any, p: _Problems, where: str) -> ShowIf | None:
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in ("all", "any"):
        p.add(where, "show_if must be {all: [...]} or {any: [...]}")
        return None
    mode = next(iter(raw))
    clauses = raw[mode]
    if not isinstance(clauses, list) or not clauses:
        p.add(where, "show_if needs at least one condition")
        return None
    out: list[Condition] = []
    for c in clauses:
        if not isinstance(c, Mapping) or not {"item", "op", "value"} <= set(c):
            p.add(where, "each show_if condition needs item, op and value")
            continue
        if c["op"] not in CONDITION_OPS:
            p.add(where, f"show_if op must be one of {' '.join(CONDITION_OPS)}, not {c['op']!r}")
            continue
        out.append(Condition(str(c["item"]), str(c["op"]), str(c["value"])))
    return ShowIf(mode, tuple(out)) if out else None


def implied_scale(rule: str, items: list[Item], multiplier: float) -> tuple[float, float] | None:
    """The range a scoring rule can produce from its items (None when it cannot be known)."""
    if rule == "capability_flag":
        return (0.0, 1.0)
    if rule == "capability_count":
        return (0.0, float(len(items) // 3))
    ranges = [it.value_range for it in items]
    if not ranges or any(r is None for r in ranges):
        return None
    lo = min(r[0] for r in ranges if r is not None)
    hi = max(r[1] for r in ranges if r is not None)
    if rule == "sum":
        lo, hi = lo * len(items), hi * len(items)
    return (lo * multiplier, hi * multiplier)


def _score(
    raw: Any,
    by_id: Mapping[str, Item],
    languages: tuple[str, ...],
    p: _Problems,
    fallback_where: str,
) -> Score | None:
    if not isinstance(raw, Mapping) or not ID_PATTERN.match(str(raw.get("id", ""))):
        p.add(fallback_where, "a score needs an id of a-z, 0-9 and _")
        return None
    score_id = str(raw["id"])
    where = f"score {score_id!r}"
    rule = raw.get("rule")
    if rule not in get_args(ScoreRule):
        p.add(where, f"rule must be one of {', '.join(get_args(ScoreRule))}, not {rule!r}")
        return None
    label = _text(raw.get("label"), languages, p, where, "label")
    raw_items = raw.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        p.add(where, "items must be a non-empty list of item ids")
        return None
    item_ids = [str(i) for i in raw_items]
    ok = True
    for i in item_ids:
        if i not in by_id:
            p.add(where, f"names unknown item {i!r}")
            ok = False
        elif by_id[i].computed:
            continue  # a calculated value's range is the formula's; the scale is taken as given
        elif not by_id[i].numeric or by_id[i].value_range is None:
            p.add(
                where,
                f"item {i!r} is not numeric with a known range, so it cannot be scored",
            )
            ok = False
    if len(set(item_ids)) != len(item_ids):
        p.add(where, "names an item twice")
    n = len(item_ids)
    if rule == "item" and n != 1:
        p.add(where, "rule 'item' takes exactly one item")
    if rule == "capability_flag" and n != 3:
        p.add(where, "rule 'capability_flag' takes three items: important, enabled, achieved")
    if rule == "capability_count" and n % 3 != 0:
        p.add(
            where, "rule 'capability_count' takes triples of items (important, enabled, achieved)"
        )
    max_missing = raw.get("max_missing", 0)
    units = n // 3 if rule == "capability_count" else n
    if isinstance(max_missing, bool) or not isinstance(max_missing, int) or max_missing < 0:
        p.add(where, f"max_missing must be a whole number >= 0, not {max_missing!r}")
        max_missing = 0
    elif rule in ("item", "capability_flag") and max_missing != 0:
        p.add(where, f"rule {rule!r} allows no missing items; max_missing must be 0")
    elif units and max_missing >= units:
        p.add(where, f"max_missing {max_missing} leaves nothing to score from {units}")
    multiplier = _number(raw.get("multiplier", 1.0), p, where, "multiplier")
    if multiplier is None or multiplier <= 0:
        p.add(where, "multiplier must be a positive number")
        multiplier = 1.0
    threshold = _number(raw.get("threshold", 4.0), p, where, "threshold")
    scale_raw = raw.get("scale")
    scale: tuple[float, float] = (0.0, 0.0)
    if (
        not isinstance(scale_raw, list)
        or len(scale_raw) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in scale_raw)
    ):
        p.add(where, "scale must be [lowest, highest]")
        ok = False
    else:
        scale = (float(scale_raw[0]), float(scale_raw[1]))
    if ok:
        implied = implied_scale(rule, [by_id[i] for i in item_ids], multiplier)
        if implied is not None and not (
            math.isclose(implied[0], scale[0], abs_tol=1e-9)
            and math.isclose(implied[1], scale[1], abs_tol=1e-9)
        ):
            p.add(
                where,
                f"scale [{_fmt(scale[0])}, {_fmt(scale[1])}] differs from the range the rule "
                f"implies, [{_fmt(implied[0])}, {_fmt(implied[1])}]",
            )
    bands = _bands(raw.get("bands"), scale, languages, p, where)
    return Score(
        id=score_id,
        rule=rule,
        items=tuple(item_ids),
        max_missing=max_missing,
        scale=scale,
        label=label,
        bands=bands,
        multiplier=multiplier,
        threshold=threshold if threshold is not None else 4.0,
    )


def _fmt(x: float) -> str:
    return f"{x:g}"


def _bands(
    raw: Any, scale: tuple[float, float], languages: tuple[str, ...], p: _Problems, where: str
) -> tuple[Band, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        p.add(where, "bands must be a list of {from, to, label}")
        return ()
    bands: list[Band] = []
    for b in raw:
        if not isinstance(b, Mapping) or not all(
            isinstance(b.get(k), int | float) and not isinstance(b.get(k), bool)
            for k in ("from", "to")
        ):
            p.add(where, "each band needs numeric from and to")
            return ()
        label = _text(b.get("label"), languages, p, where, f"band {b['from']}-{b['to']} label")
        if b["from"] >= b["to"]:
            p.add(where, f"band from {_fmt(b['from'])} must be below to {_fmt(b['to'])}")
        bands.append(Band(float(b["from"]), float(b["to"]), label))
    bands.sort(key=lambda band: band.lo)
    lo, hi = scale
    if not math.isclose(bands[0].lo, lo):
        p.add(where, f"bands leave a gap: nothing covers {_fmt(lo)} to {_fmt(bands[0].lo)}")
    if not math.isclose(bands[-1].hi, hi):
        p.add(where, f"bands leave a gap: nothing covers {_fmt(bands[-1].hi)} to {_fmt(hi)}")
    for prev, cur in itertools.pairwise(bands):
        if cur.lo > prev.hi and not math.isclose(cur.lo, prev.hi):
            p.add(where, f"bands leave a gap between {_fmt(prev.hi)} and {_fmt(cur.lo)}")
        elif cur.lo < prev.hi and not math.isclose(cur.lo, prev.hi):
            p.add(where, f"bands overlap between {_fmt(cur.lo)} and {_fmt(prev.hi)}")
    return tuple(bands)


# --- back to a mapping -------------------------------------------------------------------------


def instrument_to_dict(instrument: Instrument) -> dict[str, Any]:
    """The instrument as a mapping in the file format (inverse of :func:`parse_instrument`).

    Option lists used by more than one item are written once under ``option_sets``.
    """
    counts: dict[_OptionsKey, int] = {}
    for it in instrument.items:
        if it.options and not (it.type == "yesno" and it.options == DEFAULT_YESNO):
            counts[_options_key(it.options)] = counts.get(_options_key(it.options), 0) + 1
    set_names: dict[_OptionsKey, str] = {}
    for key, n in counts.items():
        if n > 1:
            set_names[key] = f"choices_{len(set_names) + 1}"
    by_key = {
        _options_key(it.options): it.options
        for it in instrument.items
        if _options_key(it.options) in set_names
    }

    out: dict[str, Any] = {
        "id": instrument.id,
        "version": instrument.version,
        "respondent": instrument.respondent,
        "title": dict(instrument.title),
    }
    if instrument.description:
        out["description"] = dict(instrument.description)
    out["languages"] = list(instrument.languages)
    out["source"] = instrument.source
    out["licence"] = instrument.licence
    if instrument.record_id is not None:
        out["record_id"] = instrument.record_id
    if set_names:
        out["option_sets"] = {name: _options_out(by_key[key]) for key, name in set_names.items()}
    sections = []
    for sec in instrument.sections:
        s: dict[str, Any] = {"id": sec.id, "title": dict(sec.title)}
        if sec.intro:
            s["intro"] = dict(sec.intro)
        s["items"] = [_item_out(instrument.item(i), set_names) for i in sec.item_ids]
        sections.append(s)
    out["sections"] = sections
    if instrument.scores:
        out["scores"] = [_score_out(sc) for sc in instrument.scores]
    return out


_OptionsKey = tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]


def _options_key(options: tuple[Option, ...]) -> _OptionsKey:
    return tuple(
        (type(o.code).__name__, str(o.code), tuple(sorted(o.label.items()))) for o in options
    )


def _options_out(options: tuple[Option, ...]) -> list[dict[str, Any]]:
    return [{"code": o.code, "label": dict(o.label)} for o in options]


def _num_out(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _item_out(it: Item, set_names: Mapping[_OptionsKey, str]) -> dict[str, Any]:
    d: dict[str, Any] = {"id": it.id, "type": it.type, "text": dict(it.text)}
    if it.header:
        d["header"] = dict(it.header)
    if it.options and not (it.type == "yesno" and it.options == DEFAULT_YESNO):
        d["options"] = set_names.get(_options_key(it.options)) or _options_out(it.options)
    if it.min is not None:
        d["min"] = _num_out(it.min)
    if it.max is not None:
        d["max"] = _num_out(it.max)
    if it.required:
        d["required"] = True
    if it.reverse:
        d["reverse"] = True
    if it.help:
        d["help"] = dict(it.help)
    for key in (
        "widget",
        "validation",
        "matrix",
        "branching",
        "inactive_branching",
        "annotation",
        "calc",
        "earliest",
        "latest",
    ):
        if getattr(it, key) is not None:
            d[key] = getattr(it, key)
    if it.show_if is not None:
        d["show_if"] = {
            it.show_if.mode: [
                {"item": c.item, "op": c.op, "value": c.value} for c in it.show_if.conditions
            ]
        }
    if it.identifier:
        d["identifier"] = True
    if it.anchors:
        d["anchors"] = [dict(a) for a in it.anchors]
    return d


def _score_out(sc: Score) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": sc.id,
        "label": dict(sc.label),
        "rule": sc.rule,
        "items": list(sc.items),
        "max_missing": sc.max_missing,
        "scale": [_num_out(sc.scale[0]), _num_out(sc.scale[1])],
    }
    if sc.multiplier != 1.0:
        d["multiplier"] = _num_out(sc.multiplier)
    if sc.rule in ("capability_flag", "capability_count"):
        d["threshold"] = _num_out(sc.threshold)
    if sc.bands:
        d["bands"] = [
            {"from": _num_out(b.lo), "to": _num_out(b.hi), "label": dict(b.label)} for b in sc.bands
        ]
    return d


__all__ = [
    "DEFAULT_YESNO",
    "REQUIRED_LANGUAGES",
    "Widget",
    "implied_scale",
    "instrument_to_dict",
    "parse_instrument",
]
