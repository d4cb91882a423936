"""How complete an answer set is: the questions a respondent could answer, and which of them
were left open.

A question counts when the respondent could answer it: it takes an answer, it is shown (its
branching condition holds) and the respondent can change it (not calculated, not hidden or
read-only by an action tag). A response with one required item answered and the rest left open
is then 1 of n, not "a response".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from questionnaires.action_tags import tags_of
from questionnaires.model import Instrument, Item


def _answered(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def applicable_items(instrument: Instrument, hidden: Collection[str] = ()) -> list[Item]:
    """The questions a respondent could answer, in the instrument's order."""
    return [
        it
        for it in instrument.items
        if it.answerable
        and not it.computed
        and it.id not in hidden
        and not tags_of(it.annotation).fixed
    ]


def answer_counts(
    instrument: Instrument, values: Mapping[str, Any], hidden: Collection[str] = ()
) -> tuple[int, int]:
    """(answered, applicable): how many of the questions a respondent could answer have one."""
    items = applicable_items(instrument, hidden)
    return sum(_answered(values.get(it.id)) for it in items), len(items)


def unanswered(
    instrument: Instrument, values: Mapping[str, Any], hidden: Collection[str] = ()
) -> list[tuple[int, Item]]:
    """The questions left open, each with the index of the part it is on."""
    part = {
        item_id: index
        for index, section in enumerate(instrument.sections)
        for item_id in section.item_ids
    }
    return [
        (part.get(it.id, 0), it)
        for it in applicable_items(instrument, hidden)
        if not _answered(values.get(it.id))
    ]
