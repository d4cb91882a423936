"""Saving a study's cost parameters (MKBA): every change is a new, audited version."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.frames import COST_PARAMETER_KEYS
from study import audit
from study.errors import InvalidInput
from study.models import CostParameter, CostParameterSet, Study
from study.services.common import get_in_study, utc

__all__ = ["PARAMETER_FIELDS", "clean_parameter_rows", "save_cost_parameters"]

PARAMETER_FIELDS: tuple[str, ...] = (
    "key",
    "coach_type",
    "year",
    "value",
    "unit",
    "payer",
    "receiver",
    "source",
)
COACH_TYPES = ("internal", "external")
YEARS = (1990, 2100)


def _number(raw: object, line: int, key: str) -> float:
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, str):
        # Dutch users write 73,30
        text = raw.strip().replace(" ", "")
        text = text.replace(".", "").replace(",", ".") if "," in text else text
        try:
            raw = float(text)
        except ValueError:
            raw = None
    if not isinstance(raw, int | float) or not math.isfinite(raw):
        raise InvalidInput(
            f"regel {line} ({key}): de waarde moet een getal zijn",
            f"line {line} ({key}): the value must be a number",
            field="value",
        )
    if raw < 0:
        raise InvalidInput(
            f"regel {line} ({key}): een bedrag of aandeel kan niet negatief zijn",
            f"line {line} ({key}): an amount or share cannot be negative",
            field="value",
        )
    return float(raw)


def _year(raw: object, line: int, key: str) -> int:
    try:
        number = float(str(raw).strip()) if not isinstance(raw, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number % 1 or not YEARS[0] <= number <= YEARS[1]:
        raise InvalidInput(
            f"regel {line} ({key}): het jaar moet een heel jaartal tussen {YEARS[0]} en "
            f"{YEARS[1]} zijn",
            f"line {line} ({key}): the year must be a whole year between {YEARS[0]} and {YEARS[1]}",
            field="year",
        )
    return int(number)


def _text(raw: object, limit: int) -> str:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    return str(raw).strip()[:limit]


def clean_parameter_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows checked and normalised, or :class:`InvalidInput` naming the line and the fault."""
    if not rows:
        raise InvalidInput("de tabel met parameters is leeg", "the parameter table is empty")
    clean: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None, int]] = set()
    for line, row in enumerate(rows, start=1):
        key = _text(row.get("key"), 60)
        if not key:
            raise InvalidInput(
                f"regel {line}: de parameter heeft geen naam (key)",
                f"line {line}: the parameter has no name (key)",
                field="key",
            )
        coach = _text(row.get("coach_type"), 16) or None
        if coach is not None and coach not in COACH_TYPES:
            raise InvalidInput(
                f"regel {line} ({key}): type jobcoach moet 'internal', 'external' of leeg zijn",
                f"line {line} ({key}): coach type must be 'internal', 'external' or empty",
                field="coach_type",
            )
        year = _year(row.get("year"), line, key)
        if (key, coach, year) in seen:
            raise InvalidInput(
                f"regel {line}: {key} ({coach or 'alle jobcoaches'}, {year}) staat er twee keer in",
                f"line {line}: {key} ({coach or 'all jobcoaches'}, {year}) is given twice",
                field="key",
            )
        seen.add((key, coach, year))
        clean.append(
            {
                "key": key,
                "coach_type": coach,
                "year": year,
                "value": _number(row.get("value"), line, key),
                "unit": _text(row.get("unit"), 120),
                "payer": _text(row.get("payer"), 60),
                "receiver": _text(row.get("receiver"), 60),
                "source": _text(row.get("source"), 4000),
            }
        )
    missing = sorted(set(COST_PARAMETER_KEYS) - {r["key"] for r in clean})
    if missing:
        raise InvalidInput(
            f"deze parameters ontbreken: {', '.join(missing)}",
            f"these parameters are missing: {', '.join(missing)}",
            field="key",
        )
    return clean


def _as_map(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{r['key']}/{r['coach_type'] or ''}/{r['year']}": {
            k: r[k] for k in PARAMETER_FIELDS if k not in ("key", "coach_type", "year")
        }
        for r in rows
    }


def save_cost_parameters(
    session: Session,
    study_id: int,
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    previous: Sequence[Mapping[str, Any]] = (),
) -> CostParameterSet | None:
    """Store ``rows`` as the study's next cost-parameter version.

    ``previous`` is the table the change started from (the stored version or the shipped
    defaults); the audit event holds the rows that changed, were added or were removed. Returns
    None, writing nothing, when nothing changed.
    """
    get_in_study(session, Study, study_id, study_id)
    clean = clean_parameter_rows(rows)
    old, new = _as_map(previous), _as_map(clean)
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    removed = {k: old[k] for k in old.keys() - new.keys()}
    if not changed and not removed and previous:
        return None
    version = (
        session.scalar(
            select(func.max(CostParameterSet.version)).where(CostParameterSet.study_id == study_id)
        )
        or 0
    ) + 1
    parameter_set = CostParameterSet(
        study_id=study_id,
        version=version,
        created_at=utc(at),
        created_by=actor,
        reason=reason or None,
        parameters=[CostParameter(**r) for r in clean],
    )
    session.add(parameter_set)
    session.flush()
    audit.record(
        session,
        at=utc(at),
        actor=actor,
        action="update",
        entity="cost_parameters",
        entity_id=parameter_set.id,
        old={"version": version - 1, **{k: old[k] for k in changed if k in old}, **removed},
        new={"version": version, **changed},
        reason=reason,
    )
    return parameter_set
