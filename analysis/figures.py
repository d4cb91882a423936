"""Plotly figures of analysis results. Pure functions: tidy frame in, ``go.Figure`` out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from analysis.survival import survival_at

__all__ = ["forest_plot", "km_figure", "response_rate_figure", "trajectory_figure"]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")

TEXT: dict[str, dict[str, str]] = {
    "survival": {"nl": "Nog aan het werk", "en": "Still in work"},
    "time_months": {"nl": "Maanden sinds start", "en": "Months since start"},
    "at_risk": {"nl": "Aantal at risk", "en": "Number at risk"},
    "hazard_ratio": {"nl": "Hazard ratio (95%-BI)", "en": "Hazard ratio (95% CI)"},
    "mean": {"nl": "Gemiddelde (95%-BI)", "en": "Mean (95% CI)"},
    "response": {"nl": "Respons", "en": "Response"},
    "wave": {"nl": "Meting", "en": "Wave"},
    "employee": {"nl": "werknemer", "en": "employee"},
    "jobcoach": {"nl": "jobcoach", "en": "jobcoach"},
    "employer": {"nl": "werkgever", "en": "employer"},
}


def _t(key: str, lang: str) -> str:
    return TEXT.get(key, {}).get(lang, key)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _steps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corner points of a right-continuous step function, so a band can be drawn as one polygon
    (a line shape of "hv" would bend the wrong way on the return path)."""
    if len(x) < 2:
        return x, y
    xs = np.repeat(x, 2)[1:]
    ys = np.repeat(y, 2)[:-1]
    return xs, ys


def km_figure(
    curves: pd.DataFrame,
    *,
    time_scale: float = 1.0,
    at_risk_times: Sequence[float] | None = None,
    title: str | None = None,
    x_label: str | None = None,
    lang: str = "nl",
) -> go.Figure:
    """Kaplan–Meier step curves with confidence bands and a numbers-at-risk table below.

    Parameters
    ----------
    curves : DataFrame
        Output of :func:`analysis.survival.kaplan_meier` (group, time, survival, lower, upper,
        at_risk, n_events, n_censored, n).
    time_scale : float
        Divide times by this for the axis (e.g. 30.4375 to show months for days).
    at_risk_times : sequence of float, optional
        Axis times (after scaling) for the at-risk table; six evenly spaced ones by default.
    title, x_label : str, optional
        Figure title and x-axis label (default "months since start").
    lang : {"nl", "en"}
        Language of the labels.

    Returns
    -------
    go.Figure
        Per group: a band trace (name ``"<group> CI"``), a step line (name ``group``) and a text
        trace of numbers at risk (name ``"<group> at risk"``) in the lower panel.
    """
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.8, 0.2], vertical_spacing=0.06
    )
    groups = list(dict.fromkeys(curves["group"]))
    t_max = float(curves["time"].max() / time_scale) if len(curves) else 1.0
    if at_risk_times is None:
        at_risk_times = np.linspace(0, t_max, 6).round(1).tolist() if t_max > 0 else [0.0]
    for i, group in enumerate(groups):
        colour = PALETTE[i % len(PALETTE)]
        sub = curves[curves["group"] == group].sort_values("time")
        x = sub["time"].to_numpy() / time_scale
        lower = sub["lower"].fillna(0.0).to_numpy()
        upper = sub["upper"].fillna(0.0).to_numpy()
        step_x, step_upper = _steps(x, upper)
        _, step_lower = _steps(x, lower)
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([step_x, step_x[::-1]]),
                y=np.concatenate([step_upper, step_lower[::-1]]),
                fill="toself",
                fillcolor=_rgba(colour, 0.15),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                name=f"{group} CI",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=sub["survival"],
                mode="lines",
                line={"shape": "hv", "color": colour},
                name=str(group),
                customdata=np.stack([sub["lower"], sub["upper"], sub["at_risk"]], axis=-1),
                hovertemplate="%{x:.1f}: %{y:.3f} (%{customdata[0]:.3f}–%{customdata[1]:.3f}),"
                " n=%{customdata[2]}<extra>" + str(group) + "</extra>",
            ),
            row=1,
            col=1,
        )
        table = survival_at(sub, [t * time_scale for t in at_risk_times])
        fig.add_trace(
            go.Scatter(
                x=np.asarray(at_risk_times, dtype=float),
                y=[str(group)] * len(table),
                mode="text",
                text=table["at_risk"].astype(str),
                textfont={"color": colour},
                showlegend=False,
                hoverinfo="skip",
                name=f"{group} at risk",
            ),
            row=2,
            col=1,
        )
    fig.update_yaxes(title_text=_t("survival", lang), range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(
        title_text=_t("at_risk", lang), autorange="reversed", showgrid=False, row=2, col=1
    )
    fig.update_xaxes(title_text=x_label or _t("time_months", lang), row=2, col=1)
    fig.update_layout(title=title, template="plotly_white", legend={"orientation": "h"})
    return fig


def forest_plot(summary: pd.DataFrame, *, title: str | None = None, lang: str = "nl") -> go.Figure:
    """Forest plot of hazard ratios with their intervals on a log axis.

    Parameters
    ----------
    summary : DataFrame
        ``CoxResult.summary`` (term, hr, hr_lower, hr_upper, ...).
    title : str, optional
        Figure title.
    lang : {"nl", "en"}
        Language of the labels.

    Returns
    -------
    go.Figure
        One marker trace (name ``"hr"``) with asymmetric error bars, and a vertical line at 1.
    """
    terms = summary["term"].astype(str).tolist()[::-1]
    hr = summary["hr"].to_numpy()[::-1]
    lower = summary["hr_lower"].to_numpy()[::-1]
    upper = summary["hr_upper"].to_numpy()[::-1]
    fig = go.Figure(
        go.Scatter(
            x=hr,
            y=terms,
            mode="markers",
            marker={"size": 9, "color": PALETTE[0]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": upper - hr,
                "arrayminus": hr - lower,
            },
            name="hr",
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    fig.add_vline(x=1.0, line_dash="dash", line_color="grey")
    # plotly's own log ticks crowd the minor digits together; name a few round ratios instead
    ticks = [0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 5, 10]
    fig.update_xaxes(
        type="log",
        title_text=_t("hazard_ratio", lang),
        tickvals=ticks,
        ticktext=[f"{t:g}" for t in ticks],
    )
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=max(250, 60 + 40 * len(terms)),
        showlegend=False,
    )
    return fig


def trajectory_figure(
    frame: pd.DataFrame,
    value: str,
    *,
    x: str = "months",
    by: str | None = None,
    id: str = "trajectory_id",
    individual: bool = False,
    alpha: float = 0.05,
    title: str | None = None,
    y_label: str | None = None,
    lang: str = "nl",
) -> go.Figure:
    """Mean score per wave with t-based confidence intervals, optionally with individual lines.

    Parameters
    ----------
    frame : DataFrame
        Long or wide frame with one row per person and wave (e.g. ``person_wave_wide``).
    value : str
        Score column.
    x : str
        Time column (months by default).
    by : str, optional
        Grouping column; one mean line per group.
    id : str
        Person column, for the individual lines.
    individual : bool
        Also draw each person's line (thin, grey).
    alpha : float
        1 - confidence level.
    title, y_label : str, optional
        Title and y-axis label.
    lang : {"nl", "en"}
        Language of the labels.

    Returns
    -------
    go.Figure
        Individual traces (name ``"individual"``, legend hidden) first, then one mean trace per
        group (name = group, or ``value``) with error bars; each mean point carries n in its
        hover text.
    """
    data = frame.dropna(subset=[value, x])
    fig = go.Figure()
    if individual:
        for _, person in data.sort_values(x).groupby(id):
            fig.add_trace(
                go.Scatter(
                    x=person[x],
                    y=person[value],
                    mode="lines",
                    line={"color": "rgba(120,120,120,0.25)", "width": 1},
                    hoverinfo="skip",
                    showlegend=False,
                    name="individual",
                )
            )
    groups = [(value, data)] if by is None else list(data.groupby(by, sort=True))
    for i, (label, sub) in enumerate(groups):
        agg = sub.groupby(x)[value].agg(["mean", "std", "count"]).reset_index()
        q = stats.t.ppf(1 - alpha / 2, np.maximum(agg["count"] - 1, 1))
        half = np.where(agg["count"] > 1, q * agg["std"] / np.sqrt(agg["count"]), np.nan)
        fig.add_trace(
            go.Scatter(
                x=agg[x],
                y=agg["mean"],
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)], "width": 3},
                error_y={"type": "data", "array": half, "visible": True},
                name=str(label),
                customdata=agg["count"],
                hovertemplate="%{x}: %{y:.2f}, n=%{customdata}<extra>" + str(label) + "</extra>",
            )
        )
    fig.update_xaxes(title_text=_t("time_months", lang) if x == "months" else x)
    fig.update_yaxes(title_text=y_label or f"{value}: {_t('mean', lang)}")
    fig.update_layout(title=title, template="plotly_white")
    return fig


def response_rate_figure(
    rates: pd.DataFrame, *, title: str | None = None, lang: str = "nl"
) -> go.Figure:
    """Response rate per wave, one bar series per respondent role.

    Parameters
    ----------
    rates : DataFrame
        Output of :func:`analysis.attrition.response_rates` (wave, respondent, invited,
        responded, rate, ...).
    title : str, optional
        Figure title.
    lang : {"nl", "en"}
        Language of the labels.

    Returns
    -------
    go.Figure
        One bar trace per respondent (name = translated role), y = rate, text = responded/invited.
    """
    fig = go.Figure()
    ordered = rates.sort_values([c for c in ("wave_index", "wave") if c in rates.columns])
    for i, (respondent, sub) in enumerate(ordered.groupby("respondent", sort=False)):
        fig.add_trace(
            go.Bar(
                x=sub["wave"],
                y=sub["rate"],
                name=_t(str(respondent), lang),
                marker_color=PALETTE[i % len(PALETTE)],
                text=[f"{r}/{n}" for r, n in zip(sub["responded"], sub["invited"], strict=True)],
                textposition="outside",
            )
        )
    fig.update_yaxes(title_text=_t("response", lang), tickformat=".0%", range=[0, 1.1])
    fig.update_xaxes(title_text=_t("wave", lang))
    fig.update_layout(barmode="group", title=title, template="plotly_white")
    return fig
