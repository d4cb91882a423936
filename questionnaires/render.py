"""Form rendering: one section (page) of an instrument as an accessible HTML fragment.

The fragment works without JavaScript and on a 360px-wide phone: every question is its own block
(radio groups in a ``<fieldset>`` with a ``<legend>``, other inputs with a ``<label for>``), matrix
items are a list of radio groups rather than a wide table, error messages sit beside the field
and are linked with ``aria-describedby``. Texts are escaped, or, when they hold REDCap's rich
text, sanitised to an allow-list (:mod:`questionnaires.richtext`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from questionnaires import text_types
from questionnaires.action_tags import tags_of
from questionnaires.branching import condition, condition_tree, hidden_items
from questionnaires.logic import to_json
from questionnaires.model import Instrument, Item, Text
from questionnaires.richtext import plain_text, rich_html
from questionnaires.validation import default_value, expression

REQUIRED_MARK: Text = {"nl": "verplicht", "en": "required"}
CHOOSE: Text = {"nl": "Maak een keuze", "en": "Choose an answer"}
DATE_HINT: Text = {"nl": "dag-maand-jaar", "en": "day-month-year"}


def _t(text: Mapping[str, str] | None, lang: str) -> str:
    if not text:
        return ""
    return text.get(lang) or text.get("nl") or next(iter(text.values()))


def _field_id(item_id: str, suffix: str | int | None = None) -> str:
    return f"q-{item_id}" if suffix is None else f"q-{item_id}-{suffix}"


def _as_strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value)


def _described_by(item: Item, has_error: bool) -> str:
    ids = []
    if item.help:
        ids.append(_field_id(item.id, "help"))
    if has_error:
        ids.append(_field_id(item.id, "error"))
    return " ".join(ids)


def _attrs(**attrs: Any) -> Markup:
    parts = []
    for name, value in attrs.items():
        if value is None or value is False or value == "":
            continue
        key = name.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(Markup(" {}").format(key))
        else:
            parts.append(Markup(' {}="{}"').format(key, value))
    return Markup("").join(parts)


def _notes(item: Item, error: str | None, lang: str) -> Markup:
    out = Markup("")
    if item.help:
        out += Markup('<p class="klik-help" id="{}">{}</p>').format(
            _field_id(item.id, "help"), rich_html(_t(item.help, lang))
        )
    if error:
        out += Markup('<p class="klik-error" id="{}" role="alert">{}</p>').format(
            _field_id(item.id, "error"), error
        )
    return out


def _question(item: Item, lang: str) -> Markup:
    text = Markup('<span class="klik-question-text">{}</span>').format(
        rich_html(_t(item.text, lang))
    )
    if item.required:
        text += Markup(' <span class="klik-required">({})</span>').format(_t(REQUIRED_MARK, lang))
    return text


def _choice_group(item: Item, value: Any, error: str | None, lang: str, multiple: bool) -> Markup:
    chosen = set(_as_strings(value))
    described = _described_by(item, error is not None)
    input_type = "checkbox" if multiple else "radio"
    rows = []
    for i, opt in enumerate(item.options):
        fid = _field_id(item.id, i)
        rows.append(
            Markup('<div class="klik-option"><input{}><label for="{}">{}</label></div>').format(
                _attrs(
                    type=input_type,
                    id=fid,
                    name=item.id,
                    value=str(opt.code),
                    checked=str(opt.code) in chosen,
                    disabled=tags_of(item.annotation).readonly,
                    aria_describedby=described,
                ),
                fid,
                rich_html(_t(opt.label, lang)),
            )
        )
    klass = "klik-item klik-choice" + (" klik-has-error" if error else "")
    return Markup(
        '<fieldset class="{}" id="{}"{}><legend>{}</legend>{}<div class="klik-options">{}</div>'
        "</fieldset>"
    ).format(
        klass,
        _field_id(item.id),
        _attrs(aria_describedby=described, aria_invalid="true" if error else None),
        _question(item, lang),
        _notes(item, error, lang),
        Markup("").join(rows),
    )


def _labelled(item: Item, control: Markup, error: str | None, lang: str) -> Markup:
    klass = "klik-item" + (" klik-has-error" if error else "")
    return Markup('<div class="{}"><label for="{}">{}</label>{}{}</div>').format(
        klass, _field_id(item.id), _question(item, lang), _notes(item, error, lang), control
    )


def _fmt_bound(x: float | None) -> str | None:
    if x is None:
        return None
    return str(int(x)) if float(x).is_integer() else str(x)


_INPUT_TYPES = {"email": "email", "phone": "tel", "phone_australia": "tel"}
_INPUT_MODES = {
    "email": "email",
    "phone": "tel",
    "phone_australia": "tel",
    "zipcode": "numeric",
    "time": "numeric",
    "time_hh_mm_ss": "numeric",
    "time_mm_ss": "numeric",
}


def _in_order(value: Any, order: str) -> str:
    """A stored (or typed) date shown in the field's order; other text as it was typed."""
    if isinstance(value, dt.date):
        day: dt.date | None = value
    else:
        try:
            day = dt.date.fromisoformat(str(value)) if value else None
        except ValueError:
            return _display(value)
    if day is None:
        return ""
    y, m, d = f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"
    return {"ymd": f"{y}-{m}-{d}", "mdy": f"{m}-{d}-{y}", "dmy": f"{d}-{m}-{y}"}[order]


def _shown_text(item: Item, value: Any) -> str:
    order = text_types.date_order(item.validation)
    text = _display(value)
    if order is None or not text or len(text) < 16 or text[4] != "-":
        return text
    return _in_order(text[:10], order) + text[10:]


def render_item(item: Item, value: Any, error: str | None, lang: str) -> Markup:
    """One item as HTML (see :func:`render_section`).

    Action tags: a read-only item's inputs are disabled (the server keeps its value whatever
    is posted), ``@PLACEHOLDER`` and ``@CHARLIMIT`` become the input's placeholder and
    maximum length, ``@CALCTEXT`` and ``@CALCDATE`` items are shown like calculated ones.
    """
    tags = tags_of(item.annotation)
    if tags.computed:
        return Markup(
            '<div class="klik-item klik-calc" id="{}"><span class="klik-question-text">{}</span>'
            ' <output class="klik-calc-value" data-item="{}">{}</output></div>'
        ).format(_field_id(item.id), rich_html(_t(item.text, lang)), item.id, _display(value))
    if item.type == "descriptive":
        return Markup('<div class="klik-item klik-descriptive" id="{}">{}</div>').format(
            _field_id(item.id), rich_html(_t(item.text, lang), "block")
        )
    if item.type == "calc":
        # Shown, never an input: the server computes the value from the other answers; the
        # branching script shows it as the page is answered (data-calc, the formula's tree).
        return Markup(
            '<div class="klik-item klik-calc" id="{}"><span class="klik-question-text">{}</span>'
            ' <output class="klik-calc-value" data-item="{}" data-calc="{}">{}</output></div>'
        ).format(
            _field_id(item.id),
            rich_html(_t(item.text, lang)),
            item.id,
            _json(to_json(expression(item.calc or "0").tree)),
            _display(value),
        )
    if item.type in ("likert", "yesno") or (item.type == "single" and item.widget != "dropdown"):
        return _choice_group(item, value, error, lang, multiple=False)
    if item.type == "multiple":
        return _choice_group(item, value, error, lang, multiple=True)
    common = {
        "id": _field_id(item.id),
        "name": item.id,
        "aria_describedby": _described_by(item, error is not None),
        "aria_invalid": "true" if error else None,
        "aria_required": "true" if item.required else None,
        "readonly": tags.readonly and item.type != "single",
        "disabled": tags.readonly and item.type == "single",
    }
    if item.type == "single":
        current = set(_as_strings(value))
        options = [Markup('<option value="">{}</option>').format(_t(CHOOSE, lang))]
        for opt in item.options:
            options.append(
                Markup("<option{}>{}</option>").format(
                    _attrs(value=str(opt.code), selected=str(opt.code) in current),
                    plain_text(_t(opt.label, lang)),
                )
            )
        control = Markup("<select{}>{}</select>").format(_attrs(**common), Markup("").join(options))
    elif item.type in ("integer", "number"):
        control = Markup("<input{}>").format(
            _attrs(
                type="text",
                inputmode="numeric" if item.type == "integer" else "decimal",
                value=_display(value),
                data_min=_fmt_bound(item.min),
                data_max=_fmt_bound(item.max),
                placeholder=plain_text(tags.placeholder),
                autocomplete="off",
                **common,
            )
        )
        if item.anchors:
            control += Markup('<p class="klik-anchors">{}</p>').format(
                " | ".join(plain_text(_t(a, lang)) for a in item.anchors)
            )
    elif item.type == "date" and text_types.date_order(item.validation) is not None:
        # The field's own order, typed: a browser's date picker would show the locale's order.
        order = text_types.date_order(item.validation) or "ymd"
        control = Markup("<input{}>").format(
            _attrs(
                type="text",
                inputmode="numeric",
                autocomplete="off",
                value=_in_order(value, order),
                placeholder=text_types.hint(item.validation, lang),
                data_order=order,
                **common,
            )
        )
    elif item.type == "date":
        control = Markup("<input{}>").format(
            _attrs(type="date", value=_display(value), placeholder=_t(DATE_HINT, lang), **common)
        )
    elif item.widget == "textarea":
        control = Markup("<textarea{}>{}</textarea>").format(
            _attrs(
                rows="4",
                maxlength=tags.charlimit,
                placeholder=plain_text(tags.placeholder),
                data_wordlimit=tags.wordlimit,
                **common,
            ),
            _display(value),
        )
    else:
        control = Markup("<input{}>").format(
            _attrs(
                type=_INPUT_TYPES.get(item.validation or "", "text"),
                inputmode=_INPUT_MODES.get(item.validation or ""),
                value=_shown_text(item, value),
                maxlength=tags.charlimit,
                placeholder=plain_text(tags.placeholder) or text_types.hint(item.validation, lang),
                data_wordlimit=tags.wordlimit,
                **common,
            )
        )
    return _labelled(item, control, error, lang)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return value


def _json(data: Any) -> str:
    # "<" escaped so that no value can close the element it sits in.
    return (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _header(item: Item, rest: Sequence[Item], hidden: Collection[str], lang: str) -> Markup:
    """A section header inside a page. As in REDCap it heads the questions up to the next
    header, and is hidden when every one of them is: when all are conditional, it names them
    (``data-items``) so that the page's script hides and shows it with them."""
    group = [rest[0], *itertools.takewhile(lambda it: not it.header, rest[1:])]
    text = rich_html(_t(item.header, lang), "block")
    if not all(condition_tree(it) is not None for it in group):
        return Markup('<div class="klik-header" role="heading" aria-level="3">{}</div>').format(
            text
        )
    return Markup(
        '<div class="klik-header" role="heading" aria-level="3" data-items="{}"{}>{}</div>'
    ).format(
        ",".join(it.id for it in group),
        Markup(" hidden") if all(it.id in hidden for it in group) else "",
        text,
    )


def render_section(
    instrument: Instrument,
    section_index: int,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    lang: str,
    *,
    now: dt.datetime | None = None,
    events: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """One section (page) of a form as an HTML fragment.

    Parameters
    ----------
    instrument
        The instrument being answered.
    section_index
        Index into ``instrument.sections``.
    values
        Answers to fill in again, typed or as posted (strings, lists for multiple choice).
    errors
        Message per item id, shown beside the field (``"__form__"`` is shown above the items).
    lang
        ``nl`` or ``en`` (texts fall back to Dutch).
    now
        The moment the page is shown: what ``@NOW`` and ``@TODAY`` fill in.
    events
        Earlier waves' answers by wave code, for conditions such as ``[T0][hours] > 20``.

    Items tagged ``@HIDDEN`` are left out; an item with no saved value shows its ``@DEFAULT``
    (``@NOW``, ``@TODAY``). An item with a display condition is wrapped in
    ``<div class="klik-branch" data-show="...">`` holding the condition as JSON, and has the
    ``hidden`` attribute while the condition does not hold for ``values`` (all pages' answers);
    the page then also holds ``<script type="application/json" id="klik-logic">`` with the
    answers the browser cannot read from the page (other pages, earlier waves), a hidden
    ``_shown`` field listing the questions shown, and expects the caller to load the small
    branching script.

    Returns
    -------
    str
        A ``<fieldset>`` for the section holding one block per item. Inputs are named by item
        id; multiple-choice items repeat the name once per checked box. No ``<form>`` element,
        no buttons: the caller adds those.
    """
    section = instrument.sections[section_index]
    parts: list[Markup] = []
    form_error = errors.get("__form__")
    if form_error:
        parts.append(
            Markup('<p class="klik-error klik-form-error" role="alert">{}</p>').format(form_error)
        )
    if section.intro:
        parts.append(
            Markup('<div class="klik-intro">{}</div>').format(
                rich_html(_t(section.intro, lang), "block")
            )
        )
    items = [
        it for it in instrument.section_items(section_index) if not tags_of(it.annotation).hidden
    ]
    values = dict(values)
    for it in items:
        if it.id not in values:
            default = default_value(it, now, lang)
            if default is not None:
                values[it.id] = default
    hidden = hidden_items(instrument, values, now=now, events=events)
    conditional = any(condition(it) is not None or it.type == "calc" for it in items)

    def block(it: Item) -> Markup:
        html_block = render_item(it, values.get(it.id), errors.get(it.id), lang)
        tree = condition_tree(it)
        if tree is None:
            return html_block
        return Markup('<div class="klik-branch" data-item="{}" data-show="{}"{}>{}</div>').format(
            it.id, _json(tree), Markup(" hidden") if it.id in hidden else "", html_block
        )

    if conditional:
        on_page = {it.id for it in items}
        parts.append(
            Markup('<script type="application/json" id="klik-logic">{}</script>').format(
                Markup(
                    _json(
                        {
                            "values": {
                                k: _jsonable(v) for k, v in values.items() if k not in on_page
                            },
                            "events": {
                                str(e).lower(): {k: _jsonable(v) for k, v in answers.items()}
                                for e, answers in (events or {}).items()
                            },
                            "today": now.date().isoformat() if now else None,
                            "now": now.strftime("%Y-%m-%d %H:%M") if now else None,
                            "checkboxes": sorted(
                                it.id for it in instrument.items if it.type == "multiple"
                            ),
                        }
                    )
                )
            )
        )
        shown = ",".join(it.id for it in items if it.id not in hidden)
        parts.append(Markup('<input type="hidden" name="_shown" value="{}">').format(shown))
    i = 0
    while i < len(items):
        item = items[i]
        if item.header:
            parts.append(_header(item, items[i:], hidden, lang))
        if item.matrix:
            run: list[Item] = []
            for it in items[i:]:
                if it.matrix != item.matrix:
                    break
                run.append(it)
            group: Sequence[Item] = run
            inner = Markup("").join(Markup("<li>{}</li>").format(block(it)) for it in group)
            parts.append(
                Markup('<ol class="klik-matrix" data-matrix="{}">{}</ol>').format(
                    item.matrix, inner
                )
            )
            i += len(group)
        else:
            parts.append(block(item))
            i += 1
    return str(
        Markup(
            '<fieldset class="klik-section" id="section-{}" lang="{}"><legend>{}</legend>{}'
            "</fieldset>"
        ).format(section.id, lang, plain_text(_t(section.title, lang)), Markup("").join(parts))
    )
