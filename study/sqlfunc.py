"""Portable SQL expressions that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


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
