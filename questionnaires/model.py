"""The instrument model: items, sections, scores and instruments as immutable data.

Instances are built by :func:`questionnaires.schema.parse_instrument`, which checks every rule
(unique ids, translations, scales, bands). Constructing them by hand skips those checks.
Sequences are tuples so that instruments are immutable and compare by value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ItemType = Literal[
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
"""Item types. ``descriptive`` is display-only text (it never has an answer); ``calc`` is
computed from other answers by its ``calc`` formula (REDCap's language) and stored with them."""

ScoreRule = Literal["mean", "sum", "capability_count", "capability_flag", "item"]
Respondent = Literal["employee", "jobcoach", "employer"]
Widget = Literal["radio", "dropdown", "slider", "truefalse", "textarea"]

ANSWERABLE_TYPES: frozenset[str] = frozenset(
    {"likert", "single", "multiple", "integer", "number", "text", "yesno", "date", "calc"}
)
"""Types whose items have a stored value (``calc`` ones computed, never posted)."""
CHOICE_TYPES: frozenset[str] = frozenset({"likert", "single", "multiple", "yesno"})

Text = dict[str, str]
"""A translated text: ``{"nl": ..., "en": ...}``."""


@dataclass(frozen=True)
class Option:
    """One response option of a choice item."""

    code: int | str
    label: Text


@dataclass(frozen=True)
class Condition:
    """One clause of a display condition: ``item op value``.

    ``op`` is one of ``= != < <= > >=`` (compare the answer) or ``has`` / ``lacks`` (a
    multiple-choice answer does or does not include option ``value``).
    """

    item: str
    op: str
    value: str

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the clause is true for the given (typed) answers."""
        answer = values.get(self.item)
        if self.op in ("has", "lacks"):
            chosen = {str(v) for v in answer} if isinstance(answer, list | tuple | set) else set()
            return (self.value in chosen) == (self.op == "has")
        missing = answer is None or answer == "" or answer == []
        if self.op in ("=", "!="):
            equal = (not missing and _same(answer, self.value)) or (missing and self.value == "")
            return equal == (self.op == "=")
        if missing:
            return False
        try:
            left, right = float(answer), float(self.value)
        except (TypeError, ValueError):
            return False
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[self.op]


def _same(answer: Any, value: str) -> bool:
    if str(answer) == value:
        return True
    try:
        return math.isclose(float(answer), float(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class ShowIf:
    """Show an item only when all (or any) of the conditions hold."""

    mode: Literal["all", "any"]
    conditions: tuple[Condition, ...]

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the item is shown for the given (typed) answers."""
        results = (c.holds(values) for c in self.conditions)
        return all(results) if self.mode == "all" else any(results)


@dataclass(frozen=True)
class Item:
    """One question (or, for ``descriptive``, one piece of text) of an instrument.

    ``min``/``max`` bound integer and number answers. For choice items the numeric range used
    for reverse keying and scoring is :attr:`value_range`. ``widget``, ``validation``,
    ``matrix``, ``branching``, ``identifier``, ``annotation`` and ``anchors`` keep what a REDCap
    dictionary says so that it can be exported again. ``header`` is a heading shown above the
    item inside its page (a REDCap section header). ``branching`` is REDCap logic that decides
    whether the item is shown (:mod:`questionnaires.branching`); ``inactive_branching`` is
    logic kept for export only, because it reads fields Klik cannot (other forms).
    ``earliest``/``latest`` bound a date, date-time or time answer: ``Y-M-D`` (``H:M``),
    ``today`` or ``now``.
    """

    id: str
    type: ItemType
    text: Text
    section: str
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    required: bool = False
    reverse: bool = False
    help: Text | None = None
    widget: Widget | None = None
    validation: str | None = None
    matrix: str | None = None
    show_if: ShowIf | None = None
    branching: str | None = None
    identifier: bool = False
    annotation: str | None = None
    anchors: tuple[Text, ...] = ()
    header: Text | None = None
    calc: str | None = None
    inactive_branching: str | None = None
    earliest: str | None = None
    latest: str | None = None

    @property
    def answerable(self) -> bool:
        """False for display-only items."""
        return self.type in ANSWERABLE_TYPES

    @property
    def computed(self) -> bool:
        """True for calculated items: the server computes them, a respondent never posts them."""
        return self.type == "calc"

    @property
    def numeric(self) -> bool:
        """Whether answers are numbers (all option codes numeric for choice items)."""
        if self.type in ("integer", "number", "calc"):
            return True
        if self.type in ("likert", "single", "yesno"):
            return bool(self.options) and all(isinstance(o.code, int) for o in self.options)
        return False

    @property
    def value_range(self) -> tuple[float, float] | None:
        """The lowest and highest possible numeric answer, or None when not bounded/numeric."""
        if self.type in ("likert", "single", "yesno"):
            if not self.numeric:
                return None
            codes = [float(o.code) for o in self.options]
            return (min(codes), max(codes))
        if (
            self.type in ("integer", "number", "calc")
            and self.min is not None
            and self.max is not None
        ):
            return (float(self.min), float(self.max))
        return None

    def option(self, code: int | str) -> Option | None:
        """The option with this code (compared as text), or None."""
        for o in self.options:
            if str(o.code) == str(code):
                return o
        return None


@dataclass(frozen=True)
class Section:
    """A page of the form."""

    id: str
    title: Text
    item_ids: tuple[str, ...]
    intro: Text | None = None


@dataclass(frozen=True)
class Band:
    """A labelled interval of a score: ``lo <= score < hi`` (the last band includes ``hi``)."""

    lo: float
    hi: float
    label: Text


@dataclass(frozen=True)
class Score:
    """A scoring key.

    Rules
    -----
    mean
        Mean of the (reverse-keyed) items answered, when at most ``max_missing`` are missing.
    sum
        Prorated sum: mean of the items answered times the number of items, when at most
        ``max_missing`` are missing.
    item
        The (reverse-keyed) value of a single item.
    capability_flag
        ``items`` are the three aspects (important, enabled, achieved) of one work value:
        1 when all three are ``>= threshold``, 0 otherwise, missing when any aspect is missing.
    capability_count
        ``items`` are consecutive triples (important, enabled, achieved) per work value.
        The number of values that are capabilities, counted over values with all three aspects
        answered; missing when more than ``max_missing`` values are incomplete. An incomplete
        value counts as not a capability (no prorating, so the count stays a whole number).

    ``multiplier`` scales the result (e.g. a 0–25 sum times 4 gives 0–100). ``scale`` is the
    range the rule implies; the loader checks it.
    """

    id: str
    rule: ScoreRule
    items: tuple[str, ...]
    max_missing: int
    scale: tuple[float, float]
    label: Text
    bands: tuple[Band, ...] = ()
    multiplier: float = 1.0
    threshold: float = 4.0

    def band(self, value: float | None) -> Band | None:
        """The band a score value falls in, or None (no bands or missing score)."""
        if value is None or not self.bands or (isinstance(value, float) and math.isnan(value)):
            return None
        for i, b in enumerate(self.bands):
            last = i == len(self.bands) - 1
            if b.lo <= value < b.hi or (last and value == b.hi):
                return b
        return None


@dataclass(frozen=True)
class Instrument:
    """A versioned questionnaire for one respondent role: sections (pages), items and scores.

    ``record_id`` names the item that is the record ID of the REDCap project the instrument
    came from (REDCap requires it as the first field of a dictionary), or None.
    """

    id: str
    version: str
    respondent: Respondent
    title: Text
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    scores: tuple[Score, ...]
    source: str
    licence: str
    languages: tuple[str, ...] = ("nl", "en")
    description: Text | None = None
    record_id: str | None = None
    origin: str = field(default="", compare=False)

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError when unknown)."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"{self.id}: no item {item_id!r}")

    def score(self, score_id: str) -> Score:
        """The score with this id (KeyError when unknown)."""
        for sc in self.scores:
            if sc.id == score_id:
                return sc
        raise KeyError(f"{self.id}: no score {score_id!r}")

    def section_items(self, section: str | int) -> tuple[Item, ...]:
        """The items of a section, given by id or index."""
        sec = self.sections[section] if isinstance(section, int) else self._section(section)
        return tuple(self.item(i) for i in sec.item_ids)

    def _section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(f"{self.id}: no section {section_id!r}")

    @property
    def key(self) -> tuple[str, str]:
        """``(id, version)``."""
        return (self.id, self.version)

    @property
    def answerable_items(self) -> tuple[Item, ...]:
        """Items that take an answer (not descriptive text)."""
        return tuple(it for it in self.items if it.answerable)
