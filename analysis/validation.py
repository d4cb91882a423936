"""Checks at the door of every public analysis function: bad input fails loudly, in plain words.

Each check takes the frame, the column and the name of the calling function and raises
:class:`BadInput` (a ``ValueError``) whose message names the function, the column and what is
wrong, e.g. ``cox: column 'age' holds text ('zestig', ...); it must hold numbers``. The checks
run before anything is fitted, so a library deep inside never sees the bad frame and never
answers with a bare ``TypeError``, an ``AssertionError`` or a converged-looking fit.

Too little (but valid) data is not bad input: :mod:`analysis.minimum_data` refuses those with
:class:`~analysis.minimum_data.TooLittleData`. Both are ``ValueError`` subclasses, so a caller
that shows "no estimate" for value errors shows both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as pdt

__all__ = [
    "BadInput",
    "column_names",
    "plain",
    "require_binary",
    "require_columns",
    "require_frame",
    "require_level",
    "require_numeric",
    "require_present",
    "require_rows",
    "require_value_present",
    "require_varies",
]


class BadInput(ValueError):
    """Input an analysis cannot answer rightly; says which function, column and problem.

    Attributes
    ----------
    function : str
        The public function that refused.
    column : str or None
        The column at fault (None for the frame as a whole).
    problem : str
        What is wrong, in plain words.
    """

    def __init__(self, function: str, column: str | None, problem: str) -> None:
        where = f"column {column!r} " if column is not None else ""
        super().__init__(f"{function}: {where}{problem}")
        self.function = function
        self.column = column
        self.problem = problem

    def __reduce__(self) -> tuple[type, tuple[str, str | None, str]]:
        # results and errors travel between processes as pickles
        return (type(self), (self.function, self.column, self.problem))


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so messages read ``1``, not
    ``np.int64(1)``."""
    return value.item() if isinstance(value, np.generic) else value


def column_names(columns: object, function: str, what: str) -> list[str]:
    """One column name or a list of them, as a list of non-empty names (None: none)."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    try:
        out = list(columns)  # type: ignore[call-overload]
    except TypeError:
        raise BadInput(function, None, f"{what} must be a column name or a list of them") from None
    for c in out:
        if not isinstance(c, str) or not c:
            raise BadInput(function, None, f"{what} must name columns, got {c!r}")
    return out


def require_level(value: object, function: str, name: str) -> float:
    """A number strictly between 0 and 1 (an alpha, a confidence level), as a float."""
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not ok or not 0 < float(value) < 1:  # type: ignore[arg-type]
        raise BadInput(function, None, f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def require_present(frame: object, columns: Sequence[str], function: str) -> pd.DataFrame:
    """The frame, with every named column present exactly once."""
    frame = require_frame(frame, function)
    names = list(dict.fromkeys(columns))
    for name in names:
        if not isinstance(name, str) or not name:
            raise BadInput(function, None, f"column names must be text, got {name!r}")
    require_columns(frame, names, function)
    for name in names:
        if isinstance(frame[name], pd.DataFrame):
            raise BadInput(function, name, "appears more than once in the frame")
    return frame


def _examples(values: Iterable[object], limit: int = 3) -> str:
    """Up to ``limit`` different values as Python writes them (``-6.89``, not
    ``np.float64(-6.89)``), with "..." only when there are more."""
    distinct = list(dict.fromkeys(plain(v) for v in values))
    shown = ", ".join(repr(v) for v in distinct[:limit])
    return shown + (", ..." if len(distinct) > limit else "")


def require_frame(frame: object, function: str) -> pd.DataFrame:
    """The frame itself, or :class:`BadInput` when it is not a pandas DataFrame."""
    if not isinstance(frame, pd.DataFrame):
        raise BadInput(function, None, f"expects a pandas DataFrame, got {type(frame).__name__}")
    return frame


def require_columns(frame: pd.DataFrame, columns: Sequence[str], function: str) -> None:
    """Every named column is in the frame (all missing ones named at once)."""
    require_frame(frame, function)
    missing = [c for c in columns if c not in frame.columns]
    if len(missing) == 1:
        raise BadInput(function, missing[0], "is not in the frame")
    if missing:
        raise BadInput(function, None, f"the frame lacks the columns {missing}")


def require_numeric(
    frame: pd.DataFrame,
    column: str,
    function: str,
    *,
    nonnegative: bool = False,
    positive: bool = False,
) -> None:
    """The column holds real numbers (missing values allowed), not text, dates or infinities.

    Text that looks like numbers (``"3"``) is refused too: it is a sign that the frame was read
    wrongly, and a formula would treat it as categories.
    """
    require_columns(frame, [column], function)
    series = frame[column]
    if pdt.is_bool_dtype(series):
        return
    if not pdt.is_numeric_dtype(series) or pdt.is_complex_dtype(series):
        present = series.dropna()
        kind = "dates" if pdt.is_datetime64_any_dtype(series) else "text"
        raise BadInput(
            function, column, f"holds {kind} ({_examples(present)}); it must hold numbers"
        )
    values = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
    values = values[~np.isnan(values)]
    if np.isinf(values).any():
        raise BadInput(function, column, "holds infinite values")
    if positive and (values <= 0).any():
        raise BadInput(
            function, column, f"holds values of 0 or less ({_examples(values[values <= 0])})"
        )
    if nonnegative and (values < 0).any():
        raise BadInput(function, column, f"holds negative values ({_examples(values[values < 0])})")


def require_binary(frame: pd.DataFrame, column: str, function: str) -> None:
    """The column holds 0/1 or True/False only (no missing values)."""
    require_columns(frame, [column], function)
    series = frame[column]
    if series.isna().any():
        raise BadInput(function, column, "has missing values; it must hold 0/1 for every row")
    if not (pdt.is_bool_dtype(series) or pdt.is_numeric_dtype(series)):
        raise BadInput(function, column, f"holds text ({_examples(series)}); it must hold 0/1")
    odd = series[~series.isin([0, 1, True, False])]
    if len(odd):
        raise BadInput(function, column, f"must hold 0/1, found {_examples(odd.unique())}")


def require_varies(frame: pd.DataFrame, column: str, function: str) -> None:
    """The column takes at least two different values among its non-missing rows."""
    require_columns(frame, [column], function)
    levels = frame[column].dropna().unique()
    if len(levels) < 2:
        found = f"only {_examples(levels)}" if len(levels) else "no values"
        raise BadInput(function, column, f"does not vary ({found}); it cannot explain anything")


def require_value_present(frame: pd.DataFrame, column: str, value: object, function: str) -> None:
    """At least one row of the column equals the value (e.g. the event type asked for)."""
    require_columns(frame, [column], function)
    if not (frame[column] == value).any():
        present = frame[column].dropna().unique()
        raise BadInput(
            function, column, f"has no row with {value!r} (values found: {_examples(present, 6)})"
        )


def require_rows(frame: pd.DataFrame, function: str, least: int = 1) -> None:
    """The frame has at least ``least`` rows."""
    require_frame(frame, function)
    if len(frame) < least:
        raise BadInput(function, None, f"needs at least {least} rows, the frame has {len(frame)}")
