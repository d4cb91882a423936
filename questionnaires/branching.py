"""Which items a respondent sees: ``show_if`` and REDCap branching logic, on the server.

The same conditions run in the browser (``dashboard/forms/static/branching.js``, fed with
:func:`condition_tree`) so that questions appear and disappear while a page is answered; the
server's answer decides what is required and what is stored.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from questionnaires.logic import Context, Expression, to_json
from questionnaires.logic import parse as parse_logic
from questionnaires.model import Instrument, Item, ShowIf


@functools.lru_cache(maxsize=4096)
def _expression(text: str) -> Expression:
    return parse_logic(text)


def show_if_logic(show_if: ShowIf) -> str:
    """A ``show_if`` written in REDCap's language (the same meaning)."""
    parts = []
    for c in show_if.conditions:
        if c.op in ("has", "lacks"):
            parts.append(f"[{c.item}({c.value})] = '{1 if c.op == 'has' else 0}'")
        else:
            op = "<>" if c.op == "!=" else c.op
            value = c.value.replace("'", "")
            parts.append(f"[{c.item}] {op} '{value}'")
    return (" and " if show_if.mode == "all" else " or ").join(parts)


def condition(item: Item) -> Expression | None:
    """The item's display condition as a parsed expression, or None when always shown."""
    if item.branching:
        return _expression(item.branching)
    if item.show_if is not None:
        return _expression(show_if_logic(item.show_if))
    return None


def condition_tree(item: Item) -> list[Any] | None:
    """The condition as the nested lists the browser evaluates, or None."""
    expr = condition(item)
    return None if expr is None else to_json(expr.tree)


def hidden_items(
    instrument: Instrument,
    values: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    events: Mapping[str, Mapping[str, Any]] | None = None,
) -> frozenset[str]:
    """The ids of the items whose condition does not hold for these answers.

    Items are taken in the instrument's order and a hidden item counts as blank for the
    conditions after it, so a question that depends on a hidden one is hidden too (as REDCap
    erases a hidden field's value). ``events`` are earlier waves' answers by wave code.
    """
    current = dict(values)
    lowered = {k.lower(): v for k, v in (events or {}).items()}
    hidden: set[str] = set()
    for item in instrument.items:
        expr = condition(item)
        if expr is None:
            continue
        if item.show_if is not None and not item.branching:
            shown = item.show_if.holds(current)
        else:
            shown = expr.holds(Context.of(current, now, lowered))
        if not shown:
            hidden.add(item.id)
            current[item.id] = [] if item.type == "multiple" else None
    return frozenset(hidden)
