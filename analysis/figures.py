"""Plotly figures of analysis results. Pure functions: tidy frame in, ``go.Figure`` out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy import stats

from analysis.survival import survival_at

__all__ = [
    "clip_interval",
    "clipped_marks",
    "forest_plot",
    "km_figure",
    "response_rate_figure",
    "trajectory_figure",
]

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
    "clipped": {
        "nl": "interval afgekapt aan de rand van de as",
        "en": "interval cut at the edge of the axis",
    },
    "outside": {"nl": "schatting buiten de as", "en": "estimate outside the axis"},
}

#: the widest hazard-ratio axis; intervals beyond it are cut at its edge and marked
HR_LIMITS = (0.01, 100.0)
HR_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 5, 10, 20, 50, 100)


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


def clip_interval(
    estimate: Sequence[float] | np.ndarray,
    lower: Sequence[float] | np.ndarray,
    upper: Sequence[float] | np.ndarray,
    low: float,
    high: float,
) -> pd.DataFrame:
    """Intervals cut to an axis range ``[low, high]``, with what was cut.

    Parameters
    ----------
    estimate, lower, upper : array-like
        Point estimates and interval bounds (NaN: no interval).
    low, high : float
        The axis range.

    Returns
    -------
    DataFrame
        estimate (NaN where it lies outside the range, so it is not drawn), lower, upper (cut to
        the range), lower_cut, upper_cut (bool: that end was cut), outside (bool: the estimate
        lies outside the range), true_lower, true_upper (the bounds as given).
    """
    est = np.asarray(estimate, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    with np.errstate(invalid="ignore"):
        outside = (est < low) | (est > high)
        lower_cut = lo < low
        upper_cut = hi > high
    return pd.DataFrame(
        {
            "estimate": np.where(outside, np.nan, est),
            "lower": np.clip(lo, low, high),
            "upper": np.clip(hi, low, high),
            "lower_cut": lower_cut,
            "upper_cut": upper_cut,
            "outside": outside,
            "true_lower": lo,
            "true_upper": hi,
        }
    )


def clipped_marks(
    position: Sequence[object] | np.ndarray,
    clipped: pd.DataFrame,
    *,
    low: float,
    high: float,
    horizontal: bool = False,
    lang: str = "nl",
) -> go.Scatter | None:
    """Arrow markers where :func:`clip_interval` cut an interval, at the edge it was cut.

    Parameters
    ----------
    position : array-like
        The other coordinate of each interval (x of a vertical interval, y of a horizontal one).
    clipped : DataFrame
        Output of :func:`clip_interval`.
    low, high : float
        The axis range the intervals were cut to.
    horizontal : bool
        Intervals run along x (forest plots) rather than y.
    lang : {"nl", "en"}
        Language of the legend entry.

    Returns
    -------
    go.Scatter or None
        One marker trace named after the "interval cut" text (``customdata`` holds the true
        bounds), or None when nothing was cut.
    """
    pos = list(position)
    points: list[tuple[object, float, str, float, float]] = []
    for i, row in enumerate(clipped.itertuples(index=False)):
        for cut, edge, symbol in (
            (row.lower_cut, low, "triangle-left" if horizontal else "triangle-down"),
            (row.upper_cut, high, "triangle-right" if horizontal else "triangle-up"),
        ):
            if cut:
                points.append((pos[i], edge, symbol, row.true_lower, row.true_upper))
    if not points:
        return None
    where = [p[0] for p in points]
    edges = [p[1] for p in points]
    return go.Scatter(
        x=edges if horizontal else where,
        y=where if horizontal else edges,
        mode="markers",
        marker={"symbol": [p[2] for p in points], "size": 11, "color": "#555"},
        name=_t("clipped", lang),
        customdata=np.array([[p[3], p[4]] for p in points], dtype=float),
        hovertemplate="(%{customdata[0]:.3g} – %{customdata[1]:.3g})<extra>"
        + _t("clipped", lang)
        + "</extra>",
    )


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


def forest_plot(
    summary: pd.DataFrame,
    *,
    title: str | None = None,
    lang: str = "nl",
    limits: tuple[float, float] = HR_LIMITS,
) -> go.Figure:
    """Forest plot of hazard ratios with their intervals on a log axis.

    The axis spans 0.1–10, widened to the intervals but never beyond ``limits``; an interval
    reaching past the axis is cut at its edge and marked with an arrow, and a hazard ratio
    outside the axis is not drawn (its term says so).

    Parameters
    ----------
    summary : DataFrame
        ``CoxResult.summary`` (term, hr, hr_lower, hr_upper, ...).
    title : str, optional
        Figure title.
    lang : {"nl", "en"}
        Language of the labels.
    limits : tuple of float
        The widest axis.

    Returns
    -------
    go.Figure
        One marker trace (name ``"hr"``) with asymmetric error bars inside the axis range, a
        marker trace of cut intervals when there are any, and a vertical line at 1.
    """
    terms = summary["term"].astype(str).tolist()[::-1]
    hr = summary["hr"].to_numpy(dtype=float)[::-1]
    lower = summary["hr_lower"].to_numpy(dtype=float)[::-1]
    upper = summary["hr_upper"].to_numpy(dtype=float)[::-1]
    finite_lower = lower[np.isfinite(lower) & (lower > 0)]
    finite_upper = upper[np.isfinite(upper)]
    low = max(min(0.1, *finite_lower) if len(finite_lower) else 0.1, limits[0])
    high = min(max(10.0, *finite_upper) if len(finite_upper) else 10.0, limits[1])
    cut = clip_interval(hr, lower, upper, low, high)
    shown = cut["estimate"].to_numpy()
    labels = [
        f"{term} ({_t('outside', lang)})" if out else term
        for term, out in zip(terms, cut["outside"], strict=True)
    ]
    fig = go.Figure(
        go.Scatter(
            x=shown,
            y=labels,
            mode="markers",
            marker={"size": 9, "color": PALETTE[0]},
            error_x={
                "type": "data",
                "symmetric": False,
                # an estimate off the axis has no bar to hang from; its cut interval is marked
                "array": np.nan_to_num(cut["upper"].to_numpy() - shown, nan=0.0),
                "arrayminus": np.nan_to_num(shown - cut["lower"].to_numpy(), nan=0.0),
            },
            name="hr",
            hovertemplate="%{y}: %{x:.2f}<extra></extra>",
        )
    )
    marks = clipped_marks(labels, cut, low=low, high=high, horizontal=True, lang=lang)
    if marks is not None:
        fig.add_trace(marks)
    fig.add_vline(x=1.0, line_dash="dash", line_color="grey")
    # plotly's own log ticks crowd the minor digits together; name a few round ratios instead
    ticks = [t for t in HR_TICKS if low <= t <= high]
    # a little room beyond the range so the arrows at its edges are seen whole
    pad = 0.04 * (np.log10(high) - np.log10(low))
    fig.update_xaxes(
        type="log",
        title_text=_t("hazard_ratio", lang),
        tickvals=ticks,
        ticktext=[f"{t:g}" for t in ticks],
        range=[np.log10(low) - pad, np.log10(high) + pad],
    )
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=max(250, 60 + 40 * len(terms)),
        showlegend=marks is not None,
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
    y_range: tuple[float, float] | None = None,
) -> go.Figure:
    """Mean score per wave with t-based confidence intervals, optionally with individual lines.

    With ``y_range`` (the scale's range, e.g. 0–7) the axis shows that range and an interval
    reaching past it is cut at its edge and marked with an arrow.

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
    y_range : tuple of float, optional
        The scale's range.

    Returns
    -------
    go.Figure
        Individual traces (name ``"individual"``, legend hidden) first, then one mean trace per
        group (name = group, or ``value``) with error bars; each mean point carries n in its
        hover text. With ``y_range``, a marker trace of cut intervals follows when there are any.
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
        error_y: dict[str, object] = {"type": "data", "array": half, "visible": True}
        marks = None
        if y_range is not None:
            mean = agg["mean"].to_numpy(dtype=float)
            cut = clip_interval(mean, mean - half, mean + half, *y_range)
            error_y = {
                "type": "data",
                "symmetric": False,
                "array": cut["upper"].to_numpy() - mean,
                "arrayminus": mean - cut["lower"].to_numpy(),
                "visible": True,
            }
            marks = clipped_marks(agg[x], cut, low=y_range[0], high=y_range[1], lang=lang)
        fig.add_trace(
            go.Scatter(
                x=agg[x],
                y=agg["mean"],
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)], "width": 3},
                error_y=error_y,
                name=str(label),
                customdata=agg["count"],
                hovertemplate="%{x}: %{y:.2f}, n=%{customdata}<extra>" + str(label) + "</extra>",
            )
        )
        if marks is not None:
            fig.add_trace(marks)
    fig.update_xaxes(title_text=_t("time_months", lang) if x == "months" else x)
    fig.update_yaxes(title_text=y_label or f"{value}: {_t('mean', lang)}")
    if y_range is not None:
        pad = 0.03 * (y_range[1] - y_range[0])
        fig.update_yaxes(range=[y_range[0] - pad, y_range[1] + pad])
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
