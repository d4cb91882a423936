from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import attrition, figures, survival
from analysis.frames import person_wave_wide


def test_km_figure_has_band_line_and_at_risk_per_group(survival_frame):
    curves = survival.kaplan_meier(survival_frame, "duration_days", "event", by="coach_type")
    fig = figures.km_figure(curves, time_scale=30.4375, at_risk_times=[0, 6, 12], lang="en")
    names = [t.name for t in fig.data]
    for group in ("internal", "external"):
        assert {group, f"{group} CI", f"{group} at risk"} <= set(names)
    line = next(t for t in fig.data if t.name == "internal")
    assert line.line.shape == "hv"
    sub = curves[curves["group"] == "internal"]
    np.testing.assert_allclose(line.x, sub["time"] / 30.4375)
    at_risk = next(t for t in fig.data if t.name == "internal at risk")
    assert at_risk.text[0] == str(int((survival_frame["coach_type"] == "internal").sum()))
    assert at_risk.yaxis == "y2"
    assert fig.layout.yaxis.title.text == "Still in work"


def test_km_figure_dutch_labels(survival_frame):
    curves = survival.kaplan_meier(survival_frame, "duration_days", "event")
    fig = figures.km_figure(curves)
    assert fig.layout.yaxis.title.text == "Nog aan het werk"
    assert fig.layout.xaxis2.title.text == "Maanden sinds start"


def test_forest_plot_error_bars(survival_frame):
    result = survival.cox(
        survival_frame, "duration_days", "event", ["baseline_klik", "contact_minutes_per_month"]
    )
    fig = figures.forest_plot(result.summary)
    trace = fig.data[0]
    s = result.summary.iloc[::-1]
    np.testing.assert_allclose(trace.x, s["hr"])
    np.testing.assert_allclose(np.array(trace.error_x.array) + trace.x, s["hr_upper"])
    np.testing.assert_allclose(trace.x - np.array(trace.error_x.arrayminus), s["hr_lower"])
    assert fig.layout.xaxis.type == "log"


def test_trajectory_figure_means_and_individual_lines(person_wave):
    wide = person_wave_wide(person_wave, respondent="employee")
    fig = figures.trajectory_figure(wide, "capability_count", individual=True)
    individual = [t for t in fig.data if t.name == "individual"]
    assert len(individual) == wide.dropna(subset=["capability_count"])["trajectory_id"].nunique()
    mean = fig.data[-1]
    expected = wide.groupby("months")["capability_count"].mean()
    np.testing.assert_allclose(mean.y, expected.to_numpy())
    assert list(mean.customdata) == wide.groupby("months")["capability_count"].count().tolist()


def test_trajectory_figure_by_group(person_wave):
    wide = person_wave_wide(person_wave)
    fig = figures.trajectory_figure(wide, "klik", by="respondent")
    assert [t.name for t in fig.data] == ["employee", "jobcoach"]


def test_response_rate_figure(person_wave):
    rates = attrition.response_rates(person_wave)
    fig = figures.response_rate_figure(rates, lang="en")
    assert [t.name for t in fig.data] == ["employee", "jobcoach"]
    employee = rates[rates["respondent"] == "employee"]
    assert list(fig.data[0].y) == pytest.approx(employee["rate"].tolist())
    assert fig.data[0].text[0] == f"{employee['responded'].iloc[0]}/{employee['invited'].iloc[0]}"
    nl = figures.response_rate_figure(rates)
    assert nl.data[0].name == "werknemer"


def test_km_figure_empty_curve():
    empty = survival.kaplan_meier(
        pd.DataFrame({"t": pd.Series([], dtype=float), "e": pd.Series([], dtype=int)}), "t", "e"
    )
    assert len(figures.km_figure(empty).data) == 0


def _drawn_x_interval(trace) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(trace.x, dtype=float)
    return x - np.asarray(trace.error_x.arrayminus), x + np.asarray(trace.error_x.array)


def test_forest_plot_cuts_intervals_at_the_axis_and_marks_them():
    summary = pd.DataFrame(
        {
            "term": ["klik", "intensity", "match"],
            "hr": [0.8, 2_586_236.0, 1.3],
            "hr_lower": [0.6, 1e-3, 0.05],
            "hr_upper": [1.1, 1e15, 1.9],
        }
    )
    fig = figures.forest_plot(summary, lang="nl")
    axis = 10 ** np.asarray(fig.layout.xaxis.range)
    hr = fig.data[0]
    lower, upper = _drawn_x_interval(hr)
    drawn = np.isfinite(np.asarray(hr.x, dtype=float))
    assert (lower[drawn] >= axis[0]).all() and (upper[drawn] <= axis[1]).all()
    assert axis[0] >= 0.01 / 1.5 and axis[1] <= 100 * 1.5
    # the absurd ratio is not drawn, and its term says why
    labels = list(hr.y)
    assert not drawn[labels.index("intensity (schatting buiten de as)")]
    marks = next(t for t in fig.data if t.name == "interval afgekapt aan de rand van de as")
    assert (np.asarray(marks.x) >= axis[0]).all() and (np.asarray(marks.x) <= axis[1]).all()
    # cut: intensity at both ends; the axis widened to 0.01 holds match's interval whole
    assert list(marks.y) == ["intensity (schatting buiten de as)"] * 2
    np.testing.assert_allclose([lower[labels.index("match")], upper[labels.index("match")]],
                               [0.05, 1.9])  # fmt: skip
    # an ordinary model is drawn as it is
    plain = figures.forest_plot(summary.iloc[[0]])
    assert len(plain.data) == 1
    np.testing.assert_allclose(_drawn_x_interval(plain.data[0]), [[0.6], [1.1]])


def test_trajectory_figure_keeps_intervals_on_the_scale():
    # two answers per wave far apart: the t-interval (df 1) runs far beyond 0-7
    frame = pd.DataFrame(
        {
            "trajectory_id": [1, 2, 1, 2, 3, 4, 5],
            "months": [0, 0, 3, 3, 3, 3, 3],
            "capability_count": [0.0, 7.0, 3.0, 4.0, 3.0, 4.0, 3.5],
        }
    )
    unbounded = figures.trajectory_figure(frame, "capability_count")
    assert unbounded.data[0].error_y.array[0] > 7
    fig = figures.trajectory_figure(frame, "capability_count", y_range=(0.0, 7.0), lang="en")
    mean = fig.data[0]
    y = np.asarray(mean.y, dtype=float)
    lower = y - np.asarray(mean.error_y.arrayminus)
    upper = y + np.asarray(mean.error_y.array)
    assert (lower >= 0).all() and (upper <= 7).all()
    axis = fig.layout.yaxis.range
    assert axis[0] <= 0 and axis[1] >= 7 and axis[1] - axis[0] < 7.5
    marks = next(t for t in fig.data if t.name == "interval cut at the edge of the axis")
    assert sorted(marks.y) == [0.0, 7.0] and list(marks.x) == [0, 0]
    # the hover keeps the interval as computed
    assert marks.customdata[0][0] < -30 and marks.customdata[0][1] > 30
    # the 3-month interval is inside the scale and not marked
    assert upper[1] == pytest.approx(y[1] + unbounded.data[0].error_y.array[1])
