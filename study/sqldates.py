"""Calendar arithmetic on DATE columns, compiled for SQLite and PostgreSQL.

``add_months`` clamps to the end of the month exactly like :func:`study.scheduling.plan.add_months`
(dateutil's ``relativedelta``): PostgreSQL's ``date + interval 'n months'`` clamps by itself;
SQLite's ``date(d, '+n months')`` overflows into the next month instead (31 January + 1 month is
3 March), so the overflow is taken back: when the day of the month changed, subtracting the new day
of the month lands on the last day of the intended month.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class add_months(FunctionElement[Any]):
    """``add_months(date_expr, months_expr)``: a DATE ``months`` calendar months later."""

    type = Date()
    inherit_cache = True
    name = "add_months"


class add_days(FunctionElement[Any]):
    """``add_days(date_expr, days_expr)``: a DATE ``days`` days later (negative: earlier)."""

    type = Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_months, "postgresql")
def _pg_add_months(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = list(element.clauses)
    return (
        f"CAST({compiler.process(day, **kw)} + make_interval(months => "
        f"CAST({compiler.process(months, **kw)} AS INTEGER)) AS DATE)"
    )


@compiles(add_months, "sqlite")
def _sqlite_add_months(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = list(element.clauses)
    d = compiler.process(day, **kw)
    m = compiler.process(months, **kw)
    shifted = f"date({d}, printf('%+d months', {m}))"
    return (
        f"(CASE WHEN strftime('%d', {shifted}) = strftime('%d', {d}) THEN {shifted} "
        f"ELSE date({shifted}, printf('-%d days', CAST(strftime('%d', {shifted}) AS INTEGER))) END)"
    )


@compiles(add_days, "postgresql")
def _pg_add_days(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = list(element.clauses)
    return (
        f"CAST({compiler.process(day, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER) "
        "AS DATE)"
    )


@compiles(add_days, "sqlite")
def _sqlite_add_days(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = list(element.clauses)
    return (
        f"date({compiler.process(day, **kw)}, printf('%+d days', {compiler.process(days, **kw)}))"
    )


class days_between(FunctionElement[float]):
    """``later - earlier`` in days, for two DATE expressions."""

    type = Float()
    inherit_cache = True
    name = "days_between"

    def __init__(self, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> None:
        super().__init__(later, earlier)


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgres(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"CAST(({compiler.process(later, **kw)}) - ({compiler.process(earlier, **kw)}) AS FLOAT)"
