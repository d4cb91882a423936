"""Validation of a respondent's answers against an instrument.

Raw values come from an HTML form (strings, lists of strings for multiple choice) or from JSON
(numbers). The result holds typed values and, per item, a message the respondent understands,
in Dutch or English.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from questionnaires import text_types
from questionnaires.action_tags import ActionTags, tags_of
from questionnaires.branching import condition, hidden_items
from questionnaires.logic import Context, Expression, add_time
from questionnaires.logic import parse as parse_logic
from questionnaires.model import Instrument, Item
from questionnaires.richtext import plain_text

FORM_KEY = "__form__"
"""Key in :attr:`ValidationResult.errors` for problems with the form as a whole."""

MAX_TEXT_LENGTH = 5000

MESSAGES: dict[str, dict[str, str]] = {
    "required": {
        "nl": "Deze vraag is nog niet beantwoord.",
        "en": "This question has not been answered yet.",
    },
    "choose_one": {
        "nl": "Kies een van de antwoorden.",
        "en": "Please choose one of the answers.",
    },
    "one_only": {
        "nl": "Kies hier maar één antwoord.",
        "en": "Please choose only one answer here.",
    },
    "choose_listed": {
        "nl": "Kies alleen uit de antwoorden die er staan.",
        "en": "Please choose only from the answers shown.",
    },
    "whole_number": {
        "nl": "Vul een heel getal in, zonder letters (bijvoorbeeld 12).",
        "en": "Please enter a whole number, without letters (for example 12).",
    },
    "number": {
        "nl": "Vul een getal in (bijvoorbeeld 12 of 12,5).",
        "en": "Please enter a number (for example 12 or 12.5).",
    },
    "between": {
        "nl": "Vul een getal in van {lo} tot en met {hi}.",
        "en": "Please enter a number from {lo} to {hi}.",
    },
    "at_least": {
        "nl": "Vul een getal in van {lo} of meer.",
        "en": "Please enter a number of {lo} or more.",
    },
    "at_most": {
        "nl": "Vul een getal in van {hi} of minder.",
        "en": "Please enter a number of {hi} or less.",
    },
    "yes_no": {
        "nl": "Kies ja of nee.",
        "en": "Please choose yes or no.",
    },
    "date": {
        "nl": "Vul een datum in als dag-maand-jaar, bijvoorbeeld 31-01-2025.",
        "en": "Please enter a date as day-month-year, for example 31-01-2025.",
    },
    "text_too_long": {
        "nl": "Het antwoord is te lang (ten hoogste {n} tekens).",
        "en": "The answer is too long (at most {n} characters).",
    },
    "text": {
        "nl": "Vul hier tekst in.",
        "en": "Please enter text here.",
    },
    "unknown_fields": {
        "nl": "Het formulier bevat velden die niet bij deze vragenlijst horen: {names}.",
        "en": "The form contains fields that do not belong to this questionnaire: {names}.",
    },
    "none_of_the_above": {
        "nl": "'{label}' kan niet samen met een ander antwoord worden gekozen.",
        "en": "'{label}' cannot be chosen together with another answer.",
    },
    "char_limit": {
        "nl": "Het antwoord is te lang: ten hoogste {n} tekens (nu {m}).",
        "en": "The answer is too long: at most {n} characters (now {m}).",
    },
    "word_limit": {
        "nl": "Het antwoord is te lang: ten hoogste {n} woorden (nu {m}).",
        "en": "The answer is too long: at most {n} words (now {m}).",
    },
    "date_order": {
        "nl": "Vul een datum in als {pattern}, bijvoorbeeld {example}.",
        "en": "Please enter a date as {pattern}, for example {example}.",
    },
    "datetime_order": {
        "nl": "Vul een datum en tijd in als {pattern}, bijvoorbeeld {example}.",
        "en": "Please enter a date and time as {pattern}, for example {example}.",
    },
    "time_format": {
        "nl": "Vul een tijd in als {pattern}, bijvoorbeeld {example}.",
        "en": "Please enter a time as {pattern}, for example {example}.",
    },
    "not_before": {
        "nl": "Vul een moment in vanaf {bound}.",
        "en": "Please enter a moment from {bound} on.",
    },
    "not_after": {
        "nl": "Vul een moment in tot en met {bound}.",
        "en": "Please enter a moment up to {bound}.",
    },
    "decimals": {
        "nl": "Vul een getal in met {n} cijfer(s) achter de komma, bijvoorbeeld {example}.",
        "en": "Please enter a number with {n} decimal(s), for example {example}.",
    },
    "pattern_email": {
        "nl": "Vul een e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.",
        "en": "Please enter an e-mail address, for example name@example.org.",
    },
    "pattern_phone": {
        "nl": "Vul een telefoonnummer in van tien cijfers, bijvoorbeeld (415) 555-1212.",
        "en": "Please enter a ten-digit phone number, for example (415) 555-1212.",
    },
    "pattern_zipcode": {
        "nl": "Vul een Amerikaanse postcode in van vijf cijfers, bijvoorbeeld 90210.",
        "en": "Please enter a five-digit ZIP code, for example 90210.",
    },
    "pattern_postalcode_nl": {
        "nl": "Vul een postcode in als 1234 AB.",
        "en": "Please enter a Dutch postcode as 1234 AB.",
    },
    "pattern_alpha_only": {
        "nl": "Vul alleen letters in, zonder cijfers of spaties.",
        "en": "Please enter letters only, without digits or spaces.",
    },
    "pattern": {
        "nl": "Dit antwoord heeft niet de vorm die hier gevraagd wordt.",
        "en": "This answer does not have the form asked for here.",
    },
    "unknown_section": {
        "nl": "Deze pagina bestaat niet in de vragenlijst.",
        "en": "This page does not exist in the questionnaire.",
    },
}


def message(key: str, lang: str, **kwargs: Any) -> str:
    """A respondent-facing message in ``lang`` (Dutch when the language is not available)."""
    texts = MESSAGES[key]
    return texts.get(lang, texts["nl"]).format(**kwargs)


@dataclass
class ValidationResult:
    """Typed answers and per-item error messages.

    ``values`` holds every answerable item in scope: the typed answer, or None when unanswered.
    ``errors`` maps item id (or ``"__form__"``) to a message in the requested language.
    ``hidden`` holds the items in scope whose display condition does not hold (their values
    are erased and they are never required).
    """

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors


class _Invalid(Exception):
    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple):
        return all(_is_empty(v) for v in value)
    return isinstance(value, float) and math.isnan(value)


def _single(value: Any) -> Any:
    if isinstance(value, list | tuple):
        filled = [v for v in value if not _is_empty(v)]
        if len(filled) > 1:
            raise _Invalid("one_only")
        return filled[0]
    return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x).replace(".", ",")


def _range_check(item: Item, x: float, lang: str) -> None:
    lo, hi = item.min, item.max
    if lo is not None and hi is not None and not lo <= x <= hi:
        raise _Invalid("between", lo=_fmt_lang(lo, lang), hi=_fmt_lang(hi, lang))
    if lo is not None and hi is None and x < lo:
        raise _Invalid("at_least", lo=_fmt_lang(lo, lang))
    if hi is not None and lo is None and x > hi:
        raise _Invalid("at_most", hi=_fmt_lang(hi, lang))


def _fmt_lang(x: float, lang: str) -> str:
    text = _fmt(x)
    return text.replace(",", ".") if lang == "en" else text


_INT_RE = re.compile(r"^[+-]?\d+$")
_NUM_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y")


def convert(item: Item, value: Any, lang: str = "nl", now: dt.datetime | None = None) -> Any:
    """Convert one non-empty raw answer to its typed value.

    ``now`` is the moment ``today`` and ``now`` in an item's bounds mean (without it such a
    bound is not checked). Raises ``ValueError`` with a respondent-facing message in ``lang``
    when the answer is not valid.
    """
    try:
        return _convert(item, value, lang, now)
    except _Invalid as exc:
        raise ValueError(message(exc.key, lang, **exc.kwargs)) from None


_EXAMPLES = {"ymd": (2025, 1, 31), "mdy": (2025, 1, 31), "dmy": (2025, 1, 31)}


def _example_date(order: str) -> str:
    y, m, d = _EXAMPLES[order]
    return {
        "ymd": f"{y}-{m:02d}-{d:02d}",
        "mdy": f"{m:02d}-{d:02d}-{y}",
        "dmy": f"{d:02d}-{m:02d}-{y}",
    }[order]


def _problem(exc: text_types.Problem, item: Item, lang: str) -> _Invalid:
    pattern = text_types.hint(item.validation, lang) or ""
    order = text_types.date_order(item.validation) or "ymd"
    if exc.key == "date_order":
        return _Invalid("date_order", pattern=pattern, example=_example_date(order))
    if exc.key == "datetime_order":
        seconds = ":00" if text_types.has_seconds(item.validation) else ""
        return _Invalid(
            "datetime_order", pattern=pattern, example=f"{_example_date(order)} 14:30{seconds}"
        )
    if exc.key == "time_format":
        example = {"time": "14:30", "time_hh_mm_ss": "14:30:00", "time_mm_ss": "04:30"}
        return _Invalid("time_format", pattern=pattern, example=example[item.validation or "time"])
    return _Invalid(exc.key)


def _date(item: Item, value: Any, lang: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    order = text_types.date_order(item.validation)
    if order is not None:
        try:
            return text_types.read_date(text, order)
        except text_types.Problem as exc:
            raise _problem(exc, item, lang) from None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _Invalid("date")


def _shown_bound(item: Item, bound: Any, lang: str) -> str:
    if isinstance(bound, dt.date):
        order = text_types.date_order(item.validation) or ("dmy" if lang == "nl" else "ymd")
        y, m, d = bound.year, bound.month, bound.day
        return {
            "ymd": f"{y}-{m:02d}-{d:02d}",
            "mdy": f"{m:02d}-{d:02d}-{y}",
            "dmy": f"{d:02d}-{m:02d}-{y}",
        }[order]
    return str(bound)


def _moment_bounds(item: Item, value: Any, kind: str, now: dt.datetime | None, lang: str) -> None:
    for key, text in (("not_before", item.earliest), ("not_after", item.latest)):
        if text is None:
            continue
        if kind == "time":
            bound: Any = text.strip()
        else:
            try:
                bound = text_types.bound(text, now, "date" if kind == "date" else "datetime")
            except text_types.Problem:
                continue
        if bound is None:
            continue
        if kind == "datetime" and isinstance(value, str) and len(str(bound)) == 10:
            bound = f"{bound} 00:00"
        if (key == "not_before" and value < bound) or (key == "not_after" and value > bound):
            raise _Invalid(key, bound=_shown_bound(item, bound, lang))


def _convert(item: Item, value: Any, lang: str, now: dt.datetime | None = None) -> Any:
    t = item.type
    if t == "multiple":
        raw = value if isinstance(value, list | tuple) else [value]
        chosen: list[int | str] = []
        for v in raw:
            if _is_empty(v):
                continue
            opt = item.option(str(v).strip())
            if opt is None:
                raise _Invalid("choose_listed")
            if opt.code not in chosen:
                chosen.append(opt.code)
        order = {str(o.code): i for i, o in enumerate(item.options)}
        return sorted(chosen, key=lambda c: order[str(c)])
    value = _single(value)
    if t in ("likert", "single"):
        if isinstance(value, bool):
            raise _Invalid("choose_one")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        opt = item.option(str(value).strip())
        if opt is None:
            raise _Invalid("choose_one")
        return opt.code
    if t == "yesno":
        if isinstance(value, bool):
            return int(value)
        text = str(value).strip().lower()
        if text in ("1", "1.0", "ja", "yes", "true", "waar"):
            return 1
        if text in ("0", "0.0", "nee", "no", "false", "onwaar"):
            return 0
        raise _Invalid("yes_no")
    if t == "integer":
        if isinstance(value, bool):
            raise _Invalid("whole_number")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _INT_RE.match(value.strip()):
            number = int(value.strip())
        else:
            raise _Invalid("whole_number")
        _range_check(item, number, lang)
        return number
    if t == "number":
        if isinstance(value, bool):
            raise _Invalid("number")
        if isinstance(value, int | float):
            x = float(value)
        elif isinstance(value, str) and _NUM_RE.match(value.strip()):
            x = float(value.strip().replace(",", "."))
        else:
            raise _Invalid("number")
        if not math.isfinite(x):
            raise _Invalid("number")
        places = text_types.decimals(item.validation)
        if places is not None and isinstance(value, str):
            written = value.strip().replace(",", ".")
            given = len(written.split(".")[1]) if "." in written else 0
            if given != places:
                example = f"{12.5:.{places}f}"
                if lang != "en":
                    example = example.replace(".", ",")
                raise _Invalid("decimals", n=places, example=example)
        _range_check(item, x, lang)
        return x
    if t == "date":
        day = _date(item, value, lang)
        _moment_bounds(item, day, "date", now, lang)
        return day
    if t == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise _Invalid("text")
        text = str(value).strip()
        if len(text) > MAX_TEXT_LENGTH:
            raise _Invalid("text_too_long", n=MAX_TEXT_LENGTH)
        if item.validation and text_types.is_text_type(item.validation):
            try:
                text = text_types.read_text(text, item.validation)
            except text_types.Problem as exc:
                raise _problem(exc, item, lang) from None
            if text_types.date_order(item.validation) is not None:
                _moment_bounds(item, text, "datetime", now, lang)
            elif item.validation in text_types.TIME_TYPES:
                _moment_bounds(item, text, "time", now, lang)
        return text
    raise _Invalid("choose_listed")  # descriptive items take no answer


@functools.lru_cache(maxsize=4096)
def expression(text: str) -> Expression:
    """A formula or condition parsed once (the instrument loader has already checked it)."""
    return parse_logic(text)


def _number_or_blank(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def compute(
    instrument: Instrument,
    values: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    events: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The values of the instrument's calculated items, from the other answers.

    ``values`` are typed answers by item id (other pages' saved answers included), ``events``
    the answers of earlier waves by wave code (``[T0][hours]``), ``now`` the moment ``today``
    and ``now`` mean (without it they are blank). A calculated item may use another one: they
    are evaluated until nothing changes (at most once per item). A result that is not a
    number is blank, as in REDCap.
    """
    calcs = [
        it
        for it in instrument.items
        if (it.computed and it.calc) or tags_of(it.annotation).computed
    ]
    current = dict(values)
    for it in calcs:
        current[it.id] = None
    lowered = {k.lower(): v for k, v in (events or {}).items()}
    out: dict[str, Any] = {}
    for _ in range(len(calcs)):
        changed = False
        context = Context.of(current, now, lowered)
        for it in calcs:
            value = _computed_value(it, context, now)
            if out.get(it.id, "unset") != value:
                out[it.id] = value
                current[it.id] = value
                changed = True
        if not changed:
            break
    return out


def _computed_value(item: Item, context: Context, now: dt.datetime | None) -> Any:
    if item.computed and item.calc:
        return _number_or_blank(expression(item.calc).evaluate(context))
    tags = tags_of(item.annotation)
    if tags.calctext is not None:
        text = expression(tags.calctext).evaluate(context)
        if text is None:
            return None
        if isinstance(text, bool):
            return "1" if text else "0"
        if isinstance(text, float):
            return str(int(text)) if text.is_integer() else repr(text)
        return str(text)[:MAX_TEXT_LENGTH]
    assert tags.calcdate is not None
    start, offset, unit = tags.calcdate
    shifted = add_time(
        expression(start).evaluate(context), expression(offset).evaluate(context), unit, now
    )
    if shifted is None:
        return None
    if item.type == "date":
        try:
            return dt.date.fromisoformat(shifted[:10])
        except ValueError:
            return None
    return shifted


def default_value(item: Item, now: dt.datetime | None, lang: str = "nl") -> Any:
    """The typed value ``@DEFAULT``, ``@NOW`` or ``@TODAY`` gives an empty item, or None."""
    tags = tags_of(item.annotation)
    raw: Any = None
    if tags.default is not None:
        raw = tags.default
    elif (tags.now or tags.today) and now is not None:
        naive = now.replace(tzinfo=None)
        if item.type == "date" or tags.today:
            raw = naive.date() if item.type == "date" else naive.date().isoformat()
        else:
            raw = naive.strftime("%Y-%m-%d %H:%M")
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if item.type == "multiple":
        raw = [c.strip() for c in str(raw).split(",")]
    try:
        return convert(item, raw, lang)
    except ValueError:
        return None


def _tag_problem(
    item: Item, tags: ActionTags, value: Any, lang: str
) -> tuple[str, dict[str, Any]] | None:
    if tags.none_of_the_above and isinstance(value, list) and len(value) > 1:
        chosen = {str(v) for v in value}
        for code in tags.none_of_the_above:
            option = item.option(code)
            if code in chosen and option is not None:
                label = option.label.get(lang) or option.label.get("nl") or code
                return "none_of_the_above", {"label": plain_text(label)}
    if isinstance(value, str):
        if tags.charlimit is not None and len(value) > tags.charlimit:
            return "char_limit", {"n": tags.charlimit, "m": len(value)}
        words = len(value.split())
        if tags.wordlimit is not None and words > tags.wordlimit:
            return "word_limit", {"n": tags.wordlimit, "m": words}
    return None


def validate_answers(
    instrument: Instrument,
    raw: Mapping[str, Any],
    lang: str = "nl",
    *,
    section: str | None = None,
    partial: bool = False,
    known: Mapping[str, Any] | None = None,
    events: Mapping[str, Mapping[str, Any]] | None = None,
    now: dt.datetime | None = None,
    saved: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Check raw answers against an instrument and convert them to typed values.

    Parameters
    ----------
    instrument
        The instrument (version) being answered.
    raw
        Answers by item id: strings from an HTML form (``"4"``), numbers, or lists of codes for
        multiple-choice items. Empty strings and empty lists mean "not answered". Keys that are
        not items in scope (other fields, items of other sections, descriptive items) are
        reported under ``"__form__"``; callers remove their own fields (tokens) first.
    lang
        Language of the messages (``nl`` or ``en``).
    section
        Limit to the items of this section (one page of the form).
    partial
        When True, unanswered required items are not errors (saving a page in progress).
    known
        Answers already saved for other pages (typed or as stored), which conditions and
        formulas on this page may read.
    events
        Answers of earlier waves by wave code, for ``[T0][field]`` in conditions and formulas.
    now
        The moment of saving: ``today`` and ``now`` in formulas.
    saved
        The answers stored before (the draft): a hidden or read-only item keeps its stored
        value, so that ``@NOW`` is the moment it was first saved; only an empty one gets its
        default.

    Returns
    -------
    ValidationResult
        ``values`` has every answerable item in scope (None when unanswered; calculated items
        computed, whatever was posted for them); ``errors`` has one message per item that is
        wrong.
    """
    result = ValidationResult()
    if section is not None:
        try:
            items = instrument.section_items(section)
        except KeyError:
            result.errors[FORM_KEY] = message("unknown_section", lang)
            return result
    else:
        items = instrument.items
    in_scope = {it.id: it for it in items if it.answerable}
    # A posted value for a calculated, hidden or read-only item is never trusted: the server
    # computes it, or keeps its default.
    fixed = {k for k, it in in_scope.items() if it.computed or tags_of(it.annotation).fixed}
    raw = {k: v for k, v in raw.items() if k not in fixed}
    unknown = sorted(k for k in raw if k not in in_scope)
    if unknown:
        result.errors[FORM_KEY] = message("unknown_fields", lang, names=", ".join(unknown))

    for item in in_scope.values():
        if item.computed:
            continue
        if item.id in fixed:
            prior = (saved or {}).get(item.id)
            kept = None
            if not _is_empty(prior):
                try:
                    kept = convert(item, prior, lang)
                except ValueError:
                    kept = None
            result.values[item.id] = kept if kept is not None else default_value(item, now, lang)
            continue
        value = raw.get(item.id)
        if _is_empty(value):
            result.values[item.id] = [] if item.type == "multiple" else None
            continue
        try:
            result.values[item.id] = convert(item, value, lang, now)
        except ValueError as exc:
            result.values[item.id] = None
            result.errors[item.id] = str(exc)
            continue
        problem = _tag_problem(item, tags_of(item.annotation), result.values[item.id], lang)
        if problem is not None:
            result.errors[item.id] = message(problem[0], lang, **problem[1])

    def fill_computed() -> None:
        values = {**(known or {}), **result.values}
        for item_id, value in compute(instrument, values, now=now, events=events).items():
            if item_id in in_scope:
                result.values[item_id] = value

    fill_computed()
    hidden = hidden_items(instrument, {**(known or {}), **result.values}, now=now, events=events)
    if known is None and section is not None:
        # Without the other pages' answers a condition on them cannot be judged here: the
        # item stays shown (and required) rather than silently skipped.
        hidden = frozenset(i for i in hidden if _condition_known(instrument.item(i), in_scope))
    result.hidden = frozenset(i for i in hidden if i in in_scope)
    if result.hidden:
        # A hidden question is not asked: its value is erased, whatever was posted or is wrong.
        for item_id in result.hidden:
            item = in_scope[item_id]
            result.values[item_id] = [] if item.type == "multiple" else None
            result.errors.pop(item_id, None)
        fill_computed()

    if not partial:
        for item in in_scope.values():
            answered = not _is_empty(result.values.get(item.id))
            if item.id in fixed or not item.required or answered or item.id in result.errors:
                continue
            if item.id in result.hidden:
                continue
            result.errors[item.id] = message("required", lang)
    return result


def _condition_known(item: Item, in_scope: Mapping[str, Item]) -> bool:
    expr = condition(item)
    return expr is not None and all(
        event is None and name in in_scope for event, name in expr.fields
    )
