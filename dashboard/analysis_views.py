"""Pure building blocks of the analysis pages: frames in, tables and figures out.

Nothing here touches the database, the request or the clock; the pages and the background jobs
call these. The models themselves are :mod:`analysis.study_models`, the same ones the report
and ``klik analyse`` fit; this module only shapes views of them. For everyone, the models refuse below the rules of :mod:`analysis.minimum_data`
(raising ``TooLittleData`` with the reason) and curves stop where fewer than its minimum are at
risk. What a viewer receives passes :mod:`dashboard.disclosure`: survival curves from its
release (:func:`viewer_survival_release`), means per wave only where at least ``min_cell``
answered, in two decimals and with rounded counts, and never an individual line.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis import figures
from analysis import study_models as models
from analysis.minimum_data import (
    RULES,
    Shortfall,
)
from dashboard.disclosure import (
    EVERYONE_STRATUM,
    OTHER_STRATUM,
    UNKNOWN_STRATUM,
    SurvivalRelease,
    coarse_means,
    pooled_horizons,
    survival_release,
    viewer_count,
)
from dashboard.disclosure_audit import (
    MonitorTables,
    Stratification,
    curve_facts,
    exposing_stratifications,
)
from dashboard.monitor_views import UNKNOWN

TEXT: dict[str, dict[str, str]] = {
    "none": {"nl": "Geen (hele cohort)", "en": "None (whole cohort)"},
    "klik": {"nl": "Klik bij de start (tertielen)", "en": "Klik at baseline (tertiles)"},
    "intensity": {
        "nl": "Coachingsintensiteit (tertielen)",
        "en": "Coaching intensity (tertiles)",
    },
    "match": {"nl": "Match bij de start (tertielen)", "en": "Match at baseline (tertiles)"},
    "coach_type": {"nl": "Interne/externe jobcoach", "en": "Internal/external jobcoach"},
    "method": {"nl": "Methode", "en": "Method"},
}


def t(key: str, language: str) -> str:
    """A UI text of this module in ``language``."""
    texts = TEXT.get(key)
    return key if texts is None else texts.get(language, texts["nl"])


def small(n: int, min_cell: int) -> str:
    """A count as shown to a viewer: the number, or ``"<min_cell"`` when below it."""
    return f"<{min_cell}" if n < min_cell else str(n)


# -- survival --------------------------------------------------------------------------------


@dataclass
class SurvivalView:
    """What the survival explorer shows for one stratification.

    Attributes
    ----------
    curves : DataFrame
        ``analysis.survival.kaplan_meier`` output (group, time, survival, lower, upper,
        at_risk, n_events, n_censored, n), suppressed for viewers.
    logrank : DataFrame or None
        test_statistic, df, p, n, events, groups; None with fewer than two strata.
    n : int
        People in the strata shown.
    events : int
        Job losses among them.
    truncated : bool
        Whether curves were cut where the risk set fell under the minimum.
    logrank_refused : Shortfall or None
        Why there is no log-rank test although there are strata (too few events).
    min_at_risk : int
        The risk set below which curves stop.
    """

    curves: pd.DataFrame
    logrank: pd.DataFrame | None
    n: int
    events: int
    truncated: bool = False
    logrank_refused: Shortfall | None = None
    min_at_risk: int = RULES.km_at_risk


def survival_view(
    survival_frame: pd.DataFrame,
    by: str,
    *,
    language: str = "nl",
    rows_allowed: bool = True,
    release: SurvivalRelease | None = None,
) -> SurvivalView:
    """Kaplan–Meier curves (log-log intervals) and the log-rank test for a stratification.

    For viewers (``rows_allowed`` False) the curves come from ``release`` (see
    :func:`viewer_survival_release`): the whole study on the viewers' grid, and the log-rank
    test without its per-group counts.

    Parameters
    ----------
    survival_frame : DataFrame
        A ``SURVIVAL`` frame (with the trajectory columns the strata use).
    by : str
        A key of :data:`analysis.study_models.STRATA`.
    language : {"nl", "en"}
    rows_allowed : bool
        False for viewers: apply the disclosure rules of this module.
    release : SurvivalRelease, optional
        Required for viewers.
    """
    if not rows_allowed:
        if release is None:
            raise ValueError("a viewer's curves come from a SurvivalRelease")
        return _released_view(survival_frame, by, release, language)
    found = models.survival_curves(survival_frame, by, language)
    return SurvivalView(
        found.curves, found.logrank, found.n, found.events, found.truncated, found.refused,
        found.min_at_risk,
    )  # fmt: skip


#: the stratum of the people the monitor counts and the curves do not
ABSENT = "__absent__"

#: stratifications whose known strata are scores of a baseline form: the role filling it in
BASELINE_FORM_ROLE = {"klik": "employee", "match": "employee"}


def viewer_survival_release(
    survival_frame: pd.DataFrame,
    *,
    language: str,
    min_cell: int,
    monitor: MonitorTables | None = None,
    absent: int = 0,
) -> SurvivalRelease:
    """The viewers' survival data: every stratification of :data:`analysis.study_models.STRATA`
    on one grid, checked against the monitor's release of the same data.

    With ``monitor`` (the tables of :class:`dashboard.monitor_views.MonitorRelease`), the
    values of a characteristic the monitor also counts (coach type, method) whose number of
    people the monitor hides go into "Overige" together; then the curves and the monitor are
    solved together (:func:`dashboard.disclosure_audit.exposing_stratifications`) and a
    stratification that exposes a small group has its two smallest strata merged, until none
    does. When the curve of everyone together does, the horizon comes earlier; without any
    horizon that passes there is no curve. ``absent`` counts the people the monitor counts
    but the curves do not (a start after today).
    """
    strata: dict[str, pd.Series] = {}
    for by, column in models.STRATA.items():
        if column is None:
            continue
        labels = models.stratify(survival_frame, by, language)["stratum"]
        if monitor is not None and column in monitor.endings:
            away = monitor.hidden_values(column)
            raw = _monitor_values(survival_frame[column])
            labels = labels.where(~raw.isin(away), OTHER_STRATUM[language])
        strata[by] = labels
    durations, events = survival_frame["duration_days"], survival_frame["event"]

    def release(horizon: float | None, chosen: dict[str, pd.Series]) -> SurvivalRelease:
        return survival_release(
            durations, events, chosen, min_size=min_cell, language=language, horizon=horizon
        )

    if monitor is None:
        return release(None, strata)
    for horizon in pooled_horizons(durations, events, min_size=min_cell):
        chosen = dict(strata)
        while True:
            found = release(horizon, chosen)
            exposing = exposing_stratifications(
                _audited(found, survival_frame, monitor, absent),
                monitor,
                min_size=min_cell,
            )
            if not exposing:
                return found
            if "none" in exposing:
                break
            for by in exposing:
                labels = found.curves[by].strata
                smallest = labels.value_counts().index[-2:]
                chosen[by] = labels.where(~labels.isin(smallest), OTHER_STRATUM[language])
    return release(0.0, strata)


def translated_release(
    release: SurvivalRelease, survival_frame: pd.DataFrame, *, source: str, language: str
) -> SurvivalRelease:
    """``release`` (made in ``source``) with its strata named in ``language``: the same people
    in the same strata, so the curves and the checks behind them are not made again."""
    curves = {}
    merged = (OTHER_STRATUM, UNKNOWN_STRATUM, EVERYONE_STRATUM)
    names = {texts[source]: texts[language] for texts in merged}
    for by, released in release.curves.items():
        labels = released.strata
        if models.STRATA[by] is not None:
            own = models.stratify(survival_frame, by, language)["stratum"].astype(object)
            own.index = labels.index
            labels = labels.map(names).where(labels.isin(list(names)), own)
        curves[by] = replace(released, strata=labels)
    return SurvivalRelease(curves, release.min_size)


def _monitor_values(column: pd.Series) -> pd.Series:
    """A characteristic's values as the monitor names them (missing: ``UNKNOWN``)."""
    raw = column.astype(object)
    return raw.where(raw.notna(), UNKNOWN)


def _audited(
    release: SurvivalRelease, frame: pd.DataFrame, monitor: MonitorTables, absent: int
) -> dict[str, Stratification]:
    """The release's stratifications as :func:`exposing_stratifications` reads them (the
    people not on the curves as a stratum of their own that a viewer can count)."""
    out = {}
    for by, curves in release.curves.items():
        column = models.STRATA[by]
        if column is not None and curves.strata.nunique() == 1:
            continue  # the curve of everyone together, audited as "none"
        mirrors = column if column in monitor.endings else None
        stratum_of = (
            dict(zip(_monitor_values(frame[column]), curves.strata, strict=True)) if mirrors else {}
        )
        facts = curve_facts(curves)
        if absent:
            facts.loc[ABSENT] = [0.0, 0.0, float(absent)]
        scored = frozenset()
        if by in BASELINE_FORM_ROLE:
            has = frame[column].notna().groupby(curves.strata.to_numpy()).all()
            scored = frozenset(has.index[has])
        out[by] = Stratification(
            facts,
            mirrors=mirrors,
            stratum_of=stratum_of,
            submitted=BASELINE_FORM_ROLE.get(by),
            scored=scored,
        )
    return out


def _released_view(
    survival_frame: pd.DataFrame, by: str, release: SurvivalRelease, language: str
) -> SurvivalView:
    released = release.curves[by if by in release.curves else "none"]
    data = survival_frame.assign(
        duration_days=released.durations,
        event=released.events,
        stratum=released.strata if by != "none" else EVERYONE_STRATUM[language],
    )
    # the released times are whole months and every step rests on >= min_size: no cut needed
    found = models.stratum_curves(data, language, min_at_risk=0)
    test = None
    if found.logrank is not None:
        test = found.logrank[[c for c in ("test_statistic", "df", "p") if c in found.logrank]]
    return SurvivalView(
        found.curves, test, found.n, found.events, True, found.refused, release.min_size
    )


def km_view_figure(
    view: SurvivalView, *, language: str = "nl", rows_allowed: bool = True, min_cell: int = 10
) -> go.Figure:
    """The KM figure of a :class:`SurvivalView`, in months, with numbers at risk below.

    For viewers every number at risk under ``min_cell`` (in the table and in the hover text)
    reads ``"<min_cell"``.
    """
    fig = figures.km_figure(view.curves, time_scale=models.DAYS_PER_MONTH, lang=language)
    if rows_allowed:
        return fig
    for trace in fig.data:
        name = str(trace.name or "")
        if name.endswith(" at risk") and trace.text is not None:
            trace.text = [small(int(v), min_cell) if str(v).isdigit() else v for v in trace.text]
        elif trace.customdata is not None and trace.mode == "lines":
            data = np.asarray(trace.customdata, dtype=object)
            if data.ndim == 2 and data.shape[1] >= 3:
                data[:, 2] = [small(int(v), min_cell) for v in data[:, 2]]
                trace.customdata = data
    return fig


# -- trajectories ----------------------------------------------------------------------------


def model_figure(predicted: pd.DataFrame, *, language: str = "nl") -> go.Figure:
    """Model-estimated trajectories with their intervals, one line per alliance level.

    The axis is the capability count's range (0–7); an interval reaching past it is cut at the
    edge and marked with an arrow.
    """
    low, high = models.CAPABILITY_RANGE
    marked = False
    fig = go.Figure()
    for i, (group, sub) in enumerate(predicted.groupby("group", sort=False)):
        colour = figures.PALETTE[i % len(figures.PALETTE)]
        cut = figures.clip_interval(sub["estimate"], sub["lower"], sub["upper"], low, high)
        fig.add_trace(
            go.Scatter(
                x=sub["months"],
                y=cut["estimate"],
                mode="lines+markers",
                name=str(group),
                line={"color": colour},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": np.nan_to_num(cut["upper"] - cut["estimate"], nan=0.0),
                    "arrayminus": np.nan_to_num(cut["estimate"] - cut["lower"], nan=0.0),
                },
            )
        )
        marks = figures.clipped_marks(sub["months"], cut, low=low, high=high, lang=language)
        if marks is not None:
            # one legend entry for the arrows of every line
            fig.add_trace(marks.update(showlegend=not marked, legendgroup="clipped"))
            marked = True
    pad = 0.03 * (high - low)
    fig.update_layout(
        template="plotly_white",
        xaxis_title=figures.TEXT["time_months"][language],
        yaxis_title={"nl": "Aantal capabilities (0-7)", "en": "Number of capabilities (0-7)"}[
            language
        ],
        yaxis_range=[low - pad, high + pad],
        legend_title={"nl": "werkalliantie", "en": "working alliance"}[language],
    )
    return fig


def trajectory_view_figure(
    long: pd.DataFrame,
    *,
    language: str = "nl",
    individual: bool = False,
    lines: Collection[int] | None = None,
    rows_allowed: bool = True,
    min_cell: int = 10,
) -> go.Figure:
    """Mean capability count per wave (95% t-interval), with individual lines when allowed.

    ``lines`` limits the individual lines to these trajectory ids (all when None); the means
    always use every trajectory. For viewers waves with fewer than ``min_cell`` answers are left
    out and no individual line is drawn, whatever ``individual`` says.
    """
    data = long
    if not rows_allowed:
        counts = data.groupby("wave_months")["capability_count"].transform("count")
        data = data[counts >= min_cell]
        individual = False
    y_label = {"nl": "Aantal capabilities (0-7)", "en": "Number of capabilities (0-7)"}[language]
    means = figures.trajectory_figure(
        data,
        "capability_count",
        x="wave_months",
        lang=language,
        y_label=y_label,
        y_range=models.CAPABILITY_RANGE,
    )
    means.update_xaxes(title_text=figures.TEXT["time_months"][language])
    if not rows_allowed:
        # the number of answers per wave, exact, would be a sum of monitor cells; so would a
        # mean in full precision (343/101 gives 101 back)
        for trace in means.data:
            if trace.customdata is not None:
                trace.customdata = [viewer_count(int(c), min_cell) for c in trace.customdata]
            if trace.y is not None:
                trace.y = coarse_means(trace.y)
            for key in ("array", "arrayminus"):
                if trace.error_y is not None and trace.error_y[key] is not None:
                    trace.error_y[key] = coarse_means(trace.error_y[key])
    if not individual:
        return means
    drawn = data if lines is None else data[data["trajectory_id"].isin(list(lines))]
    persons = figures.trajectory_figure(
        drawn, "capability_count", x="wave_months", individual=True, lang=language
    )
    behind = [trace for trace in persons.data if trace.name == "individual"]
    return go.Figure(data=[*behind, *means.data], layout=means.layout)


# -- data quality ----------------------------------------------------------------------------


def alpha_table(
    items: pd.DataFrame,
    scales: Mapping[str, Mapping[str, Sequence[str]]],
    *,
    rows_allowed: bool = True,
    min_cell: int = 10,
) -> pd.DataFrame:
    """Cronbach's alpha (Feldt 95% interval) per instrument, scale and wave.

    Returns
    -------
    DataFrame
        instrument_id, wave, scale, alpha, lower, upper, n, k; for viewers only rows with
        n >= ``min_cell``.
    """
    table = models.reliability(items, scales)
    if not rows_allowed:
        table = table[table["n"] >= min_cell].reset_index(drop=True)
    return table


def missingness_table(
    items: pd.DataFrame,
    expected: Mapping[str, Sequence[str]],
    *,
    rows_allowed: bool = True,
    min_cell: int = 10,
) -> pd.DataFrame:
    """Share of submitted responses that left each item unanswered, per instrument and wave.

    Parameters
    ----------
    items : DataFrame
        A ``RESPONSE_ITEMS`` frame (answered items only, as stored).
    expected : mapping of str to sequence of str
        Instrument id -> its answerable item ids (skipped-by-design items count as missing too).

    Returns
    -------
    DataFrame
        instrument_id, wave, item_id, responses, answered, missing, missing_share; sorted by
        missing_share (highest first). For viewers only rows with responses >= ``min_cell``.
    """
    columns = [
        "instrument_id",
        "wave",
        "item_id",
        "responses",
        "answered",
        "missing",
        "missing_share",
    ]
    if items.empty:
        return pd.DataFrame(columns=columns)
    responses = (
        items.groupby(["instrument_id", "wave"])["response_id"].nunique().rename("responses")
    )
    grid = pd.DataFrame(
        [(i, it) for i, its in expected.items() for it in its], columns=["instrument_id", "item_id"]
    )
    grid = grid.merge(responses.reset_index(), on="instrument_id")
    answered = (
        items.dropna(subset=["value"])
        .groupby(["instrument_id", "wave", "item_id"])["response_id"]
        .nunique()
        .rename("answered")
    )
    text_answers = items[items["value"].isna()]
    out = grid.merge(
        answered.reset_index(), on=["instrument_id", "wave", "item_id"], how="left"
    ).fillna({"answered": 0})
    if len(text_answers):
        # non-numeric answers (e.g. multiple choice) were given, not missing
        extra = (
            text_answers.groupby(["instrument_id", "wave", "item_id"])["response_id"]
            .nunique()
            .rename("text")
        )
        out = out.merge(extra.reset_index(), on=["instrument_id", "wave", "item_id"], how="left")
        out["answered"] = out["answered"] + out.pop("text").fillna(0)
    out["answered"] = out["answered"].astype(int)
    out["missing"] = out["responses"] - out["answered"]
    out["missing_share"] = out["missing"] / out["responses"]
    if not rows_allowed:
        out = out[out["responses"] >= min_cell]
    return (
        out[columns]
        .sort_values(["missing_share", "instrument_id", "item_id"], ascending=[False, True, True])
        .reset_index(drop=True)
    )


def timeliness_table(
    person_wave: pd.DataFrame, *, rows_allowed: bool = True, min_cell: int = 10
) -> pd.DataFrame:
    """Out-of-window (late) responses per wave and respondent.

    A response is late when it came in after the first reminder (due date + 7 days), as the
    read model's ``status`` says.

    Returns
    -------
    DataFrame
        wave, respondent, responded, on_time, late, late_share, median_days_after_due
        (of the late ones), missing. For viewers only rows with responded >= ``min_cell``.
    """
    columns = [
        "wave",
        "respondent",
        "responded",
        "on_time",
        "late",
        "late_share",
        "median_days_after_due",
        "missing",
    ]
    if person_wave.empty:
        return pd.DataFrame(columns=columns)
    inv = person_wave.drop_duplicates(["trajectory_id", "wave", "respondent", "instrument_id"])
    inv = inv.assign(days_after_due=(inv["submitted_at"].dt.normalize() - inv["due_date"]).dt.days)
    rows = []
    for (wave, respondent), sub in inv.groupby(["wave", "respondent"]):
        late = sub[sub["status"] == "late"]
        on_time = int((sub["status"] == "on_time").sum())
        responded = on_time + len(late)
        rows.append(
            {
                "wave": wave,
                "respondent": respondent,
                "responded": responded,
                "on_time": on_time,
                "late": len(late),
                "late_share": len(late) / responded if responded else np.nan,
                "median_days_after_due": float(late["days_after_due"].median())
                if len(late)
                else np.nan,
                "missing": int((sub["status"] == "missing").sum()),
            }
        )
    table = pd.DataFrame(rows, columns=columns)
    if not rows_allowed:
        table = table[table["responded"] >= min_cell]
    return models.wave_sorted(table, ["respondent"])


def alpha_figure(table: pd.DataFrame, *, language: str = "nl") -> go.Figure:
    """Alpha per scale (rows) and wave (colour) with the Feldt interval and a line at 0.70;
    horizontal, so that scales named in words stay readable."""
    fig = go.Figure()
    names = table["instrument_id"].astype(str) + ": " + table["scale"].astype(str)
    for i, (wave, sub) in enumerate(table.assign(name=names).groupby("wave", sort=False)):
        fig.add_trace(
            go.Bar(
                y=sub["name"],
                x=sub["alpha"],
                orientation="h",
                name=str(wave),
                marker_color=figures.PALETTE[i % len(figures.PALETTE)],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": sub["upper"] - sub["alpha"],
                    "arrayminus": sub["alpha"] - sub["lower"],
                },
                customdata=sub["n"],
                hovertemplate="%{y}: %{x:.2f}, n=%{customdata}<extra>" + str(wave) + "</extra>",
            )
        )
    fig.add_vline(x=0.7, line_dash="dash", line_color="grey")
    fig.update_layout(
        barmode="group",
        template="plotly_white",
        xaxis_title="Cronbach's α",
        xaxis_range=[0, 1.05],
        yaxis={"title": None, "autorange": "reversed"},
        height=160 + 12 * len(table),
        margin={"l": 10},
    )
    return fig
