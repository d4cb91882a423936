"""The cohort monitor: counts from the read-model frames, then tables and figures.

:func:`monitor_job` reads the frames and reduces them to :class:`MonitorData` in the
background (a large cohort takes many seconds); :func:`monitor_view` turns that into the page
for one language and the viewer's minimum cell size ``k`` (0 means no suppression). The other
functions are the pure builders both use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from analysis.attrition import invitations, response_rates
from dashboard.disclosure import (
    HIDDEN_MARK,
    ProtectedCounts,
    breakdown,
    protect_release,
)
from dashboard.disclosure_audit import MonitorTables
from dashboard.i18n import fmt_pct, label_of
from dashboard.jobs import Progress
from dashboard.tables import kpi, table
from study.access import CohortFilter
from study.read_models import completeness_frame
from study.report_data import monitor_frames
from study.vocab import Benefit, CoachType, EndReason, Method, Respondent

STATUS_COLUMNS = ("on_time", "late", "missing", "open")
STATUS_LABELS = {
    "on_time": {"nl": "Op tijd", "en": "On time"},
    "late": {"nl": "Te laat", "en": "Late"},
    "missing": {"nl": "Gemist", "en": "Missed"},
    "open": {"nl": "Open", "en": "Open"},
}
T = {
    "title": {"nl": "Cohortmonitor", "en": "Cohort monitor"},
    "trajectories": {"nl": "Trajecten", "en": "Trajectories"},
    "active": {"nl": "Lopend", "en": "Ongoing"},
    "response": {"nl": "Respons (gesloten metingen)", "en": "Response (closed waves)"},
    "overdue": {"nl": "Achterstallig (open, na vervaldatum)", "en": "Overdue (open, past due)"},
    "enrolment": {"nl": "Instroom per {period}", "en": "Enrolment per {period}"},
    "month": {"nl": "maand", "en": "month"},
    "quarter": {"nl": "kwartaal", "en": "quarter"},
    "new": {"nl": "Nieuwe trajecten", "en": "New trajectories"},
    "cumulative": {"nl": "Totaal", "en": "Total"},
    "completion": {"nl": "Vragenlijsten per meting en rol", "en": "Forms per wave and role"},
    "wave": {"nl": "Meting", "en": "Wave"},
    "role": {"nl": "Rol", "en": "Role"},
    "rate": {"nl": "Respons", "en": "Response"},
    "attrition": {"nl": "Uitstroom en uitval", "en": "Endings and attrition"},
    "completeness": {
        "nl": "Volledigheid van de ingevulde vragenlijsten",
        "en": "Completeness of the forms sent in",
    },
    "completeness_note": {
        "nl": "Volledig: elke vraag die de invuller kon beantwoorden is beantwoord. Gedeeltelijk: "
        "een of meer vragen open gelaten. Onbekend: verzonden voordat dit werd vastgelegd.",
        "en": "Complete: every question the respondent could answer was answered. Partial: one "
        "or more questions left open. Unknown: sent before this was recorded.",
    },
    "sent_in": {"nl": "Ingevuld", "en": "Sent in"},
    "complete": {"nl": "Volledig", "en": "Complete"},
    "partial": {"nl": "Gedeeltelijk", "en": "Partial"},
    "unknown_completeness": {"nl": "Onbekend", "en": "Unknown"},
    "median_answered": {"nl": "Beantwoord (mediaan)", "en": "Answered (median)"},
    "end_reason": {"nl": "Stand", "en": "Status"},
    "n": {"nl": "Aantal", "en": "Number"},
    "still_active": {"nl": "Loopt nog", "en": "Still ongoing"},
    "overdue_list": {"nl": "Achterstallige vragenlijsten", "en": "Overdue forms"},
    "oldest": {"nl": "De {shown} oudste van {n}.", "en": "The {shown} oldest of {n}."},
    "study_code": {"nl": "Studiecode", "en": "Study code"},
    "due": {"nl": "Vervaldatum", "en": "Due"},
    "days": {"nl": "Dagen te laat", "en": "Days overdue"},
    "suppressed_note": {
        "nl": "× = verborgen: een cel met minder dan {k} personen, of een cel waaruit zo'n cel af "
        "te leiden is (ook door selecties van elkaar af te trekken).",
        "en": "× = hidden: a cell of fewer than {k} people, or a cell from which such a cell "
        "could be derived (also by subtracting selections from one another).",
    },
    "empty": {"nl": "Nog geen gegevens.", "en": "No data yet."},
    "hidden": {"nl": "verborgen", "en": "hidden"},
    "one_selection": {
        "nl": "Als kijker kiest u één waarde van één kenmerk tegelijk (of niets, voor de hele "
        "studie): overlappende selecties zouden samen kleine groepen kunnen onthullen.",
        "en": "As a viewer you choose one value of one characteristic at a time (or nothing, for "
        "the whole study): overlapping selections could together reveal small groups.",
    },
}


def _t(key: str, lang: str, **kw: object) -> str:
    return T[key][lang].format(**kw)


def cohort_filter(
    organisations: object, coach_types: object, methods: object, benefits: object
) -> CohortFilter:
    """A :class:`CohortFilter` from dropdown values; anything that is not a known value is dropped.

    Callback inputs can be crafted, so nothing passes unchecked.
    """

    def listed(value: object) -> list[object]:
        if value is None:
            return []
        return list(value) if isinstance(value, list | tuple) else [value]

    def known(values: object, allowed: set[str]) -> tuple[str, ...]:
        return tuple(sorted({str(v) for v in listed(values) if str(v) in allowed}))

    org_ids = tuple(
        sorted(
            {int(v) for v in listed(organisations) if isinstance(v, int | str) and str(v).isdigit()}
        )
    )
    return CohortFilter(
        organisation_ids=org_ids,
        coach_types=known(coach_types, {m.value for m in CoachType}),
        methods=known(methods, {m.value for m in Method}),
        benefits=known(benefits, {m.value for m in Benefit}),
    )


def enrolment_counts(trajectories: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """New trajectories per calendar period of their start date.

    Returns
    -------
    DataFrame
        period (str, e.g. ``2026-01`` or ``2026Q1``), n, cumulative.
    """
    if trajectories.empty:
        return pd.DataFrame({"period": [], "n": [], "cumulative": []})
    periods = trajectories["start_date"].dt.to_period(freq)
    full = pd.period_range(periods.min(), periods.max(), freq=freq)
    n = periods.value_counts().reindex(full, fill_value=0).sort_index()
    return pd.DataFrame(
        {"period": n.index.astype(str), "n": n.to_numpy(), "cumulative": n.cumsum().to_numpy()}
    )


def status_counts(person_wave: pd.DataFrame) -> pd.DataFrame:
    """Invitations per wave and respondent by status (on_time, late, missing, open).

    Returns
    -------
    DataFrame
        wave, wave_index, respondent, on_time, late, missing, open.
    """
    cols = ["wave", "wave_index", "respondent", *STATUS_COLUMNS]
    if person_wave.empty:
        return pd.DataFrame(columns=cols)
    rates = response_rates(person_wave, by=("wave", "respondent"))
    return rates[cols].reset_index(drop=True)


def completion_table(counts: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The per-wave-and-role table as shown: the counts (NaN where hidden) and the response
    rate, shown only where every count it uses is shown."""
    shown_cols = [STATUS_LABELS[s][lang] for s in STATUS_COLUMNS]
    heads = [_t("wave", lang), _t("role", lang), *shown_cols, _t("rate", lang)]
    if counts.empty:
        return pd.DataFrame(columns=heads)
    cells = counts[list(STATUS_COLUMNS)].astype(float)
    closed = cells["on_time"] + cells["late"] + cells["missing"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (cells["on_time"] + cells["late"]) / closed.replace(0, np.nan)
    out = pd.DataFrame(
        {
            heads[0]: counts["wave"].to_numpy(),
            heads[1]: [label_of(Respondent, r, lang) for r in counts["respondent"]],
        }
    )
    for col, head in zip(STATUS_COLUMNS, shown_cols, strict=True):
        out[head] = cells[col].to_numpy()
    out[heads[-1]] = [fmt_pct(v, lang) if v == v else "–" for v in rate.to_numpy()]
    return out


def end_reason_counts(trajectories: pd.DataFrame) -> pd.Series:
    """Trajectories still ongoing (``__active__``) and ended per reason, every reason listed."""
    reasons = trajectories["end_reason"].fillna(ACTIVE)
    order = [ACTIVE, *[m.value for m in EndReason]]
    return reasons.value_counts().reindex(order, fill_value=0)


def endings(reasons: pd.Series, lang: str) -> pd.DataFrame:
    """Trajectories still ongoing and ended per reason (competing outcomes).

    Parameters
    ----------
    reasons : Series
        :func:`end_reason_counts` (NaN where hidden).

    Returns
    -------
    DataFrame
        two columns: the status label and the number.
    """
    labels = [
        _t("still_active", lang) if r == ACTIVE else label_of(EndReason, r, lang)
        for r in reasons.index
    ]
    return pd.DataFrame({_t("end_reason", lang): labels, _t("n", lang): reasons.to_numpy()})


def overdue_forms(
    person_wave: pd.DataFrame, trajectories: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """Open invitations past their due date, oldest first.

    Returns
    -------
    DataFrame
        study_code, wave, respondent, due_date, days_overdue.
    """
    cols = ["study_code", "wave", "respondent", "due_date", "days_overdue"]
    if person_wave.empty:
        return pd.DataFrame(columns=cols)
    inv = person_wave.drop_duplicates(["trajectory_id", "wave", "respondent", "instrument_id"])
    late = inv[(inv["status"] == "open") & (inv["due_date"] < pd.Timestamp(as_of))]
    late = late.merge(trajectories[["trajectory_id", "study_code"]], on="trajectory_id")
    late = late.assign(days_overdue=(pd.Timestamp(as_of) - late["due_date"]).dt.days)
    return late.sort_values("days_overdue", ascending=False)[cols].reset_index(drop=True)


def enrolment_figure(counts: pd.DataFrame, lang: str, *, cumulative: bool) -> go.Figure:
    """Bars of new trajectories per period (NaN bars are suppressed), optionally the running total."""
    fig = go.Figure()
    fig.add_bar(x=counts["period"], y=counts["n"], name=_t("new", lang), marker_color="#0b6e4f")
    if cumulative:
        fig.add_scatter(
            x=counts["period"], y=counts["cumulative"], name=_t("cumulative", lang),
            mode="lines+markers", yaxis="y2", line={"color": "#b44d12"},
        )  # fmt: skip
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero"})
    fig.update_layout(
        margin={"l": 40, "r": 40, "t": 10, "b": 40}, height=280, plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2}, xaxis={"type": "category"},
        yaxis={"rangemode": "tozero", "gridcolor": "#eee", "tickformat": ",d"},
    )  # fmt: skip
    if cumulative:
        fig.update_layout(yaxis2={"tickformat": ",d", "showgrid": False})
    return fig


def response_figure(counts: pd.DataFrame, lang: str) -> go.Figure:
    """Response rate per wave, one line per respondent role (closed invitations only)."""
    fig = go.Figure()
    if not counts.empty:
        closed = counts["on_time"] + counts["late"] + counts["missing"]
        rate = (counts["on_time"] + counts["late"]) / closed.replace(0, np.nan)
        frame = counts.assign(rate=rate).sort_values("wave_index")
        for role, part in frame.groupby("respondent", sort=False):
            fig.add_scatter(
                x=part["wave"], y=part["rate"], name=label_of(Respondent, role, lang),
                mode="lines+markers",
            )  # fmt: skip
    fig.update_layout(
        margin={"l": 40, "r": 10, "t": 10, "b": 40}, height=280, plot_bgcolor="white",
        yaxis={"range": [0, 1.05], "tickformat": ".0%", "gridcolor": "#eee"},
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return fig


#: overdue forms listed for researchers (the oldest first)
OVERDUE_SHOWN = 200


@dataclass(frozen=True)
class MonitorData:
    """The monitor's numbers for one selection, before protection and language.

    Attributes
    ----------
    n, active : int
        Trajectories, and those still ongoing.
    counts : DataFrame
        :func:`status_counts`.
    enrolment : dict
        :func:`enrolment_counts` per month (``"M"``) and per quarter (``"Q"``).
    end_reasons : Series
        :func:`end_reason_counts`.
    overdue : DataFrame
        The :data:`OVERDUE_SHOWN` oldest :func:`overdue_forms`.
    n_overdue : int
        All overdue forms.
    """

    n: int
    active: int
    counts: pd.DataFrame
    enrolment: dict[str, pd.DataFrame]
    end_reasons: pd.Series
    overdue: pd.DataFrame
    n_overdue: int
    completeness: pd.DataFrame | None = None


def completeness_counts(responses: pd.DataFrame) -> pd.DataFrame:
    """Per wave and role, the forms sent in: complete, partial, unknown and the median share
    of questions answered.

    Parameters
    ----------
    responses : DataFrame
        :func:`study.read_models.completeness_frame`.

    Returns
    -------
    DataFrame
        wave, respondent, sent_in, complete, partial, unknown, median_answered (0-1, NaN when
        unknown for all), in wave order.
    """
    columns = ["wave", "respondent", "sent_in", "complete", "partial", "unknown", "median_answered"]
    if responses.empty:
        return pd.DataFrame(columns=columns)
    answered = pd.to_numeric(responses["answered"], errors="coerce")
    applicable = pd.to_numeric(responses["applicable"], errors="coerce")
    known = applicable.notna()
    frame = responses.assign(
        known=known,
        complete=known & (answered >= applicable),
        share=(answered / applicable.where(applicable > 0)).where(known),
    )
    grouped = frame.groupby(["wave_index", "wave", "respondent"], sort=True)
    out = grouped.agg(
        sent_in=("known", "size"),
        complete=("complete", "sum"),
        known=("known", "sum"),
        median_answered=("share", "median"),
    ).reset_index()
    out["partial"] = out["known"] - out["complete"]
    out["unknown"] = out["sent_in"] - out["known"]
    return out[columns].astype({"sent_in": int, "complete": int, "partial": int, "unknown": int})


def monitor_data(
    trajectories: pd.DataFrame,
    person_wave: pd.DataFrame,
    *,
    as_of: dt.date,
    responses: pd.DataFrame | None = None,
) -> MonitorData:
    """Reduce the frames of one selection to what the monitor shows (``responses``:
    :func:`study.read_models.completeness_frame`, for researchers)."""
    overdue = overdue_forms(person_wave, trajectories, as_of)
    empty = trajectories.empty
    return MonitorData(
        n=len(trajectories),
        active=int(trajectories["end_date"].isna().sum()) if not empty else 0,
        counts=status_counts(person_wave),
        enrolment={f: enrolment_counts(trajectories, f) for f in ("M", "Q")},
        end_reasons=end_reason_counts(trajectories),
        overdue=overdue.head(OVERDUE_SHOWN),
        n_overdue=len(overdue),
        completeness=None if responses is None else completeness_counts(responses),
    )


def monitor_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int = 0,
) -> Callable[[Progress], MonitorData]:
    """A background job that reads the selection and returns its :class:`MonitorData`."""
    del min_cell  # researchers only: viewers get viewer_monitor_job

    def run(progress: Progress) -> MonitorData:
        trajectories, person_wave = read_monitor_frames(read_sessions, scope, as_of, progress)
        with read_sessions() as session:
            responses = completeness_frame(session, scope, as_of=as_of)
        progress(0.8, "counting")
        return monitor_data(trajectories, person_wave, as_of=as_of, responses=responses)

    return run


def read_monitor_frames(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    progress: Progress,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    progress(0.05, "trajectories")
    with read_sessions() as session:
        return monitor_frames(session, scope, as_of)


def _body(
    kpis: list[html.Div],
    enrol_fig: go.Figure,
    period: str,
    counts: pd.DataFrame,
    reasons: pd.Series,
    *,
    lang: str,
    k: int,
) -> list:
    """Headline numbers, enrolment, response, the form table and the endings, as given."""
    return [
        html.Div(kpis, className="klik-kpis"),
        html.Div(
            [
                html.Div(
                    [
                        html.H2(_t("enrolment", lang, period=_t(period, lang))),
                        dcc.Graph(
                            figure=enrol_fig, config={"displaylogo": False}, id="monitor-enrolment"
                        ),
                    ],
                    className="klik-card",
                ),
                html.Div(
                    [
                        html.H2(_t("rate", lang)),
                        dcc.Graph(
                            figure=response_figure(counts, lang),
                            config={"displaylogo": False},
                            id="monitor-response",
                        ),
                    ],
                    className="klik-card",
                ),
            ],
            className="klik-grid-2",
        ),
        html.Div(
            [
                html.H2(_t("completion", lang)),
                table(completion_table(counts, lang), min_size=k, table_id="monitor-completion"),
            ],
            className="klik-card",
        ),
        html.Div(
            [
                html.H2(_t("attrition", lang)),
                table(endings(reasons, lang), min_size=k, table_id="monitor-endings"),
            ],
            className="klik-card",
        ),
    ]


def monitor_view(data: MonitorData, *, lang: str) -> html.Div:
    """The whole monitor of one selection for a researcher: headline numbers, enrolment,
    response, endings and the oldest overdue forms. (Viewers get :func:`viewer_monitor_view`.)"""
    if data.n == 0:
        return html.Div(html.P(_t("empty", lang), className="klik-muted"))
    counts = data.counts
    closed = counts[["on_time", "late", "missing"]].to_numpy().sum() if not counts.empty else 0
    responded = counts[["on_time", "late"]].to_numpy().sum() if not counts.empty else 0
    kpis = [
        kpi(str(data.n), _t("trajectories", lang)),
        kpi(str(data.active), _t("active", lang)),
        kpi(fmt_pct(responded / closed if closed else None, lang), _t("response", lang)),
        kpi(str(data.n_overdue), _t("overdue", lang)),
    ]
    enrol_fig = enrolment_figure(data.enrolment["M"], lang, cumulative=True)
    parts = _body(kpis, enrol_fig, "month", counts, data.end_reasons, lang=lang, k=0)
    if data.completeness is not None and not data.completeness.empty:
        parts.insert(3, completeness_card(data.completeness, lang))
    if not data.overdue.empty:
        shown = data.overdue.assign(
            respondent=lambda d: [label_of(Respondent, r, lang) for r in d["respondent"]],
            due_date=lambda d: d["due_date"].dt.strftime(
                "%d-%m-%Y" if lang == "nl" else "%Y-%m-%d"
            ),
        )
        heads = [_t(h, lang) for h in ("study_code", "wave", "role", "due", "days")]
        listed = html.P(
            _t("oldest", lang, shown=len(shown), n=data.n_overdue), className="klik-note"
        )
        parts.append(
            html.Div(
                [
                    html.H2(_t("overdue_list", lang)),
                    listed,
                    html.Div(table(shown, heads), className="klik-scroll"),
                ],
                className="klik-card",
            )
        )
    return html.Div(parts)


def completeness_card(counts: pd.DataFrame, lang: str) -> html.Div:
    """Researchers: complete and partial forms per wave and role (:func:`completeness_counts`)."""
    shown = counts.assign(
        respondent=[label_of(Respondent, r, lang) for r in counts["respondent"]],
        median_answered=[fmt_pct(v if v == v else None, lang) for v in counts["median_answered"]],
    )
    heads = [
        _t(h, lang)
        for h in ("wave", "role", "sent_in", "complete", "partial", "unknown_completeness",
                  "median_answered")
    ]  # fmt: skip
    return html.Div(
        [
            html.H2(_t("completeness", lang)),
            html.P(_t("completeness_note", lang), className="klik-note"),
            html.Div(table(shown, heads, table_id="monitor-completeness"), className="klik-scroll"),
        ],
        className="klik-card",
    )


# -- viewers ---------------------------------------------------------------------------------

#: the characteristics a viewer may select on -> their column in the trajectories frame
VIEWER_DIMENSIONS = {
    "organisation": "organisation_id",
    "coach_type": "coach_type",
    "method": "method",
    "benefit": "benefit",
}
UNKNOWN = "__unknown__"
ACTIVE = "__active__"
#: the cells of a wave's coverage table: people sent that wave's forms, and the others
SENT, NOT_SENT = "__sent__", "__not_sent__"


@dataclass(frozen=True)
class Selection:
    """What a viewer asked for: one value of one characteristic, or (None) the whole study."""

    dimension: str
    value: object


@dataclass(frozen=True)
class MonitorRelease:
    """Everything the monitor can show a viewer, protected together (see
    :func:`dashboard.disclosure.protect_release`).

    Attributes
    ----------
    tables : dict
        ``(table, dimension)`` -> ProtectedCounts for the tables ``enrolment`` (people per
        quarter of their start), ``endings`` (people ongoing and per end reason) and
        one table per wave and role of forms per status (named by :func:`completion_key`).
    k : int
        The minimum cell size.
    """

    tables: dict[tuple[str, str], ProtectedCounts]
    k: int

    def completion(self, selection: Selection | None) -> pd.DataFrame:
        """The form counts of a selection: wave_index, wave, respondent and the statuses (NaN:
        hidden), one row per wave and role."""
        rows = []
        for name in sorted({t for t, _d in self.tables if t.startswith("completion|")},
                           key=lambda t: (int(t.split("|")[1]), t)):  # fmt: skip
            _, wave_index, wave, role = name.split("|")
            cells, _ = self.row(name, selection)
            rows.append({"wave_index": int(wave_index), "wave": wave, "respondent": role,
                         **{s: cells[s] for s in STATUS_COLUMNS}})  # fmt: skip
        return pd.DataFrame(rows, columns=["wave_index", "wave", "respondent", *STATUS_COLUMNS])

    def row(self, table: str, selection: Selection | None) -> tuple[pd.Series, float]:
        """The cells and the total of ``table`` for a selection (NaN: hidden); a value not in
        the study is an empty row."""
        if selection is None:
            some = next(v for (t, _d), v in self.tables.items() if t == table)
            return some.col_totals, some.grand_total
        protected = self.tables[(table, selection.dimension)]
        if selection.value not in protected.cells.index:
            return pd.Series(0.0, index=protected.cells.columns), 0.0
        return (
            protected.cells.loc[selection.value],
            float(protected.row_totals.loc[selection.value]),
        )


def completion_key(wave_index: object, wave: object, role: object) -> str:
    """The name of one wave-and-role table of the form counts in a :class:`MonitorRelease`."""
    return f"completion|{int(wave_index)}|{wave}|{role}"


def monitor_release(
    trajectories: pd.DataFrame, person_wave: pd.DataFrame, *, k: int
) -> MonitorRelease:
    """The viewer's monitor for the whole study and every selection of one characteristic."""
    traj = trajectories.copy()
    for column in VIEWER_DIMENSIONS.values():
        traj[column] = traj[column].astype(object).where(traj[column].notna(), UNKNOWN)
    traj["quarter"] = traj["start_date"].dt.to_period("Q").astype(str)
    traj["ending"] = traj["end_reason"].astype(object).where(traj["end_reason"].notna(), ACTIVE)
    quarters = enrolment_counts(trajectories, "Q")["period"].tolist()
    endings_ = [ACTIVE, *[m.value for m in EndReason]]
    # the form table is one table per wave and role, its cells the statuses: each wave sends
    # every role the same number of forms by design, so a role's total is known from another's
    # and the totals of one wave share one key ("invited" at that wave)
    tables: list[tuple[pd.DataFrame, str, str, str, list, dict[object, str]]] = [
        (traj, "quarter", "enrolment", "people", quarters, {}),
        (traj, "ending", "endings", "people", endings_, {}),
    ]
    if not person_wave.empty:
        inv = invitations(person_wave)
        inv = inv[inv["status"].isin(STATUS_COLUMNS)].merge(traj, on="trajectory_id")
        for (wave_index, wave, role), part in inv.groupby(
            ["wave_index", "wave", "respondent"], sort=True
        ):
            name = completion_key(wave_index, wave, role)
            unit = f"invited:{wave_index}"
            tables.append((part, "status", name, unit, list(STATUS_COLUMNS), {}))
        # the people not (yet) sent a wave's forms are the people minus its forms: a table of
        # their own, whose other column is the forms' row totals, so the difference is protected
        for wave_index, part in inv.groupby("wave_index", sort=True):
            unit = f"invited:{wave_index}"
            sent = traj["trajectory_id"].isin(part["trajectory_id"])
            frame = traj.assign(coverage=np.where(sent, SENT, NOT_SENT))
            tables.append(
                (frame, "coverage", f"coverage|{wave_index}", "people", [SENT, NOT_SENT],
                 {SENT: unit})
            )  # fmt: skip
    parts = []
    for dimension, column in VIEWER_DIMENSIONS.items():
        values = sorted(traj[column].unique().tolist(), key=str)
        for frame, cell, table_, unit, columns, totals_of in tables:
            b = breakdown(
                frame.rename(columns={column: dimension}), dimension, cell,
                table=table_, unit=unit, cells=columns, values=values, totals_of=totals_of,
            )  # fmt: skip
            parts.append(b)
    return MonitorRelease(protect_release(parts, k), k)


def audit_tables(release: MonitorRelease) -> MonitorTables:
    """The tables of a release that survival curves can meet (see
    :mod:`dashboard.disclosure_audit`): people per end reason, and the first wave's forms per
    role, each by every characteristic."""
    forms: dict[str, dict[str, ProtectedCounts]] = {}
    for (name, dimension), counts in release.tables.items():
        if name.startswith("completion|0|"):
            forms.setdefault(name.split("|")[3], {})[dimension] = counts
    return MonitorTables(
        endings={d: release.tables[("endings", d)] for d in VIEWER_DIMENSIONS},
        baseline_forms=forms,
        event_cell=EndReason.JOB_LOSS.value,
        active_cell=ACTIVE,
    )


def viewer_monitor_job(
    read_sessions: sessionmaker[Session],
    scope: Select[tuple[int]],
    as_of: dt.date,
    *,
    min_cell: int,
) -> Callable[[Progress], MonitorRelease]:
    """A background job that reads the whole study and returns its :class:`MonitorRelease`."""

    def run(progress: Progress) -> MonitorRelease:
        trajectories, person_wave = read_monitor_frames(read_sessions, scope, as_of, progress)
        progress(0.6, "counting")
        return monitor_release(trajectories, person_wave, k=min_cell)

    return run


def viewer_selection(
    organisations: object, coach_types: object, methods: object, benefits: object
) -> Selection | None:
    """A viewer's selection from the monitor's dropdowns: at most one value of one characteristic.

    Raises
    ------
    ValueError
        When more than one characteristic or value is chosen (views that could be subtracted
        from one another are not answered).
    """
    f = cohort_filter(organisations, coach_types, methods, benefits)
    chosen = [
        (dimension, values)
        for dimension, values in (
            ("organisation", f.organisation_ids),
            ("coach_type", f.coach_types),
            ("method", f.methods),
            ("benefit", f.benefits),
        )
        if values
    ]
    if not chosen:
        return None
    if len(chosen) > 1 or len(chosen[0][1]) > 1:
        raise ValueError("one value of one characteristic")
    dimension, values = chosen[0]
    return Selection(dimension, values[0])


def _hidden_bar_figure(periods: list[str], values: pd.Series, k: int, lang: str) -> go.Figure:
    """Enrolment bars for a viewer: hidden quarters as hatched bars marked as hidden."""
    shown = values.where(values.notna())
    hidden = values.isna()
    fig = go.Figure()
    fig.add_bar(x=periods, y=shown.to_numpy(), name=_t("new", lang), marker_color="#0b6e4f")
    if hidden.any():
        fig.add_bar(
            x=[p for p, h in zip(periods, hidden, strict=True) if h],
            y=[k] * int(hidden.sum()),
            name=_t("hidden", lang),
            text=[HIDDEN_MARK] * int(hidden.sum()),
            textposition="inside",
            hovertemplate=_t("hidden", lang) + "<extra></extra>",
            marker={"color": "white", "line": {"color": "#6b6b6b", "width": 1},
                    "pattern": {"shape": "/", "fgcolor": "#6b6b6b"}},
        )  # fmt: skip
    fig.update_layout(
        margin={"l": 40, "r": 10, "t": 10, "b": 40}, height=280, plot_bgcolor="white",
        barmode="overlay", legend={"orientation": "h", "y": -0.2}, xaxis={"type": "category"},
        yaxis={"rangemode": "tozero", "gridcolor": "#eee", "tickformat": ",d"},
    )  # fmt: skip
    return fig


def viewer_monitor_view(
    release: MonitorRelease, selection: Selection | None, *, lang: str
) -> html.Div:
    """The monitor for a viewer: every number a cell of the protected release."""
    k = release.k
    enrol, n = release.row("enrolment", selection)
    ends, _ = release.row("endings", selection)
    if n == 0:
        return html.Div(html.P(_t("empty", lang), className="klik-muted"))

    def count_text(value: float) -> str:
        return HIDDEN_MARK if value != value else f"{int(value)}"

    counts = release.completion(selection)
    closed = counts[["on_time", "late", "missing"]].to_numpy(dtype=float)
    responded = counts[["on_time", "late"]].to_numpy(dtype=float)
    known = closed.size and not np.isnan(closed).any() and closed.sum() > 0
    rate = responded.sum() / closed.sum() if known else None
    kpis = [
        kpi(count_text(n), _t("trajectories", lang)),
        kpi(count_text(ends.get(ACTIVE, np.nan)), _t("active", lang)),
        kpi(fmt_pct(rate, lang) if rate is not None else HIDDEN_MARK, _t("response", lang)),
    ]
    enrol_fig = _hidden_bar_figure(list(enrol.index), enrol, k, lang)
    parts = _body(kpis, enrol_fig, "quarter", counts, ends, lang=lang, k=k)
    parts.append(html.P(_t("suppressed_note", lang, k=k), className="klik-note"))
    return html.Div(parts)
