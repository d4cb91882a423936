"""Small helpers for Dutch-first, English-second UI text."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from study.vocab import Labelled

Texts = dict[str, str]


def options(enum: type[StrEnum], language: str, only: Iterable[str] | None = None) -> list[dict]:
    """Dropdown options ``{"label", "value"}`` for an enum's members in ``language``."""
    keep = set(only) if only is not None else None
    return [
        {"label": m.label(language) if isinstance(m, Labelled) else m.value, "value": m.value}
        for m in enum
        if keep is None or m.value in keep
    ]


def label_of(enum: type[StrEnum], value: object, language: str) -> str:
    """The label of a stored enum value; the value itself when it is not a member."""
    if value is None:
        return ""
    try:
        member = enum(str(value))
    except ValueError:
        return str(value)
    return member.label(language) if isinstance(member, Labelled) else member.value


def fmt_date(day: object, language: str) -> str:
    """A date as dd-mm-yyyy (Dutch) or yyyy-mm-dd (English); empty for missing."""
    if day is None or day != day:  # NaN/NaT compare unequal to themselves
        return ""
    try:
        return day.strftime("%d-%m-%Y" if language == "nl" else "%Y-%m-%d")  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return str(day)


def fmt_pct(value: float | None, language: str) -> str:
    """A share 0..1 as a percentage with a decimal comma in Dutch."""
    if value is None or value != value:
        return "–"
    text = f"{100 * value:.0f}%"
    return text.replace(".", ",") if language == "nl" else text
