"""Pure builders of HTML tables and small components shared by the pages."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from dash import html

from dashboard.disclosure import HIDDEN_MARK


def _cell(value: object, k: int) -> html.Td:
    if isinstance(value, float) and value != value:
        return html.Td(HIDDEN_MARK if k else "–", className="num suppressed")
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{value:,.0f}".replace(",", ".") if float(value).is_integer() else f"{value:.2f}"
        return html.Td(text, className="num")
    return html.Td("" if value is None else value)


def table(
    frame: pd.DataFrame,
    headers: Sequence[str] | None = None,
    *,
    min_size: int = 0,
    table_id: str | None = None,
    empty: str = "–",
) -> html.Div:
    """A plain, accessible HTML table of ``frame``; NaN numbers show as hidden (``×``) when ``min_size`` is set."""
    if frame.empty:
        return html.P(empty, className="klik-muted")
    heads = list(headers) if headers is not None else [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = html.Thead(
        html.Tr(
            [
                html.Th(h, className="num" if n else None)
                for h, n in zip(heads, numeric, strict=True)
            ]
        )
    )
    body = html.Tbody(
        [html.Tr([_cell(v, min_size) for v in row]) for row in frame.itertuples(index=False)]
    )
    props = {"id": table_id} if table_id else {}
    return html.Div(
        html.Table([head, body], className="klik-table", **props), className="klik-table-wrap"
    )


def kpi(value: str, label: str) -> html.Div:
    """A headline number with its label."""
    return html.Div(
        [html.Div(value, className="klik-kpi-value"), html.Div(label, className="klik-kpi-label")],
        className="klik-kpi",
    )
